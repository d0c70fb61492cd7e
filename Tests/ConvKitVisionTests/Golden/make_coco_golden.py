"""COCO evaluation fixtures scored by pycocotools (run offline; writes coco/*.json and coco/expected.json).

Usage: python make_coco_golden.py   (needs pycocotools, numpy)

Each case is a ground-truth instances file and a results file built to exercise one part of COCOeval: crowd
regions, images without ground truth, all false positives, many classes, more than 100 detections per image,
boxes on an integer grid (IoUs exactly at thresholds), tied scores, annotation areas that differ from w·h, and
detections of categories the ground truth does not list. expected.json maps each case to pycocotools' 12
summary numbers (AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl) and per-category AP.
"""
import contextlib, io, json, os
import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "coco")
rng = np.random.default_rng(0)
names = ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"]


def make(n_images, n_cats, per_image, crowd_p=0.0, grid=False, tie=False, fp_only=False, empty_p=0.0,
         dets_per_gt=2, extra_fp=3, area_jitter=False, unknown_cat=False, size=(8, 200)):
    images, anns, dets = [], [], []
    aid = 1
    for i in range(n_images):
        iid = 1000 + 7 * i
        images.append({"id": iid, "file_name": f"{iid}.png", "width": 640, "height": 480})
        if rng.random() < empty_p:
            k = 0
        else:
            k = int(rng.integers(1, per_image + 1))
        for _ in range(k):
            w, h = rng.uniform(*size, 2)
            x, y = rng.uniform(0, 640 - w), rng.uniform(0, 480 - h)
            if grid:
                x, y, w, h = [float(round(v)) for v in (x, y, w, h)]
            cat = int(rng.integers(1, n_cats + 1))
            crowd = int(rng.random() < crowd_p)
            area = w * h * (rng.uniform(0.5, 1.5) if area_jitter else 1.0)
            anns.append({"id": aid, "image_id": iid, "category_id": cat, "bbox": [x, y, w, h], "area": area, "iscrowd": crowd})
            aid += 1
            if fp_only:
                continue
            for _ in range(int(rng.integers(0, dets_per_gt + 1))):
                j = rng.normal(0, 0.08 * np.array([w, h, w, h]))
                b = [x + j[0], y + j[1], max(1.0, w + j[2]), max(1.0, h + j[3])]
                if grid:
                    b = [float(round(v)) for v in b]
                s = float(round(rng.random(), 1)) if tie else float(rng.random())
                c = cat if rng.random() < 0.9 else int(rng.integers(1, n_cats + 1))
                dets.append({"image_id": iid, "category_id": c, "bbox": b, "score": s})
        for _ in range(int(rng.integers(0, extra_fp + 1))):
            w, h = rng.uniform(*size, 2)
            b = [float(rng.uniform(0, 600)), float(rng.uniform(0, 440)), float(w), float(h)]
            if grid:
                b = [float(round(v)) for v in b]
            s = float(round(rng.random(), 1)) if tie else float(rng.random())
            dets.append({"image_id": iid, "category_id": int(rng.integers(1, n_cats + (2 if unknown_cat else 1))), "bbox": b, "score": s})
    cats = [{"id": c, "name": f"class{c}"} for c in range(1, n_cats + 1)]
    return {"images": images, "annotations": anns, "categories": cats}, dets


cases = {
    "basic": make(40, 3, 4),
    "crowd": make(40, 2, 5, crowd_p=0.25),
    "empty_images": make(60, 3, 3, empty_p=0.4),
    "all_false_positives": make(30, 2, 3, fp_only=True, extra_fp=6),
    "many_classes": make(80, 40, 6),
    "over_100_per_image": make(4, 2, 60, dets_per_gt=3, extra_fp=40, size=(4, 60)),
    "integer_grid_ties": make(50, 3, 5, grid=True, tie=True),
    "area_field_and_unknown_category": make(40, 3, 4, area_jitter=True, unknown_cat=True, size=(4, 300)),
}

expected = {}
for name, (gt, dets) in cases.items():
    gp, dp = os.path.join(here, f"{name}_gt.json"), os.path.join(here, f"{name}_dt.json")
    with open(gp, "w") as f:
        json.dump(gt, f)
    with open(dp, "w") as f:
        json.dump(dets, f)
    with contextlib.redirect_stdout(io.StringIO()):
        g = COCO(gp)
        d = g.loadRes(dp)
        e = COCOeval(g, d, "bbox")
        e.evaluate(); e.accumulate(); e.summarize()
    p = e.eval["precision"][:, :, :, 0, -1]
    per_cat = {}
    for k, cid in enumerate(e.params.catIds):
        v = p[:, :, k]
        per_cat[str(cid)] = float(np.mean(v[v > -1])) if (v > -1).any() else -1.0
    expected[name] = {"stats": dict(zip(names, map(float, e.stats))), "per_category_ap": per_cat}
with open(os.path.join(here, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1, sort_keys=True)
print(json.dumps({k: v["stats"]["AP"] for k, v in expected.items()}))
