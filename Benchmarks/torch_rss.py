#!/usr/bin/env python3
"""PyTorch's peak resident memory for a zoo architecture, as `convkit bench --model` reports ConvKit's: the model built
(random weights), then inference (eval, no_grad) or a training step (SGD with momentum, cross-entropy) run a few
times at 224², 2 threads. Prints one JSON line {"model","batch","train","peak_rss_mb"} (the process's VmHWM).

Usage: torch_rss.py MODEL BATCH [--train]   (mobilenet_v1: the paper's network from zoo_shapes.py)"""
import json, resource, sys
import torch

name, batch, train = sys.argv[1], int(sys.argv[2]), "--train" in sys.argv
torch.set_num_threads(2)
from zoo_shapes import build   # torchvision's networks, and mobilenet_v1 as the shapes file defines it
m = build(name)
x = torch.randn(batch, 3, 224, 224)
if train:
    m.train(); opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9); y = torch.randint(0, 1000, (batch,))
    for _ in range(3):
        opt.zero_grad(); torch.nn.functional.cross_entropy(m(x), y).backward(); opt.step()
else:
    m.eval()
    with torch.no_grad():
        for _ in range(3): m(x)
print(json.dumps({"model": name, "batch": batch, "train": train,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
