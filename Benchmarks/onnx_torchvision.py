#!/usr/bin/env python3
"""torchvision classifiers exported as users export them — the TorchScript exporter at opset 13 and torch.export at
opset 18 — imported by ConvKit and compared with ONNX Runtime on the same file: max |ConvKit − ORT| and, unless
--no-time, batch-1 inference time side by side (2 threads, alternating rounds, best of each).

Usage: onnx_torchvision.py --convkit .build/release/convkit [--models resnet18,mobilenet_v2] [--rounds 3] [--no-time]
Needs torch, torchvision, onnx, onnxscript, onnxruntime (the anchors venv). Models are cached in
$ANCHOR_CACHE/onnx-torchvision (random weights, batch-norm statistics randomized so that folding is exercised).
Prints one JSON line per model and exporter, then a Markdown table."""
import argparse, json, os, statistics, subprocess, sys, tempfile, time
import numpy as np, torch, torchvision, onnxruntime as ort

DEFAULT = ("resnet18,resnet50,mobilenet_v2,mobilenet_v3_small,mobilenet_v3_large,shufflenet_v2_x1_0,densenet121,"
           "efficientnet_b0,squeezenet1_1,googlenet,alexnet,vgg11,regnet_y_400mf,mnasnet1_0")


def build(name):
    kw = {"aux_logits": False, "init_weights": True} if name == "googlenet" else {}
    torch.manual_seed(0)
    m = getattr(torchvision.models, name)(weights=None, **kw)
    g = torch.Generator().manual_seed(1)
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.copy_(torch.rand(mod.running_mean.shape, generator=g) - 0.5)
            mod.running_var.copy_(torch.rand(mod.running_var.shape, generator=g) + 0.5)
    return m.eval()


def export(name, opset, cache):
    path = os.path.join(cache, f"{name}_opset{opset}.onnx")
    if os.path.exists(path):
        return path, None
    m = build(name)
    x = torch.randn(1, 3, 224, 224)
    try:
        torch.onnx.export(m, (x,), path, opset_version=opset, dynamo=opset >= 18, input_names=["x"], output_names=["y"],
                          external_data=False)
        return path, None
    except Exception as e:  # an exporter that cannot export the model is reported, not hidden
        if os.path.exists(path): os.remove(path)
        return None, f"{type(e).__name__}: {str(e)[:200]}"


# ONNX Runtime timed in a process of its own (as ../shared/anchors/ort_model.py does): its spinning worker threads
# must not share the two cores with ConvKit's run, and torch must not be loaded beside it.
ORT_TIMER = r"""
import sys, time, statistics, numpy as np, onnxruntime as ort
so = ort.SessionOptions(); so.intra_op_num_threads = 2; so.inter_op_num_threads = 1
s = ort.InferenceSession(sys.argv[1], so, providers=["CPUExecutionProvider"]); x = np.load(sys.argv[2])
for _ in range(3): s.run(None, {"x": x})
t = []; end = time.perf_counter() + 1.5
while time.perf_counter() < end or len(t) < 5:
    a = time.perf_counter(); s.run(None, {"x": x}); t.append((time.perf_counter() - a) * 1e3)
print(statistics.median(t))
"""


def ort_ms(path, xfile):
    return float(subprocess.run([sys.executable, "-c", ORT_TIMER, path, xfile], capture_output=True, text=True, check=True).stdout.strip())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--convkit", required=True)
    ap.add_argument("--models", default=DEFAULT)
    ap.add_argument("--opsets", default="13,18")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--no-time", action="store_true")
    a = ap.parse_args()
    cache = os.path.join(os.environ.get("ANCHOR_CACHE", os.path.expanduser("~/.cache/convkit-anchors")), "onnx-torchvision")
    os.makedirs(cache, exist_ok=True)
    rows = []
    work = tempfile.mkdtemp()
    x = np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32)
    np.save(os.path.join(work, "x.npy"), x)
    for name in a.models.split(","):
        for opset in [int(o) for o in a.opsets.split(",")]:
            path, err = export(name, opset, cache)
            row = {"model": name, "opset": opset, "exporter": "torch.export" if opset >= 18 else "torchscript"}
            if err:
                row["error"] = err; rows.append(row); print(json.dumps(row), flush=True); continue
            s = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
            ref = s.run(None, {"x": x})[0]
            del s
            out = os.path.join(work, f"{name}_{opset}")
            p = subprocess.run([a.convkit, "onnx", "run", path, "--input", "x=" + os.path.join(work, "x.npy"), "--output-dir", out, "--threads", "2"],
                               capture_output=True, text=True)
            if p.returncode != 0:
                row["error"] = p.stderr.strip()[-300:]; rows.append(row); print(json.dumps(row), flush=True); continue
            y = np.load(os.path.join(out, "y.npy"))
            row["max_abs_error"] = float(np.abs(y - ref).max())
            row["max_abs_output"] = float(np.abs(ref).max())
            row["max_rel_error"] = row["max_abs_error"] / max(row["max_abs_output"], 1e-30)
            if not a.no_time:
                ck, rt = [], []
                for _ in range(a.rounds):
                    rt.append(ort_ms(path, os.path.join(work, "x.npy")))
                    q = subprocess.run([a.convkit, "bench", "--onnx", path, "--batch", "1", "--threads", "2", "--seconds", "1.5", "--json"],
                                       capture_output=True, text=True)
                    ck.append(json.loads(q.stdout.strip().splitlines()[-1])["infer_ms"])
                row["convkit_ms"] = min(ck); row["ort_ms"] = min(rt); row["ratio"] = min(ck) / min(rt)
            rows.append(row); print(json.dumps(row), flush=True)
    print("\n| model | exporter (opset) | max abs error vs ORT | max abs output | error / max output | ConvKit ms | ORT ms | ConvKit / ORT |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        if "error" in r:
            print(f"| {r['model']} | {r['exporter']} ({r['opset']}) | {r['error'][:120]} | | | | | |"); continue
        t = (f"{r['convkit_ms']:.2f} | {r['ort_ms']:.2f} | {r['ratio']:.2f}") if "ratio" in r else " | | "
        print(f"| {r['model']} | {r['exporter']} ({r['opset']}) | {r['max_abs_error']:.2e} | {r['max_abs_output']:.2f} | {r['max_rel_error']:.1e} | {t} |")
    print(f"\nORT {ort.__version__}, torch {torch.__version__}, torchvision {torchvision.__version__}")


if __name__ == "__main__":
    main()
