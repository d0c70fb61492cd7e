"""Writes ops.npz: inputs, outputs and gradients computed by PyTorch (and numpy for pad), the independent
reference the Swift tests compare against. Run offline with the anchors' venv:
    ../anchors-venv/bin/python Tests/ConvKitTests/Golden/make_golden.py
Every case uses L = sum(y * r) with a fixed random r, so the input gradients are r pushed back."""
import numpy as np, torch, torch.nn.functional as F, os

torch.manual_seed(0)
out = {}
def t(*s): return torch.randn(*s, dtype=torch.float64)

def case(name, fn, inputs):
    xs = [x.clone().requires_grad_(True) for x in inputs]
    y = fn(*xs)
    r = torch.randn_like(y)
    (y * r).sum().backward()
    for i, x in enumerate(inputs): out[f"{name}.in{i}"] = x.numpy().astype(np.float32)
    out[f"{name}.out"] = y.detach().numpy().astype(np.float32)
    out[f"{name}.r"] = r.numpy().astype(np.float32)
    for i, x in enumerate(xs): out[f"{name}.grad{i}"] = x.grad.numpy().astype(np.float32)

case("conv2d_groups_dil_asym", lambda x, w, b: F.conv2d(F.pad(x, (1, 0, 2, 1)), w, b, stride=(2, 1), dilation=(1, 2), groups=2),
     [t(2, 4, 9, 8), t(6, 2, 3, 3), t(6)])
case("conv1d", lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=3, dilation=2), [t(2, 3, 20), t(5, 3, 4), t(5)])
case("conv3d", lambda x, w, b: F.conv3d(x, w, b, stride=(1, 2, 1), padding=(1, 0, 1)), [t(1, 2, 5, 6, 5), t(3, 2, 3, 2, 3), t(3)])
case("conv2d_reflect", lambda x, w: F.conv2d(F.pad(x, (2, 2, 2, 2), mode="reflect"), w), [t(1, 2, 7, 6), t(3, 2, 5, 5)])
case("conv_transpose2d", lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1, groups=2, dilation=1),
     [t(2, 4, 5, 6), t(4, 3, 3, 3), t(6)])
case("conv_transpose1d_dil", lambda x, w: F.conv_transpose1d(x, w, stride=3, padding=2, dilation=2), [t(1, 2, 7), t(2, 3, 4)])
case("maxpool2d_ceil_pad", lambda x: F.max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True), [t(2, 3, 8, 9)])
case("maxpool2d_dil", lambda x: F.max_pool2d(x, 2, stride=1, dilation=2), [t(1, 2, 7, 7)])
case("avgpool2d_ceil_nopad", lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), [t(2, 3, 8, 9)])
case("avgpool2d_incl", lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=True), [t(2, 3, 8, 9)])
case("maxpool1d", lambda x: F.max_pool1d(x, 3, stride=2), [t(2, 3, 11)])
case("avgpool3d", lambda x: F.avg_pool3d(x, 2), [t(1, 2, 4, 4, 6)])
case("adaptive_avg", lambda x: F.adaptive_avg_pool2d(x, (3, 5)), [t(2, 3, 7, 11)])
case("batchnorm_train", lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True, eps=1e-5), [t(4, 3, 5, 5), t(3), t(3)])
case("instancenorm", lambda x, g, b: F.instance_norm(x, weight=g, bias=b, eps=1e-5), [t(3, 2, 4, 5), t(2), t(2)])
case("lrn", lambda x: F.local_response_norm(x, size=5, alpha=1e-2, beta=0.75, k=2.0), [t(2, 7, 3, 3)])
case("softmax", lambda x: F.softmax(x, dim=1), [t(3, 5, 2)])
case("log_softmax", lambda x: F.log_softmax(x, dim=-1), [t(4, 6) * 10])
for act, fn in [("gelu", F.gelu), ("selu", F.selu), ("elu", lambda x: F.elu(x, 0.7)), ("softplus", F.softplus),
                ("hardswish", F.hardswish), ("hardsigmoid", F.hardsigmoid), ("sigmoid", torch.sigmoid),
                ("tanh", torch.tanh), ("leaky_relu", lambda x: F.leaky_relu(x, 0.1))]:
    case(act, fn, [t(4, 9) * 3])
case("prelu", lambda x, a: F.prelu(x, a), [t(2, 3, 4), t(3)])
case("bilinear", lambda x: F.interpolate(x, size=(7, 9), mode="bilinear", align_corners=False), [t(1, 2, 4, 5)])
case("bilinear_ac", lambda x: F.interpolate(x, size=(7, 9), mode="bilinear", align_corners=True), [t(1, 2, 4, 5)])
case("nearest", lambda x: F.interpolate(x, scale_factor=(2, 3), mode="nearest"), [t(1, 2, 3, 4)])
a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
out["pad.in"] = a
out["pad.reflect"] = np.pad(a, ((0, 0), (2, 1), (3, 2)), mode="reflect")
out["pad.edge"] = np.pad(a, ((1, 0), (0, 2), (1, 1)), mode="edge")
out["pad.constant"] = np.pad(a, ((0, 1), (1, 0), (2, 0)), mode="constant", constant_values=7)
np.savez(os.path.join(os.path.dirname(os.path.abspath(__file__)), "ops.npz"), **out)
print(len(out), "arrays")
