#!/usr/bin/env python3
"""Runs `convkit onnx check` over ONNX's backend-test cases and writes the per-operator table (docs/onnx-conformance.md).

Usage: onnx_conformance.py --convkit .build/release/convkit [--data DIR] [--out docs/onnx-conformance.md] [--jobs 2]
Without --data, the onnx 1.22.0 wheel (the last that ships onnx/backend/test/data/node) is downloaded from PyPI with
pip into ~/.cache/convkit-onnx and unpacked there; the suite is never committed. Needs the `onnx` Python package
(to list each case's operators and to write the `light` models' inputs), e.g. from the venv Scripts/onnx_venv.sh makes.
"""
import argparse, concurrent.futures as cf, glob, json, os, subprocess, sys, zipfile
import numpy as np
import onnx
from onnx import numpy_helper

# The operator list of issue 12 (what a CNN graph uses); a node case is "in scope" when all its operators are here.
IN_SCOPE = set("""Conv ConvTranspose MaxPool AveragePool GlobalAveragePool GlobalMaxPool BatchNormalization InstanceNormalization
LayerNormalization LRN Relu LeakyRelu PRelu Elu Selu Celu Sigmoid HardSigmoid HardSwish Tanh Softplus Softsign Gelu Mish Erf
Softmax LogSoftmax Gemm MatMul Add Sub Mul Div Pow Neg Abs Sqrt Exp Log Reciprocal Floor Ceil Round Sign Mod Equal Less Greater
LessOrEqual GreaterOrEqual Clip Min Max Sum Mean Where Concat Split Slice Reshape Flatten Transpose Squeeze Unsqueeze Expand
Tile Pad Resize Upsample Dropout Identity Constant ConstantOfShape Shape Size Gather ReduceSum ReduceMean ReduceMax ReduceMin
ReduceProd ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceSumSquare ArgMax ArgMin Cast Range TopK DepthToSpace
SpaceToDepth NonMaxSuppression""".split())


def fetch(cache):
    root = os.path.join(cache, "onnx-1.22.0", "onnx", "backend", "test", "data")
    if os.path.isdir(os.path.join(root, "node")):
        return root
    os.makedirs(cache, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "onnx==1.22.0", "-d", cache, "-q"], check=True)
    wheel = sorted(glob.glob(os.path.join(cache, "onnx-1.22.0-*.whl")))[0]
    with zipfile.ZipFile(wheel) as z:
        z.extractall(os.path.join(cache, "onnx-1.22.0"), [n for n in z.namelist() if n.startswith("onnx/backend/test/data/")])
    return root


def light_cases(root, work):
    """ONNX's runner feeds each light model arange(n)/n in its input's shape; build the same case folders."""
    out = []
    for path in sorted(glob.glob(os.path.join(root, "light", "*.onnx"))):
        name = os.path.splitext(os.path.basename(path))[0]
        case = os.path.join(work, name)
        ds = os.path.join(case, "test_data_set_0")
        os.makedirs(ds, exist_ok=True)
        m = onnx.load(path)
        inits = {i.name for i in m.graph.initializer}
        inputs = [i for i in m.graph.input if i.name not in inits]
        for k, x in enumerate(inputs):
            shape = tuple(d.dim_value if d.HasField("dim_value") else 1 for d in x.type.tensor_type.shape.dim)
            n = int(np.prod(shape))
            v = (np.arange(n).reshape(shape) / n).astype(np.float32)
            with open(os.path.join(ds, f"input_{k}.pb"), "wb") as f:
                f.write(numpy_helper.from_array(v, x.name).SerializeToString())
        for k in range(len(m.graph.output)):
            src = os.path.join(root, "light", f"{name}_output_{k}.pb")
            if os.path.exists(src):
                with open(src, "rb") as a, open(os.path.join(ds, f"output_{k}.pb"), "wb") as b:
                    b.write(a.read())
        dst = os.path.join(case, "model.onnx")
        if not os.path.exists(dst):
            os.symlink(path, dst)
        out.append(case)
    return out


def ops_of(case):
    try:
        m = onnx.load(os.path.join(case, "model.onnx"), load_external_data=False)
    except Exception:
        return []
    return sorted({n.op_type for n in m.graph.node})


