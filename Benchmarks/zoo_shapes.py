"""Writes the broad shapes file (Benchmarks/zoo_shapes.json, the form `convkit bench --shapes` and
../shared/anchors/torch_cases.py read): every distinct 2-D convolution of every zoo model (`count`: how often it occurs in them) at 224² and a given
batch, found by running torchvision's definitions of the same architectures (mobilenet_v1: the paper's network,
defined below) with forward hooks, plus a deterministic grid of generic cases.

Usage: python Benchmarks/zoo_shapes.py [--batch 1] [--models a,b] [--grid 48] [--out FILE]
       python Benchmarks/zoo_shapes.py --model mobilenet_v2 --out /tmp/mbv2.json   # one model's layers

The grid draws kernels 1…7, stride 1/2, dilation 1–4, groups 1/2/32/all, channels 3…1024, maps 7…224 and batch
1/8/32 from a seeded generator, keeping cases of at most ~2 GFLOP so the whole file runs in minutes.
"""
import argparse, json, random

import torch
import torch.nn as nn
import torchvision.models as tvm

ZOO = ["alexnet", "vgg11", "vgg13", "vgg16", "vgg19", "resnet18", "resnet34", "resnet50", "resnet101",
       "resnet152", "googlenet", "mobilenet_v1", "mobilenet_v2"]


def mobilenet_v1():
    """Howard et al. 2017, Table 1: a 3×3/2 stem and 13 depthwise-separable blocks."""
    def block(cin, cout, stride):
        return [nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False), nn.BatchNorm2d(cin), nn.ReLU(),
                nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
    cfg = [(32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2), (256, 256, 1), (256, 512, 2)] + \
          [(512, 512, 1)] * 5 + [(512, 1024, 2), (1024, 1024, 1)]
    layers = [nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU()]
    for c in cfg:
        layers += block(*c)
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1024, 1000))


def build(name):
    if name == "mobilenet_v1":
        return mobilenet_v1()
    if name == "googlenet":
        return tvm.googlenet(weights=None, aux_logits=False, init_weights=False)
    return getattr(tvm, name)(weights=None)


def conv_cases(name, batch):
    model = build(name).eval()
    found = []

    def hook(mod, inp, _out):
        x = inp[0]
        found.append({"n": x.shape[0], "cin": mod.in_channels, "h": x.shape[2], "w": x.shape[3],
                      "cout": mod.out_channels, "k": mod.kernel_size[0], "stride": mod.stride[0],
                      "pad": mod.padding[0], "dilation": mod.dilation[0], "groups": mod.groups})
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            assert m.kernel_size[0] == m.kernel_size[1] and m.stride[0] == m.stride[1] and m.padding[0] == m.padding[1], \
                f"{name}: a non-square convolution {m} (the shapes file holds square windows)"
            m.register_forward_hook(hook)
    with torch.no_grad():
        model(torch.zeros(batch, 3, 224, 224))
    return found


def key(c):
    return tuple(c[k] for k in ("n", "cin", "h", "w", "cout", "k", "stride", "pad", "dilation", "groups"))


def case_name(c):
    g = "" if c["groups"] == 1 else ("_dw" if c["groups"] == c["cin"] == c["cout"] else f"_g{c['groups']}")
    s = "" if c["stride"] == 1 else f"s{c['stride']}"
    d = "" if c["dilation"] == 1 else f"_d{c['dilation']}"
    return f"c{c['cin']}to{c['cout']}_{c['h']}_{c['k']}x{c['k']}{s}{d}{g}_n{c['n']}"


def grid(count, seed=7):
    rng = random.Random(seed)
    channels = [3, 8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024]
    maps = [7, 14, 17, 28, 35, 56, 64, 112, 224]
    out, seen = [], set()
    while len(out) < count:
        k = rng.randint(1, 7); s = rng.choice([1, 2]); d = rng.choice([1, 1, 1, 2, 3, 4]) if k > 1 else 1
        cin = rng.choice(channels); cout = rng.choice(channels); h = rng.choice(maps); n = rng.choice([1, 1, 8, 32])
        g = rng.choice(["1", "1", "2", "32", "all"])
        groups = {"1": 1, "2": 2, "32": 32, "all": cin}[g]
        if g == "all":
            cout = cin
        if cin % groups or cout % groups or (groups == cin and cin < 8):
            continue
        pad = d * (k - 1) // 2
        oh = (h + 2 * pad - d * (k - 1) - 1) // s + 1
        if oh < 1:
            continue
        flops = 2 * n * oh * oh * cout * (cin // groups) * k * k
        if flops > 2e9 or n * cin * h * h > 2 ** 25:
            continue
        c = {"n": n, "cin": cin, "h": h, "w": h, "cout": cout, "k": k, "stride": s, "pad": pad, "dilation": d, "groups": groups}
        if key(c) in seen:
            continue
        seen.add(key(c)); c["name"] = "grid_" + case_name(c); out.append(c)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--models", default=",".join(ZOO))
    ap.add_argument("--model", help="one model's convolutions only (no grid)")
    ap.add_argument("--grid", type=int, default=48)
    ap.add_argument("--out", default="Benchmarks/zoo_shapes.json")
    a = ap.parse_args()
    models = [a.model] if a.model else a.models.split(",")
    cases, where = {}, {}
    for m in models:
        for c in conv_cases(m, a.batch):
            where.setdefault(key(c), []).append(m)
            cases.setdefault(key(c), c)
    conv2d = []
    for k, c in cases.items():
        users = sorted(set(where[k]))
        c = dict(c, name=f"{users[0]}{'+' if len(users) > 1 else ''}_{case_name(c)}", models=users, count=len(where[k]))
        conv2d.append(c)
    if not a.model:
        conv2d += grid(a.grid)
    order = ["name", "n", "cin", "h", "w", "cout", "k", "stride", "pad", "dilation", "groups", "models", "count"]
    lines = [json.dumps({k: c[k] for k in order if k in c}) for c in conv2d]
    with open(a.out, "w") as f:
        f.write('{\n  "conv2d": [\n    ' + ",\n    ".join(lines) + "\n  ]\n}\n")
    print(f"{a.out}: {len(conv2d)} convolutions")


if __name__ == "__main__":
    main()
