"""PyTorch anchor for ConvKit's TCN training on sequential MNIST: the network of Bai, Kolter and Koltun (2018) as
locuslab/TCN builds it (8 levels of 25 channels, kernel 7, weight-normalized causal convolutions, dropout 0.05,
a linear layer on the last step), Adam, cross-entropy, batches of 64 sequences of 784 steps, 2 threads. Prints one
JSON line with the median ms per training step and sequences per second (random data: speed only).
Usage: python Benchmarks/torch_tcn_smnist.py [SECONDS]"""
import json, sys, time
import torch
import torch.nn as nn
from torch.nn.utils import weight_norm

torch.set_num_threads(2)
seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0


class Chomp(nn.Module):
    def __init__(self, n):
        super().__init__(); self.n = n

    def forward(self, x):
        return x[:, :, :-self.n].contiguous()


class Block(nn.Module):
    def __init__(self, cin, cout, k, d, dropout):
        super().__init__()
        p = (k - 1) * d
        self.net = nn.Sequential(weight_norm(nn.Conv1d(cin, cout, k, padding=p, dilation=d)), Chomp(p), nn.ReLU(), nn.Dropout(dropout),
                                 weight_norm(nn.Conv1d(cout, cout, k, padding=p, dilation=d)), Chomp(p), nn.ReLU(), nn.Dropout(dropout))
        self.down = nn.Conv1d(cin, cout, 1) if cin != cout else None

    def forward(self, x):
        return torch.relu(self.net(x) + (x if self.down is None else self.down(x)))


class TCN(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.Sequential(*[Block(1 if i == 0 else 25, 25, 7, 2 ** i, 0.05) for i in range(8)])
        self.fc = nn.Linear(25, 10)

    def forward(self, x):
        return self.fc(self.blocks(x)[:, :, -1])


net = TCN()
opt = torch.optim.Adam(net.parameters(), lr=2e-3)
x, y = torch.randn(64, 1, 784), torch.randint(0, 10, (64,))


def step():
    opt.zero_grad()
    loss = nn.functional.cross_entropy(net(x), y)
    loss.backward()
    opt.step()


for _ in range(3):
    step()
times, start = [], time.perf_counter()
while time.perf_counter() - start < seconds or len(times) < 5:
    t = time.perf_counter(); step(); times.append((time.perf_counter() - t) * 1000)
times.sort()
ms = times[len(times) // 2]
print(json.dumps({"anchor": "pytorch", "torch": torch.__version__, "threads": torch.get_num_threads(), "batch": 64,
                  "ms_per_step": ms, "sequences_per_s": 64 / ms * 1000}))
