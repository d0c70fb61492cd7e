"""PyTorch anchor for dlib's two CNNs as ConvKit runs them: the face-recognition ResNet (150x150 chip -> 128-D) and
the MMOD face detector on the tiled pyramid of a 512x512 photo (1,895 x 534 pixels). Same architectures (dlib's
padding rule: k/2 at stride 1, none at stride 2; add_prev zero-extends), random weights, eval mode, 2 threads,
float32; median ms after warm-up. Prints one JSON line.
Usage: python Benchmarks/torch_dlib_models.py [SECONDS]"""
import json, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(2)
seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0


def conv(cin, cout, k, s):
    return nn.Conv2d(cin, cout, k, stride=s, padding=0 if s != 1 else k // 2)


class Unit(nn.Module):
    def __init__(self, cin, cout, down):
        super().__init__()
        self.c1, self.b1 = conv(cin, cout, 3, 2 if down else 1), nn.BatchNorm2d(cout)
        self.c2, self.b2 = conv(cout, cout, 3, 1), nn.BatchNorm2d(cout)
        self.down = down

    def forward(self, x):
        y = self.b2(self.c2(F.relu(self.b1(self.c1(x)))))
        s = F.avg_pool2d(x, 2, 2) if self.down else x
        if y.shape != s.shape:  # dlib's add_prev: zero-extend both to the larger extent
            n, c, h, w = (max(a, b) for a, b in zip(y.shape, s.shape))
            y = F.pad(y, (0, w - y.shape[3], 0, h - y.shape[2], 0, c - y.shape[1]))
            s = F.pad(s, (0, w - s.shape[3], 0, h - s.shape[2], 0, c - s.shape[1]))
        return F.relu(y + s)


class FaceResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem, self.bn = conv(3, 32, 7, 2), nn.BatchNorm2d(32)
        spec = [(32, 32, 0)] * 3 + [(32, 64, 1)] + [(64, 64, 0)] * 3 + [(64, 128, 1)] + [(128, 128, 0)] * 2 \
            + [(128, 256, 1)] + [(256, 256, 0)] * 2 + [(256, 256, 1)]
        self.units = nn.Sequential(*[Unit(a, b, d) for a, b, d in spec])
        self.fc = nn.Linear(256, 128, bias=False)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn(self.stem(x))), 3, 2)
        return self.fc(self.units(x).mean((2, 3)))


def mmod():
    layers, cin = [], 3
    for cout, k, s in [(16, 5, 2), (32, 5, 2), (32, 5, 2), (45, 5, 1), (45, 5, 1), (45, 5, 1)]:
        layers += [conv(cin, cout, k, s), nn.BatchNorm2d(cout), nn.ReLU()]
        cin = cout
    return nn.Sequential(*layers, conv(45, 1, 9, 1))


def median_ms(f, x):
    with torch.inference_mode():
        for _ in range(3):
            f(x)
        times, start = [], time.perf_counter()
        while time.perf_counter() - start < seconds or len(times) < 5:
            t = time.perf_counter(); f(x); times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return times[len(times) // 2]


net, det = FaceResNet().eval(), mmod().eval()
out = {"anchor": "pytorch", "torch": torch.__version__, "threads": torch.get_num_threads(),
       "face_embedding_ms_batch1": median_ms(net, torch.randn(1, 3, 150, 150)),
       "face_embedding_ms_per_chip_batch8": median_ms(net, torch.randn(8, 3, 150, 150)) / 8,
       "mmod_ms_512": median_ms(det, torch.randn(1, 3, 1895, 534))}
print(json.dumps(out))
