"""Golden values for the style-transfer costs, computed by PyTorch in float64 (run offline; writes style.npz).

Usage: python make_style_golden.py   (needs torch, numpy)

A two-layer network a1 = relu(conv3x3(x; w1, b1)) [4 channels], a2 = relu(conv3x3(avgpool2(a1); w2, b2))
[6 channels], "same" padding, on images C, S, G [1, 3, 16, 16] in [0, 1]. Stored: the Gram matrix of a1(G),
the content cost ½‖a2(C) − a2(G)‖², the style costs of both layers with the notes' 1/(2·n_H·n_W·n_C)²,
the squared anisotropic total variation of G, and J = α·content + β·(λ1·style1 + λ2·style2) + γ·TV with its
gradient with respect to G (α = 0.7, β = 50, λ = (0.25, 0.75), γ = 0.01), and the gradients of the content,
weighted style and TV terms alone (the style term is small in J, so its gradient is checked on its own).
"""
import os
import numpy as np
import torch
import torch.nn.functional as F

torch.manual_seed(4)
d = torch.float64
C, S, G = (torch.rand(1, 3, 16, 16, dtype=d) for _ in range(3))
w1, b1 = torch.randn(4, 3, 3, 3, dtype=d) * 0.4, torch.randn(4, dtype=d) * 0.1
w2, b2 = torch.randn(6, 4, 3, 3, dtype=d) * 0.3, torch.randn(6, dtype=d) * 0.1


def net(x):
    a1 = F.relu(F.conv2d(x, w1, b1, padding=1))
    a2 = F.relu(F.conv2d(F.avg_pool2d(a1, 2), w2, b2, padding=1))
    return a1, a2


def gram(a):
    c = a.shape[1]
    m = a.reshape(c, -1)
    return m @ m.t()


def style_cost(a, target_gram):
    n = a.shape[1] * a.shape[2] * a.shape[3]
    return ((gram(a) - target_gram) ** 2).sum() / (2 * n) ** 2


G.requires_grad_(True)
c1, c2 = net(C)
s1, s2 = net(S)
g1, g2 = net(G)
content = 0.5 * ((c2 - g2) ** 2).sum()
style1, style2 = style_cost(g1, gram(s1)), style_cost(g2, gram(s2))
tv = ((G[..., 1:, :] - G[..., :-1, :]) ** 2).sum() + ((G[..., :, 1:] - G[..., :, :-1]) ** 2).sum()
alpha, beta, lam, gamma = 0.7, 50.0, (0.25, 0.75), 0.01
total = alpha * content + beta * (lam[0] * style1 + lam[1] * style2) + gamma * tv
style = lam[0] * style1 + lam[1] * style2
grad_content, grad_style, grad_tv = (torch.autograd.grad(v, G, retain_graph=True)[0] for v in (content, style, tv))
total.backward()

out = dict(C=C, S=S, G=G.detach(), w1=w1, b1=b1, w2=w2, b2=b2, gram1=gram(g1).detach(), content=content.detach(),
           style1=style1.detach(), style2=style2.detach(), tv=tv.detach(), total=total.detach(), grad=G.grad,
           grad_content=grad_content, grad_style=grad_style, grad_tv=grad_tv)
np.savez(os.path.join(os.path.dirname(os.path.abspath(__file__)), "style.npz"),
         **{k: v.numpy().astype(np.float32) for k, v in out.items()})
print({k: float(v.sum()) for k, v in out.items()})
