#!/usr/bin/env bash
# Runs ConvKit's benchmarks and the anchors (PyTorch, ONNX Runtime, numpy/OpenBLAS) in one sitting on this
# machine and prints the side-by-side Markdown table of BENCHMARKS.md.
# Needs a venv with torch, torchvision, onnx, onnxruntime, numpy (see ../shared/anchors/README.md):
#   Benchmarks/compare.sh [ANCHORS_DIR] [VENV_PYTHON] [ROUNDS]
# The machine is shared and its speed drifts by up to 1.5× within minutes, so the kernel and inference
# timings run ROUNDS times (default 3), ConvKit and the anchor alternating, and each side keeps its best.
set -euo pipefail
cd "$(dirname "$0")/.."
anchors=${1:-../shared/anchors}
py=${2:-../anchors-venv/bin/python}
rounds=${3:-3}
out=$(mktemp -d)
swift build -c release --product convkit >/dev/null
bin=.build/release/convkit
for r in $(seq "$rounds"); do
    "$bin" bench --json --threads 2 > "$out/convkit.$r.json"
    "$py" "$anchors/torch_cases.py" Benchmarks/shapes.json > "$out/torch.$r.json"
    "$bin" bench --model resnet18 --batch 1 --seconds 2 --json > "$out/convkit_r18.$r.json"
    "$py" "$anchors/ort_resnet18.py" > "$out/ort_r18.$r.json"
done
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$py" - > "$out/numpy.json" <<'PY'
import json, time, statistics, numpy as np
from threadpoolctl import threadpool_limits
res = []
with threadpool_limits(2):
    for n in (1024, 2048):
        a = np.random.rand(n, n).astype(np.float32); b = np.random.rand(n, n).astype(np.float32)
        for _ in range(3): a @ b
        t = []
        end = time.perf_counter() + 1.0
        while time.perf_counter() < end or len(t) < 7:
            s = time.perf_counter(); a @ b; t.append((time.perf_counter() - s) * 1e3)
        ms = statistics.median(t); res.append({"n": n, "ms": ms, "gflops": 2 * n ** 3 / ms / 1e6})
print(json.dumps(res))
PY
"$bin" train --model lenet5 --epochs 10 --batch-size 64 --optimizer adam --lr 0.001 --augment none --schedule constant --threads 2 --out "$out/lenet" --json 2>/dev/null | tail -1 > "$out/convkit_lenet.json"
"$py" "$anchors/torch_lenet.py" Data/mnist5k > "$out/torch_lenet.json"
"$bin" bench --model resnet18 --batch 16 --train --seconds 3 --json > "$out/convkit_r18_train.json"
python3 Benchmarks/table.py "$out"
