"""PyTorch side of `convkit bench --pipeline unet-step|style-step`: the same architectures and shapes, 2 threads.

Usage: python torch_dense_steps.py unet-step|style-step [SIZE] [WIDTH] [SECONDS] [BATCH]   → one JSON line {"pipeline","ms",…}

unet-step: ConvKit's UNet(classes 11, input 3, depth 4, width W): per level two conv3×3(same)-BN-ReLU, 2×2 max-pool;
bottleneck; up: ConvTranspose2d(k2, s2) then concat [up, skip] and two conv-BN-ReLU; 1×1 head. One training step:
forward (train mode), pixel-wise cross-entropy on a fixed random mask, backward, SGD momentum 0.9.
style-step: torchvision VGG-16 features (random weights) to relu5_1 on the ImageNet-normalized image; content
½‖a−a_C‖² at relu4_2, Gram style costs 1/(2·n_H·n_W·n_C)²·‖G−G_S‖² at relu1_1…relu5_1 (λ = 1/5), J = content +
1e6·style, backward to the image. The median of timed calls after warm-up, like ConvKit's bench.
"""
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(2)


def block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                         nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class UNet(nn.Module):
    def __init__(self, classes=11, cin=3, depth=4, width=16):
        super().__init__()
        w = [width << i for i in range(depth + 1)]
        self.down = nn.ModuleList([block(cin if i == 0 else w[i - 1], w[i]) for i in range(depth)])
        self.bottleneck = block(w[depth - 1], w[depth])
        self.up = nn.ModuleList([nn.ConvTranspose2d(w[i + 1], w[i], 2, stride=2) for i in reversed(range(depth))])
        self.decode = nn.ModuleList([block(2 * w[i], w[i]) for i in reversed(range(depth))])
        self.head = nn.Conv2d(w[0], classes, 1)

    def forward(self, x):
        skips = []
        for d in self.down:
            x = d(x)
            skips.append(x)
            x = F.max_pool2d(x, 2)
        x = self.bottleneck(x)
        for u, dec in zip(self.up, self.decode):
            x = dec(torch.cat([u(x), skips.pop()], 1))
        return self.head(x)


def median_ms(fn, seconds):
    for _ in range(2):
        fn()
    times, start = [], time.perf_counter()
    while time.perf_counter() - start < seconds or len(times) < 3:
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def unet_step(size, width, seconds, batch=1):
    torch.manual_seed(3)
    net = UNet(width=width).train()
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    x = torch.rand(batch, 3, size, size)
    y = torch.randint(0, 11, (batch, size, size))

    def step():
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        opt.step()
    return median_ms(step, seconds)


def style_step(size, seconds):
    import torchvision
    torch.manual_seed(3)
    features = torchvision.models.vgg16().features[:26].eval()
    for p in features.parameters():
        p.requires_grad_(False)
    taps = {1: "style", 6: "style", 11: "style", 18: "style", 20: "content", 25: "style"}
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)

    def acts(x):
        out, y = {}, (x - mean) / std
        for i, layer in enumerate(features):
            y = layer(y)
            if i in taps:
                out[i] = y
        return out

    def gram(a):
        m = a.reshape(a.shape[1], -1)
        return m @ m.t()

    with torch.no_grad():
        c, s = acts(torch.rand(1, 3, size, size)), acts(torch.rand(1, 3, size, size))
        targets = {i: (c[i] if kind == "content" else gram(s[i])) for i, kind in taps.items()}
    image = torch.rand(1, 3, size, size)

    def step():
        g = image.clone().requires_grad_(True)
        a = acts(g)
        j = 0.5 * ((a[20] - targets[20]) ** 2).sum()
        style = 0
        for i, kind in taps.items():
            if kind == "style":
                n = a[i].shape[1] * a[i].shape[2] * a[i].shape[3]
                style = style + ((gram(a[i]) - targets[i]) ** 2).sum() / (2 * n) ** 2 / 5
        (j + 1e6 * style).backward()
    return median_ms(step, seconds)


if __name__ == "__main__":
    pipeline = sys.argv[1]
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 256
    width = int(sys.argv[3]) if len(sys.argv) > 3 else 16
    seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 3
    batch = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    if pipeline == "unet-step":
        print(json.dumps({"pipeline": pipeline, "size": size, "width": width, "batch": batch,
                          "ms": unet_step(size, width, seconds, batch)}))
    elif pipeline == "style-step":
        print(json.dumps({"pipeline": pipeline, "size": size, "ms": style_step(size, seconds)}))
    else:
        sys.exit(f"unknown pipeline {pipeline}: expected unet-step or style-step")
