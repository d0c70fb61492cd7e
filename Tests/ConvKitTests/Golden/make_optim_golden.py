"""Writes optim.npz: parameter values after each of 5 steps of PyTorch optimizers fed fixed gradients.
Run offline: ../anchors-venv/bin/python Tests/ConvKitTests/Golden/make_optim_golden.py"""
import numpy as np, torch, os
rng = np.random.default_rng(0)
p0 = rng.standard_normal(6).astype(np.float32)
grads = rng.standard_normal((5, 6)).astype(np.float32)
out = {"p0": p0, "grads": grads}
configs = {
    "sgd": lambda p: torch.optim.SGD([p], lr=0.1),
    "sgd_momentum": lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9),
    "sgd_nesterov_wd": lambda p: torch.optim.SGD([p], lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01),
    "adagrad": lambda p: torch.optim.Adagrad([p], lr=0.1),
    "rmsprop": lambda p: torch.optim.RMSprop([p], lr=0.01),
    "adam": lambda p: torch.optim.Adam([p], lr=0.01),
    "adam_wd": lambda p: torch.optim.Adam([p], lr=0.01, weight_decay=0.1),
    "adamw": lambda p: torch.optim.AdamW([p], lr=0.01, weight_decay=0.1),
}
for name, make in configs.items():
    p = torch.nn.Parameter(torch.tensor(p0))
    opt = make(p)
    steps = []
    for g in grads:
        p.grad = torch.tensor(g)
        opt.step()
        steps.append(p.detach().numpy().copy())
    out[name] = np.stack(steps)
# A parameter unfrozen late: b has no gradient for the first two steps, so PyTorch's Adam counts its own steps
# from the third (per-parameter state['step']), and a is updated throughout.
b0 = rng.standard_normal(4).astype(np.float32)
b_grads = rng.standard_normal((5, 4)).astype(np.float32)
out["late_b0"], out["late_b_grads"] = b0, b_grads
for name, make in {"late_adam": lambda ps: torch.optim.Adam(ps, lr=0.01),
                   "late_adamw": lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.1)}.items():
    a, b = torch.nn.Parameter(torch.tensor(p0)), torch.nn.Parameter(torch.tensor(b0))
    opt = make([a, b])
    sa, sb = [], []
    for step in range(5):
        a.grad = torch.tensor(grads[step])
        b.grad = torch.tensor(b_grads[step]) if step >= 2 else None
        opt.step()
        sa.append(a.detach().numpy().copy()); sb.append(b.detach().numpy().copy())
    out[name + "_a"], out[name + "_b"] = np.stack(sa), np.stack(sb)
np.savez(os.path.join(os.path.dirname(os.path.abspath(__file__)), "optim.npz"), **out)
print("ok")
