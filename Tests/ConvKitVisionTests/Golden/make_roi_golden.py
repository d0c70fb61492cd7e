"""Golden values for RoI pooling and RoIAlign, computed by torchvision.ops (run offline; writes roi.npz).

Usage: python make_roi_golden.py   (needs torch, torchvision, numpy)

Input x [2, 3, 13, 17]; rois [K, 5] = (batch index, x1, y1, x2, y2) in input pixels / spatial_scale, including
boxes partly outside the map, tiny and inverted boxes. For each case the forward output and the gradient of
L = Σ out ⊙ r with respect to x (r random) are stored: roi_pool (output 3×4, scale 0.5), roi_align with
aligned False/True and sampling ratio −1 (adaptive) / 2 (output 4×3, scale 0.25 and 1.0).
"""
import os
import numpy as np
import torch
from torchvision.ops import roi_align, roi_pool

torch.manual_seed(1)
x = torch.randn(2, 3, 13, 17, dtype=torch.float32)
rois = torch.tensor([
    [0, 2.0, 3.0, 20.0, 18.0],
    [1, 0.0, 0.0, 33.0, 25.0],
    [0, 10.5, 4.25, 14.75, 9.5],
    [1, -6.0, -4.0, 8.0, 6.0],
    [0, 30.0, 20.0, 40.0, 30.0],     # past the right/bottom edge
    [1, 5.0, 5.0, 5.0, 5.0],         # a point
    [0, 12.0, 9.0, 8.0, 4.0],        # inverted
    [1, 1.3, 2.7, 27.9, 11.1],
], dtype=torch.float32)
out = {"x": x, "rois": rois}
cases = [("pool", dict(output_size=(3, 4), spatial_scale=0.5)),
         ("align_s025_adaptive", dict(output_size=(4, 3), spatial_scale=0.25, sampling_ratio=-1, aligned=False)),
         ("align_s05_aligned", dict(output_size=(4, 3), spatial_scale=0.5, sampling_ratio=-1, aligned=True)),
         ("align_s1_ratio2", dict(output_size=(2, 5), spatial_scale=1.0, sampling_ratio=2, aligned=False)),
         ("align_s05_ratio2_aligned", dict(output_size=(3, 3), spatial_scale=0.5, sampling_ratio=2, aligned=True))]
for name, kw in cases:
    xi = x.clone().requires_grad_(True)
    y = roi_pool(xi, rois, **kw) if name == "pool" else roi_align(xi, rois, **kw)
    r = torch.randn_like(y)
    (y * r).sum().backward()
    out[name + ".out"], out[name + ".r"], out[name + ".grad"] = y.detach(), r, xi.grad
np.savez_compressed(os.path.join(os.path.dirname(os.path.abspath(__file__)), "roi.npz"),
                    **{k: v.detach().numpy().astype(np.float32) for k, v in out.items()})
print("wrote", len(out), "arrays")
