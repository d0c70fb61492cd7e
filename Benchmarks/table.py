"""Formats the JSON files written by Benchmarks/compare.sh as the Markdown table of BENCHMARKS.md.
Timings measured in several rounds (NAME.1.json, NAME.2.json, …) keep each side's best round per case."""
import json, sys, os, glob
d = sys.argv[1]
def load(name): return json.load(open(os.path.join(d, name)))
def rounds(name): return [json.load(open(f)) for f in sorted(glob.glob(os.path.join(d, name + ".*.json")))]

def best(runs):
    """Per case, the fastest round: min of every *ms field, max of gflops."""
    out = runs[0]
    for r in runs[1:]:
        for sec in ("gemm", "conv2d", "maxpool2d"):
            for a, b in zip(out.get(sec, []), r.get(sec, [])):
                for k in a:
                    if k.endswith("ms"): a[k] = min(a[k], b[k])
                    elif k == "gflops": a[k] = max(a[k], b[k])
        if "infer_ms" in out: out["infer_ms"] = min(out["infer_ms"], r["infer_ms"])
    return out

ck, th, npy = best(rounds("convkit")), best(rounds("torch")), load("numpy.json")
n = len(rounds("convkit"))
print(f"ConvKit kernels: {ck['isa']}, {ck['threads']} threads. PyTorch {th.get('torch')}. Best of {n} alternating rounds per side.\n")
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
r, o = best(rounds("convkit_r18")), best(rounds("ort_r18"))
print(f"| ResNet-18 inference, batch 1, 224², ms (vs ONNX Runtime) | {r['infer_ms']:.1f} | {o['infer_ms']:.1f} | {r['infer_ms'] / o['infer_ms']:.2f}× |")
rt = load("convkit_r18_train.json")
print(f"| ResNet-18 training step, batch 16, ms (PyTorch anchor: 775–936 ms) | {rt['train_step_ms']:.0f} | 775–936 | {rt['train_step_ms'] / 856:.2f}× of the midpoint |")
