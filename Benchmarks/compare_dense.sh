#!/usr/bin/env bash
# Dense-prediction workloads side by side in one sitting: a U-Net training step (at 1×3×256×256, width 16, and at
# the default segmentation run's 16×3×128×128, width 8) and a style-transfer evaluation through VGG-16 features at
# 256² (forward and backward to the image), ConvKit (`convkit bench --pipeline …`) against the same architectures
# in PyTorch (Benchmarks/torch_dense_steps.py). ROUNDS alternating rounds, each side's best; prints Markdown.
#   Benchmarks/compare_dense.sh [VENV_PYTHON] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
py=${1:-../anchors-venv/bin/python}
rounds=${2:-3}
out=$(mktemp -d)
swift build -c release --product convkit >/dev/null
bin=.build/release/convkit
cases=("unet-step 256 16 1" "unet-step 128 8 16" "style-step 256 16 1")
for r in $(seq "$rounds"); do
    for i in "${!cases[@]}"; do
        read -r pipeline size width batch <<< "${cases[$i]}"
        "$bin" bench --pipeline "$pipeline" --size "$size" --width "$width" --batch "$batch" --seconds 3 --threads 2 --json > "$out/ck.$i.$r.json"
        "$py" Benchmarks/torch_dense_steps.py "$pipeline" "$size" "$width" 3 "$batch" > "$out/torch.$i.$r.json"
    done
done
python3 - "$out" "$rounds" "${cases[@]}" <<'PY'
import json, sys
out, rounds, cases = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
print("| pipeline | ConvKit ms | PyTorch ms | ConvKit / PyTorch |")
print("|---|---:|---:|---:|")
for i, case in enumerate(cases):
    pipeline, size, width, batch = case.split()
    ck = min(json.load(open(f"{out}/ck.{i}.{r}.json"))["ms"] for r in range(1, rounds + 1))
    th = min(json.load(open(f"{out}/torch.{i}.{r}.json"))["ms"] for r in range(1, rounds + 1))
    label = f"{pipeline} {batch}×3×{size}²" + (f", width {width}" if pipeline == "unet-step" else ", VGG-16")
    print(f"| {label} | {ck:.1f} | {th:.1f} | {ck / th:.2f} |")
PY
