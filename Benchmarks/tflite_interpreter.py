#!/usr/bin/env python3
"""ConvKit's TFLite import against TensorFlow Lite's own interpreter on the same .tflite files: batch-1 inference
time side by side (2 threads, alternating rounds, best median of each side) and max |ConvKit − TFLite|.

Usage: tflite_interpreter.py --convkit .build/release/convkit [--rounds 3] [MODEL.tflite …]
Needs ai-edge-litert and numpy (pip install ai-edge-litert==2.3.0 numpy). The interpreter runs with its default
XNNPACK delegate (its fast path) for timing; outputs are compared with the reference kernels in the tests
(Tests/ConvKitInteropTests/Golden/tflite). Default models: the two MediaPipe models in Data/models/mediapipe."""
import argparse, json, os, statistics, subprocess, tempfile, time
import numpy as np
from ai_edge_litert.interpreter import Interpreter

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
DEFAULT = [os.path.join(ROOT, "Data/models/mediapipe", f) for f in ["face_detection_short_range.tflite", "face_landmark.tflite"]]


def interpreter_ms(path, seconds=2.0):
    it = Interpreter(model_path=path, num_threads=2)
    it.allocate_tensors()
    rng = np.random.default_rng(0)
    for d in it.get_input_details():
        it.set_tensor(d["index"], rng.standard_normal(d["shape"]).astype(np.float32))
    for _ in range(5):
        it.invoke()
    times, start = [], time.perf_counter()
    while time.perf_counter() - start < seconds:
        t = time.perf_counter(); it.invoke(); times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def convkit_ms(convkit, path, seconds=2.0):
    out = subprocess.run([convkit, "bench", "--tflite", path, "--seconds", str(seconds), "--threads", "2", "--json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["infer_ms"]


def max_error(convkit, path):
    it = Interpreter(model_path=path, num_threads=2)
    it.allocate_tensors()
    rng = np.random.default_rng(1)
    with tempfile.TemporaryDirectory() as d:
        args = []
        for k, i in enumerate(it.get_input_details()):
            x = rng.uniform(-1, 1, i["shape"]).astype(np.float32)
            it.set_tensor(i["index"], x)
            np.save(f"{d}/in{k}.npy", x); args += ["--input", f"{i['name']}={d}/in{k}.npy"]
        it.invoke()
        subprocess.run([convkit, "tflite", "run", path, *args, "--output-dir", d], check=True, capture_output=True)
        return max(float(np.abs(np.load(f"{d}/{o['name'].replace('/', '_')}.npy") - it.get_tensor(o["index"])).max())
                   for o in it.get_output_details())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--convkit", required=True)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("models", nargs="*", default=DEFAULT)
    a = p.parse_args()
    rows = []
    for path in a.models:
        ck, tf = [], []
        for _ in range(a.rounds):
            ck.append(convkit_ms(a.convkit, path)); tf.append(interpreter_ms(path))
        r = {"model": os.path.basename(path), "convkit_ms": min(ck), "tflite_ms": min(tf),
             "ratio": min(ck) / min(tf), "max_abs_error": max_error(a.convkit, path)}
        print(json.dumps(r)); rows.append(r)
    print("\n| model | ConvKit ms | TFLite (XNNPACK) ms | ratio | max abs error |\n|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['model']} | {r['convkit_ms']:.2f} | {r['tflite_ms']:.2f} | {r['ratio']:.2f} | {r['max_abs_error']:.1e} |")


if __name__ == "__main__":
    main()
