"""Formats the JSON files written by Benchmarks/compare.sh as the Markdown table of BENCHMARKS.md."""
import json, sys, os
d = sys.argv[1]
def load(name): return json.load(open(os.path.join(d, name)))
ck, th, npy = load("convkit.json"), load("torch.json"), load("numpy.json")
print(f"ConvKit kernels: {ck['isa']}, {ck['threads']} threads. PyTorch {th.get('torch')}.\n")
print("| case | ConvKit | anchor | ratio (ConvKit / anchor) |\n|---|---:|---:|---:|")
for g in ck["gemm"]:
    o = next(x for x in npy if x["n"] == g["m"])
    t = next(x for x in th["gemm"] if x["m"] == g["m"])
    print(f"| sgemm {g['m']}³ GFLOP/s (vs OpenBLAS via numpy) | {g['gflops']:.0f} | {o['gflops']:.0f} | {g['gflops'] / o['gflops']:.2f} of OpenBLAS |")
    print(f"| sgemm {g['m']}³ GFLOP/s (vs PyTorch) | {g['gflops']:.0f} | {t['gflops']:.0f} | {g['gflops'] / t['gflops']:.2f} of PyTorch |")
for c in ck["conv2d"]:
    t = next(x for x in th["conv2d"] if x["name"] == c["name"])
    print(f"| conv2d {c['name']} forward ms | {c['fwd_ms']:.3f} | {t['fwd_ms']:.3f} | {c['fwd_ms'] / t['fwd_ms']:.2f}× |")
    print(f"| conv2d {c['name']} forward+backward ms | {c['fwdbwd_ms']:.3f} | {t['fwdbwd_ms']:.3f} | {c['fwdbwd_ms'] / t['fwdbwd_ms']:.2f}× |")
for p, t in zip(ck["maxpool2d"], th["maxpool2d"]):
    print(f"| maxpool2d ({p['n']},{p['c']},{p['h']},{p['w']}) {p['k']}×{p['k']} ms | {p['ms']:.3f} | {t['ms']:.3f} | {p['ms'] / t['ms']:.2f}× |")
cl, tl = load("convkit_lenet.json"), load("torch_lenet.json")
print(f"| LeNet-5 training, MNIST-5k, batch 64, Adam, images/s (higher is better) | {cl['images_per_second']:.0f} | {tl['images_per_second']:.0f} | {cl['images_per_second'] / tl['images_per_second']:.2f} of PyTorch |")
print(f"| LeNet-5 test accuracy after those 10 epochs | {cl['test_accuracy'] * 100:.1f} % | {tl['test_accuracy'] * 100:.1f} % | |")
r, o = load("convkit_r18.json"), load("ort_r18.json")
print(f"| ResNet-18 inference, batch 1, 224², ms (vs ONNX Runtime) | {r['infer_ms']:.1f} | {o['infer_ms']:.1f} | {r['infer_ms'] / o['infer_ms']:.2f}× |")
rt = load("convkit_r18_train.json")
print(f"| ResNet-18 training step, batch 16, ms (PyTorch anchor: 775–936 ms) | {rt['train_step_ms']:.0f} | 775–936 | {rt['train_step_ms'] / 856:.2f}× of the midpoint |")
