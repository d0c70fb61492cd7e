"""Writes the torch-exported golden models of ConvKitInteropTests: a small CNN with the building blocks of torchvision's
classifiers (conv-BN-ReLU, depthwise + hard-swish, squeeze-and-excitation, channel shuffle, dense concatenation,
residual addition, max/average pooling, a linear head), exported by the TorchScript exporter at opset 13 and by the
torch.export exporter at opset 18, with ONNX Runtime's outputs on a fixed input.

Run: ../anchors-venv/bin/python Tests/ConvKitInteropTests/Golden/make_torch_golden.py (torch, onnx, onnxscript,
onnxruntime). Writes Golden/torch/{blocks_opset13.onnx, blocks_opset18.onnx, input.npy, output_opset13.npy,
output_opset18.npy}."""
import os, numpy as np, torch, torch.nn as nn, onnxruntime as ort

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch")
os.makedirs(here, exist_ok=True)
torch.manual_seed(0)


class SE(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.fc1, self.fc2 = nn.Conv2d(c, c // 4, 1), nn.Conv2d(c // 4, c, 1)
    def forward(self, x):
        s = x.mean((2, 3), keepdim=True)
        return x * nn.functional.hardsigmoid(self.fc2(torch.relu(self.fc1(s))))


class Blocks(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.dw = nn.Sequential(nn.Conv2d(16, 16, 3, 1, 1, groups=16, bias=False), nn.BatchNorm2d(16), nn.Hardswish())
        self.se = SE(16)
        self.pw = nn.Sequential(nn.Conv2d(16, 16, 1, bias=False), nn.BatchNorm2d(16))
        self.dense = nn.Sequential(nn.Conv2d(16, 8, 3, 1, 1), nn.ReLU6())
        self.pool = nn.MaxPool2d(3, 2, 1)
        self.head = nn.Linear(24, 10)
    def forward(self, x):
        x = self.stem(x)
        y = self.pw(self.se(self.dw(x)))
        x = torch.relu(x + y)                                   # residual
        n, c, h, w = x.shape                                    # channel shuffle (groups 2)
        x = x.reshape(n, 2, c // 2, h, w).transpose(1, 2).reshape(n, c, h, w)
        x = torch.cat([x, self.dense(x)], 1)                    # dense concatenation
        x = self.pool(x)
        x = nn.functional.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.head(x)


m = Blocks()
for mod in m.modules():                                         # non-trivial statistics, so folding is exercised
    if isinstance(mod, nn.BatchNorm2d):
        mod.running_mean.uniform_(-0.5, 0.5); mod.running_var.uniform_(0.5, 2.0)
        mod.weight.data.uniform_(0.5, 1.5); mod.bias.data.uniform_(-0.2, 0.2)
m.eval()
x = torch.randn(1, 3, 32, 32)
np.save(os.path.join(here, "input.npy"), x.numpy())
for opset, dynamo in [(13, False), (18, True)]:
    path = os.path.join(here, f"blocks_opset{opset}.onnx")
    # A dynamic batch axis, as users export for fine-tuning in batches.
    dyn = {"dynamic_shapes": {"x": {0: torch.export.Dim("batch", min=1, max=1024)}}} if dynamo else {"dynamic_axes": {"x": {0: "batch"}, "y": {0: "batch"}}}
    torch.onnx.export(m, (x,), path, opset_version=opset, dynamo=dynamo, input_names=["x"], output_names=["y"], external_data=False, **dyn)
    s = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    np.save(os.path.join(here, f"output_opset{opset}.npy"), s.run(None, {"x": x.numpy()})[0])
    with torch.no_grad():
        print(opset, "torch vs ORT", float(np.abs(m(x).numpy() - np.load(os.path.join(here, f"output_opset{opset}.npy"))).max()))
