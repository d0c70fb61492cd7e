#!/usr/bin/env python3
"""Checks `convkit onnx export` against the ONNX tooling: for each zoo model, export it (a seeded initialization),
validate the file with onnx.checker (full check, with shape inference), run it in ONNX Runtime on the seeded batch
of 2 that ConvKit also ran (`--reference`), and compare outputs: max |ORT − ConvKit| within tolerance × the largest |output| (+ 1e-7).

Usage: check_onnx_export.py --convkit .build/release/convkit [--models lenet5,resnet18,…] [--tolerance 1e-4]
Needs onnx and onnxruntime (.ci/run makes a venv with them: .build/interop-venv). Exit status 1 if any model fails.
Prints one JSON line per model, then a Markdown table."""
import argparse, json, os, subprocess, sys, tempfile
import numpy as np
import onnx
import onnxruntime as ort

ALL = ("lenet5,lenet5_classic,small_cnn,alexnet,vgg11,vgg11_bn,vgg13,vgg13_bn,vgg16,vgg16_bn,vgg19,vgg19_bn,"
       "resnet18,resnet34,resnet50,resnet101,resnet152,googlenet,mobilenet_v1,mobilenet_v2,yolo_tiny")


def check(convkit, name, tolerance, work):
    path, ref = os.path.join(work, name + ".onnx"), os.path.join(work, name)
    out = subprocess.run([convkit, "onnx", "export", "--model", name, "--out", path, "--reference", ref, "--json"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        return {"model": name, "passed": False, "error": out.stderr.strip()}
    info = json.loads(out.stdout.strip().splitlines()[-1])
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    del model
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    x, expected = np.load(os.path.join(ref, "input.npy")), np.load(os.path.join(ref, "output.npy"))
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    scale = float(np.abs(expected).max())
    error = float(np.abs(got - expected).max()) if got.shape == expected.shape else float("inf")
    os.remove(path)
    return {"model": name, "passed": bool(error <= tolerance * scale + 1e-7), "opset": opset, "checker": "passed",
            "nodes": info["nodes"], "params": info["params"], "max_abs_error": error, "output_scale": scale}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--convkit", required=True)
    p.add_argument("--models", default=ALL)
    p.add_argument("--tolerance", type=float, default=1e-4)
    a = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for name in a.models.split(","):
            try:
                r = check(a.convkit, name, a.tolerance, work)
            except Exception as e:   # the checker or ORT refused the file
                r = {"model": name, "passed": False, "error": f"{type(e).__name__}: {e}".splitlines()[0]}
            print(json.dumps(r), flush=True)
            rows.append(r)
    print("\n| model | opset | onnx.checker | nodes | params | max abs error (ORT − ConvKit) | passed |\n|---|---:|---|---:|---:|---:|---|")
    for r in rows:
        if "error" in r:
            print(f"| {r['model']} | | | | | {r['error']} | no |")
        else:
            print(f"| {r['model']} | {r['opset']} | passed | {r['nodes']} | {r['params']:,} | {r['max_abs_error']:.1e} "
                  f"(of {r['output_scale']:.1f}) | {'yes' if r['passed'] else 'no'} |")
    failed = [r["model"] for r in rows if not r["passed"]]
    print(f"\n{len(rows) - len(failed)} of {len(rows)} exported models pass" + (f"; failed: {', '.join(failed)}" if failed else ""))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
