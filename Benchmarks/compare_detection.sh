#!/usr/bin/env bash
# Detection speed side by side in one sitting: ConvKit's NMS, batched NMS and IoU matrix against torchvision.ops
# (shared/anchors/torch_nms.py, same box distribution), and `convkit detect-eval` against pycocotools on a
# 3,000-image set (Benchmarks/make_coco_bench.py). ROUNDS alternating rounds, each side's best; prints Markdown.
#   Benchmarks/compare_detection.sh [ANCHORS_DIR] [VENV_PYTHON] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
anchors=${1:-../shared/anchors}
py=${2:-../anchors-venv/bin/python}
rounds=${3:-3}
out=$(mktemp -d)
swift build -c release --product convkit >/dev/null
bin=.build/release/convkit
python3 Benchmarks/make_coco_bench.py "$out/coco" >/dev/null
for r in $(seq "$rounds"); do
    "$bin" bench --json --threads 2 --shapes Benchmarks/nms_shapes.json --seconds 1 > "$out/convkit.$r.json"
    "$py" "$anchors/torch_nms.py" 1000 10000 100000 > "$out/torch.$r.json"   # 100k boxes: ~10 s per torchvision call
    python3 - "$out/ck_eval.$r.json" "$bin" detect-eval --ground-truth "$out/coco/gt.json" --detections "$out/coco/dt.json" --json \
        > "$out/ck_eval_time.$r.json" <<'PY'
import json, subprocess, sys, time
t = time.perf_counter()
with open(sys.argv[1], "w") as f:
    subprocess.run(sys.argv[2:], check=True, stdout=f, stderr=subprocess.DEVNULL)
print(json.dumps({"seconds": time.perf_counter() - t}))
PY
    "$py" "$anchors/coco_eval.py" "$out/coco/gt.json" "$out/coco/dt.json" > "$out/coco_eval.$r.json"
done
python3 - "$out" "$rounds" <<'PY'
import json, sys
out, rounds = sys.argv[1], int(sys.argv[2])
load = lambda n: [json.load(open(f"{out}/{n}.{r}.json")) for r in range(1, rounds + 1)]
ck, tv = load("convkit"), load("torch")
print("| case | ConvKit ms | torchvision ms | speed-up |\n|---|---:|---:|---:|")
for i, c in enumerate(ck[0]["nms"]):
    n = c["boxes"]
    rows = [("nms", "nms_ms", "nms_ms"), (f"batched_nms, {c['classes']} classes", "batched_ms", "batched_nms_80_ms"), ("box_iou 1000 × N", "box_iou_ms", "box_iou_ms")]
    for name, ka, kb in rows:
        a = min(r["nms"][i][ka] for r in ck); b = min(r["nms"][i][kb] for r in tv)
        print(f"| {name}, N = {n:,} | {a:.3f} | {b:.3f} | {b / a:.1f}× |")
ce = min(json.load(open(f"{out}/ck_eval_time.{r}.json"))["seconds"] for r in range(1, rounds + 1))
pe = min(x["seconds"] for x in load("coco_eval"))
same = all(abs(load("ck_eval")[0][k] - load("coco_eval")[0][k]) < 1e-9 for k in ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"])
print(f"| detect-eval, 3,000 images (whole command vs load+evaluate+accumulate) | {ce * 1000:.0f} | {pe * 1000:.0f} (pycocotools) | {pe / ce:.1f}× |")
print(f"\n12 summary numbers equal to 1e-9: {same}; torchvision {tv[0]['torchvision']}")
PY
