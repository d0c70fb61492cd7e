#!/usr/bin/env bash
# 1-D (temporal) and 3-D (volumetric) convolutions, ConvKit against PyTorch in one sitting: the cases of
# Benchmarks/sequence_volume_shapes.json, forward and forward+backward (input and weight gradients), 2 threads,
# ROUNDS alternating rounds (default 3), each side's best. Prints the Markdown table of BENCHMARKS.md.
#   Benchmarks/compare_sequence_volume.sh [ANCHORS_DIR] [VENV_PYTHON] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
anchors=${1:-../shared/anchors}
py=${2:-../anchors-venv/bin/python}
rounds=${3:-3}
out=$(mktemp -d)
swift build -c release --product convkit >/dev/null
for r in $(seq "$rounds"); do
    .build/release/convkit bench --json --threads 2 --shapes Benchmarks/sequence_volume_shapes.json > "$out/convkit.$r.json"
    "$py" "$anchors/torch_cases.py" Benchmarks/sequence_volume_shapes.json > "$out/torch.$r.json"
done
python3 - "$out" "$rounds" <<'PY'
import json, sys
out, rounds = sys.argv[1], int(sys.argv[2])
ck = [json.load(open(f"{out}/convkit.{r}.json")) for r in range(1, rounds + 1)]
pt = [json.load(open(f"{out}/torch.{r}.json")) for r in range(1, rounds + 1)]
print("| case | ConvKit fwd ms | PyTorch fwd ms | ratio | ConvKit fwd+bwd ms | PyTorch fwd+bwd ms | ratio |")
print("|---|---:|---:|---:|---:|---:|---:|")
for key in ("conv1d", "conv3d"):
    for i, c in enumerate(ck[0][key]):
        best = lambda runs, f: min(x[key][i][f] for x in runs)
        cf, tf, cb, tb = best(ck, "fwd_ms"), best(pt, "fwd_ms"), best(ck, "fwdbwd_ms"), best(pt, "fwdbwd_ms")
        print(f"| {key} {c['name']} | {cf:.3f} | {tf:.3f} | {cf / tf:.2f} | {cb:.3f} | {tb:.3f} | {cb / tb:.2f} |")
PY
