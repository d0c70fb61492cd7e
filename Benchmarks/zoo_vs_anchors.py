#!/usr/bin/env python3
"""Every zoo model side by side with its anchor, as the speed issue measures it: batch-B inference at 224² against
ONNX Runtime on the same architecture exported from torchvision (TorchScript exporter, opset 13; mobilenet_v1 from a
PyTorch definition of the paper's network), and training steps against PyTorch (forward, cross-entropy, backward,
SGD with momentum). 2 threads, ConvKit and the anchor alternating for --rounds rounds, the best median of each side.

Usage: zoo_vs_anchors.py --convkit .build/release/convkit [--models resnet18,…] [--batches 1,8] [--rounds 3]
                         [--train resnet18:16,mobilenet_v2:16] [--seconds 2]
Needs the anchors venv (torch, torchvision, onnx, onnxruntime). Exports are cached in
$ANCHOR_CACHE/zoo (default ~/.cache/convkit-anchors). Prints one JSON line per case, then Markdown tables."""
import argparse, json, os, subprocess, sys

ZOO = ("alexnet,vgg11,vgg11_bn,vgg13,vgg13_bn,vgg16,vgg16_bn,vgg19,vgg19_bn,resnet18,resnet34,resnet50,resnet101,"
       "resnet152,googlenet,mobilenet_v1,mobilenet_v2")
HERE = os.path.dirname(os.path.abspath(__file__))
ANCHORS = os.path.join(HERE, "..", "..", "shared", "anchors")

# ONNX Runtime in a process of its own: its spinning workers must not share the cores with ConvKit's run.
ORT_TIMER = r"""
import sys, time, statistics, numpy as np, onnxruntime as ort
so = ort.SessionOptions(); so.intra_op_num_threads = 2; so.inter_op_num_threads = 1
s = ort.InferenceSession(sys.argv[1], so, providers=["CPUExecutionProvider"])
x = np.random.default_rng(0).standard_normal((int(sys.argv[2]), 3, 224, 224)).astype(np.float32)
for _ in range(3): s.run(None, {"x": x})
t = []; end = time.perf_counter() + float(sys.argv[3])
while time.perf_counter() < end or len(t) < 5:
    a = time.perf_counter(); s.run(None, {"x": x}); t.append((time.perf_counter() - a) * 1e3)
print(statistics.median(t))
"""


def export(name, batch, cache):
    path = os.path.join(cache, f"{name}_b{batch}.onnx")
    if os.path.exists(path):
        return path
    import torch
    from zoo_shapes import build   # torchvision's networks, and the paper's mobilenet_v1 as the shapes file defines it
    torch.manual_seed(0)
    m = build(name).eval()
    torch.onnx.export(m, (torch.randn(batch, 3, 224, 224),), path, opset_version=13, dynamo=False,
                      input_names=["x"], output_names=["y"])
    return path


def convkit(args, extra):
    out = subprocess.run([args.convkit, "bench", "--threads", "2", "--seconds", str(args.seconds), "--json"] + extra,
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--convkit", required=True)
    ap.add_argument("--models", default=ZOO)
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--train", default="", help="MODEL:BATCH,… training steps against PyTorch")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=2)
    a = ap.parse_args()
    cache = os.path.join(os.environ.get("ANCHOR_CACHE", os.path.expanduser("~/.cache/convkit-anchors")), "zoo")
    os.makedirs(cache, exist_ok=True)
    inference, training = [], []
    for name in [m for m in a.models.split(",") if m]:
        for batch in [int(b) for b in a.batches.split(",") if b]:
            path = export(name, batch, cache)
            ck, rt, rss = [], [], []
            for _ in range(a.rounds):
                r = convkit(a, ["--model", name, "--batch", str(batch)])
                ck.append(r["infer_ms"]); rss.append(r.get("peak_rss_mb", 0))
                rt.append(float(subprocess.run([sys.executable, "-c", ORT_TIMER, path, str(batch), str(a.seconds)],
                                               check=True, capture_output=True, text=True).stdout.strip()))
            row = {"model": name, "batch": batch, "convkit_ms": min(ck), "ort_ms": min(rt), "ratio": min(ck) / min(rt),
                   "convkit_peak_rss_mb": min(rss)}
            print(json.dumps(row), flush=True); inference.append(row)
    for spec in [s for s in a.train.split(",") if s]:
        name, batch = spec.split(":")
        ck, pt = [], []
        for _ in range(a.rounds):
            ck.append(convkit(a, ["--model", name, "--batch", batch, "--train"])["train_step_ms"])
            out = subprocess.run([sys.executable, os.path.join(ANCHORS, "torch_train_step.py"), name, batch],
                                 check=True, capture_output=True, text=True).stdout
            pt.append(json.loads(out.strip().splitlines()[-1])["train_step_ms"])
        row = {"model": name, "batch": int(batch), "convkit_ms": min(ck), "torch_ms": min(pt), "ratio": min(ck) / min(pt)}
        print(json.dumps(row), flush=True); training.append(row)
    if inference:
        print("\n| model | batch | ConvKit ms | ONNX Runtime ms | ConvKit / ORT | ConvKit peak RSS MB |\n|---|---:|---:|---:|---:|---:|")
        for r in inference:
            print(f"| {r['model']} | {r['batch']} | {r['convkit_ms']:.2f} | {r['ort_ms']:.2f} | {r['ratio']:.2f} | {r['convkit_peak_rss_mb']:.0f} |")
    if training:
        print("\n| model | batch | ConvKit step ms | PyTorch step ms | ConvKit / PyTorch |\n|---|---:|---:|---:|---:|")
        for r in training:
            print(f"| {r['model']} | {r['batch']} | {r['convkit_ms']:.1f} | {r['torch_ms']:.1f} | {r['ratio']:.2f} |")


if __name__ == "__main__":
    main()