def check(convkit, case, rtol, atol):
    try:
        p = subprocess.run([convkit, "onnx", "check", case, "--json", "--threads", "1", "--rtol", str(rtol), "--atol", str(atol)],
                           capture_output=True, text=True, timeout=300)
        line = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
        if line.startswith("{"):
            return json.loads(line)
        return {"case": os.path.basename(case), "passed": False, "outputs": [], "error": f"exit {p.returncode}: {p.stderr.strip()[-300:]}"}
    except subprocess.TimeoutExpired:
        return {"case": os.path.basename(case), "passed": False, "outputs": [], "error": "timeout (300 s)"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--convkit", required=True)
    ap.add_argument("--data")
    ap.add_argument("--cache", default=os.path.expanduser("~/.cache/convkit-onnx"))
    ap.add_argument("--out", default="docs/onnx-conformance.md")
    ap.add_argument("--json-out", default=None)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--rtol", type=float, default=1e-3)
    ap.add_argument("--atol", type=float, default=1e-7)
    a = ap.parse_args()
    root = a.data or fetch(a.cache)
    suites = {s: sorted(glob.glob(os.path.join(root, s, "*/"))) for s in ["node", "pytorch-converted", "pytorch-operator", "simple", "real"]}
    suites = {s: [c for c in cs if os.path.exists(os.path.join(c, "model.onnx"))] for s, cs in suites.items()}
    suites["light"] = light_cases(root, os.path.join(a.cache, "light-cases"))
    results = {}
    with cf.ThreadPoolExecutor(a.jobs) as ex:
        futs = {ex.submit(check, a.convkit, c, a.rtol, a.atol): (s, c) for s, cs in suites.items() for c in cs}
        for f in cf.as_completed(futs):
            s, c = futs[f]
            r = f.result()
            r["suite"] = s; r["ops"] = ops_of(c)
            results[(s, c)] = r
    rows = sorted(results.values(), key=lambda r: (r["suite"], r["case"]))
    if a.json_out:
        with open(a.json_out, "w") as f:
            for r in rows: f.write(json.dumps(r) + "\n")

    def tally(rs):
        return sum(r["passed"] for r in rs), len(rs)
    lines = ["# ONNX conformance", "",
             f"`Scripts/onnx_conformance.py --convkit .build/release/convkit` over onnx 1.22.0's backend-test data, "
             f"`convkit onnx check CASE --rtol {a.rtol} --atol {a.atol}` per case (ONNX's own runner uses rtol 1e-3, atol 1e-7).", "",
             "| suite | passed | cases | % |", "|---|---:|---:|---:|"]
    node = [r for r in rows if r["suite"] == "node"]
    scoped = [r for r in node if r["ops"] and set(r["ops"]) <= IN_SCOPE]
    for label, rs in [("node, operators of issue 12", scoped), ("node, all", node)] + [(s, [r for r in rows if r["suite"] == s]) for s in ["pytorch-converted", "pytorch-operator", "light", "simple", "real"]]:
        p, n = tally(rs)
        if n: lines.append(f"| {label} | {p} | {n} | {100 * p / n:.1f} |")
    lines += ["", "## Node cases by operator", "", "A case counts under every operator its model uses.", "",
              "| operator | in issue 12's list | passed | cases | failing cases |", "|---|---|---:|---:|---|"]
    by_op = {}
    for r in node:
        for op in r["ops"]: by_op.setdefault(op, []).append(r)
    for op in sorted(by_op):
        rs = by_op[op]; p, n = tally(rs)
        failing = ", ".join(r["case"].replace("test_", "", 1) for r in rs if not r["passed"])
        lines.append(f"| {op} | {'yes' if op in IN_SCOPE else 'no'} | {p} | {n} | {failing[:400] + ('…' if len(failing) > 400 else '')} |")
    lines += ["", "## Failures outside the node suite", ""]
    for r in rows:
        if r["suite"] != "node" and not r["passed"]:
            lines.append(f"- {r['suite']}/{r['case']}: {(r.get('error') or '')[:300]}")
    lines += ["", "## Why in-scope node cases fail", ""]
    for r in scoped:
        if not r["passed"]:
            lines.append(f"- {r['case']}: {(r.get('error') or '')[:240]}")
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    tmp = a.out + ".tmp"
    with open(tmp, "w") as f: f.write("\n".join(lines) + "\n")
    os.replace(tmp, a.out)
    for l in lines[4:12]: print(l)


if __name__ == "__main__":
    main()
