#!/usr/bin/env python3
"""ConvKit against ONNX Runtime on the same ONNX file, without torch: each zoo model is exported by
`convkit onnx export` (a seeded initialization), then timed at batch 1 by `convkit bench --onnx` and by ONNX
Runtime (2 intra-op threads, graph optimizations on), in alternating rounds; the best median of each side is kept.

Usage: ort_exported.py --convkit .build/release/convkit [--models resnet18,mobilenet_v2] [--rounds 3] [--seconds 3]
Needs onnxruntime and numpy (the venv .ci/run makes: .venv-interop)."""
import argparse, json, os, statistics, subprocess, tempfile, time
import numpy as np
import onnxruntime as ort


def ort_ms(path, seconds):
    o = ort.SessionOptions()
    o.intra_op_num_threads = 2
    o.inter_op_num_threads = 1
    s = ort.InferenceSession(path, o, providers=["CPUExecutionProvider"])
    i = s.get_inputs()[0]
    shape = [1 if not isinstance(d, int) else d for d in i.shape]
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    for _ in range(3):
        s.run(None, {i.name: x})
    times, start = [], time.perf_counter()
    while time.perf_counter() - start < seconds:
        t = time.perf_counter(); s.run(None, {i.name: x}); times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def convkit_ms(convkit, path, seconds):
    out = subprocess.run([convkit, "bench", "--onnx", path, "--batch", "1", "--threads", "2", "--seconds", str(seconds), "--json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["infer_ms"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--convkit", required=True)
    p.add_argument("--models", default="resnet18,mobilenet_v2")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=float, default=3)
    a = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for name in a.models.split(","):
            path = os.path.join(d, name + ".onnx")
            subprocess.run([a.convkit, "onnx", "export", "--model", name, "--out", path], check=True, capture_output=True)
            ck, rt = [], []
            for _ in range(a.rounds):
                ck.append(convkit_ms(a.convkit, path, a.seconds)); rt.append(ort_ms(path, a.seconds))
            r = {"model": name, "convkit_ms": min(ck), "ort_ms": min(rt), "ratio": min(ck) / min(rt)}
            print(json.dumps(r), flush=True); rows.append(r)
    print("\n| model (convkit export, batch 1) | ConvKit ms | ONNX Runtime ms | ratio |\n|---|---:|---:|---:|")
    for r in rows:
        print(f"| {r['model']} | {r['convkit_ms']:.2f} | {r['ort_ms']:.2f} | {r['ratio']:.2f} |")


if __name__ == "__main__":
    main()
