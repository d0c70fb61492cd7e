"""A 3,000-image COCO ground truth and results pair for timing `convkit detect-eval` against pycocotools
(../shared/anchors/coco_eval.py): ~12k annotations in 20 categories, ~14k detections (jittered copies of the
ground truth plus false positives). Usage: python make_coco_bench.py OUT_DIR   (numpy only)."""
import json, os, sys
import numpy as np

rng = np.random.default_rng(1)
out = sys.argv[1] if len(sys.argv) > 1 else "."
os.makedirs(out, exist_ok=True)
images, anns, dets = [], [], []
for i in range(3000):
    images.append({"id": i + 1, "file_name": f"{i + 1}.png", "width": 640, "height": 480})
    for _ in range(int(rng.integers(1, 8))):
        w, h = rng.uniform(8, 250, 2)
        x, y = rng.uniform(0, 640 - w), rng.uniform(0, 480 - h)
        c = int(rng.integers(1, 21))
        anns.append({"id": len(anns) + 1, "image_id": i + 1, "category_id": c, "bbox": [x, y, w, h], "area": w * h,
                     "iscrowd": int(rng.random() < 0.02)})
        if rng.random() < 0.85:
            j = rng.normal(0, 0.06 * np.array([w, h, w, h]))
            dets.append({"image_id": i + 1, "category_id": c, "bbox": [x + j[0], y + j[1], max(1.0, w + j[2]), max(1.0, h + j[3])],
                         "score": float(rng.random())})
    for _ in range(int(rng.integers(0, 3))):
        dets.append({"image_id": i + 1, "category_id": int(rng.integers(1, 21)),
                     "bbox": [float(rng.uniform(0, 500)), float(rng.uniform(0, 400)), float(rng.uniform(8, 140)), float(rng.uniform(8, 140))],
                     "score": float(rng.random())})
json.dump({"images": images, "annotations": anns, "categories": [{"id": c, "name": f"c{c}"} for c in range(1, 21)]},
          open(os.path.join(out, "gt.json"), "w"))
json.dump(dets, open(os.path.join(out, "dt.json"), "w"))
print(json.dumps({"images": len(images), "annotations": len(anns), "detections": len(dets)}))
