"""Golden values for ConvKitVision's box ops, computed by torchvision (run offline, results committed as boxes.npz).

Usage: python make_box_golden.py   (needs torch, torchvision, numpy; writes boxes.npz next to this file)

Cases:
- iou.a [20,4], iou.b [30,4] → iou.out [20,30] (torchvision.ops.box_iou), giou.out (generalized_box_iou).
- nms.K.boxes / nms.K.scores / nms.K.iou → nms.K.keep (torchvision.ops.nms), for boxes built as torchvision's
  own tests build them (the last box overlaps the first just under the threshold), boxes on a half-pixel grid
  (so IoUs land exactly on thresholds such as 0.5), and scores rounded to two decimals (many ties).
- batched.K.* with classes → batched.K.keep (torchvision.ops.batched_nms).
"""
import os
import numpy as np
import torch
import torchvision

torch.manual_seed(0)
out = {}


def rand_boxes(n, scale=100.0, grid=None):
    b = torch.rand(n, 4) * scale
    b[:, 2:] += b[:, :2] + 1
    if grid:
        b = torch.round(b / grid) * grid
    return b


b1, b2 = rand_boxes(20), rand_boxes(30)
b2[0] = b1[0]          # identical pair (IoU 1)
b2[1] = torch.tensor([500.0, 500, 510, 510])   # disjoint from all
out["iou.a"], out["iou.b"] = b1, b2
out["iou.out"] = torchvision.ops.box_iou(b1, b2)
out["giou.out"] = torchvision.ops.generalized_box_iou(b1, b2)

case = 0
for n in [10, 60, 400, 2500]:
    for thr in [0.3, 0.5, 0.7]:
        for kind in ["torchvision", "grid", "ties"]:
            if kind == "torchvision":
                b = rand_boxes(n)
                b[-1] = b[0]
                x0, y0, x1, y1 = b[-1]
                t = thr + 1e-5
                b[-1, 2] += (x1 - x0) * (1 - t) / t
                s = torch.rand(n)
            elif kind == "grid":
                b = rand_boxes(n, scale=60.0, grid=0.5)
                s = torch.rand(n)
            else:
                b = rand_boxes(n, scale=80.0, grid=1.0)
                s = torch.round(torch.rand(n) * 20) / 20
            k = f"nms.{case}"
            out[k + ".boxes"], out[k + ".scores"] = b, s
            out[k + ".iou"] = torch.tensor([thr])
            out[k + ".keep"] = torchvision.ops.nms(b, s, thr).float()
            case += 1
out["nms.count"] = torch.tensor([float(case)])

case = 0
for n in [200, 3000]:
    for classes in [3, 80]:
        b = rand_boxes(n, scale=300.0)
        s = torch.round(torch.rand(n) * 50) / 50
        c = torch.randint(0, classes, (n,))
        k = f"batched.{case}"
        out[k + ".boxes"], out[k + ".scores"], out[k + ".classes"] = b, s, c.float()
        out[k + ".keep"] = torchvision.ops.batched_nms(b, s, c, 0.5).float()
        case += 1
out["batched.count"] = torch.tensor([float(case)])

np.savez_compressed(os.path.join(os.path.dirname(os.path.abspath(__file__)), "boxes.npz"),
                    **{k: v.numpy().astype(np.float32) for k, v in out.items()})
print("wrote", len(out), "arrays")
