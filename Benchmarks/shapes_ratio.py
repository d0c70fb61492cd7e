"""Side-by-side summary of one shapes file's conv2d cases: ConvKit (`convkit bench --shapes F --json`, one or more
rounds) against PyTorch (../shared/anchors/torch_cases.py F, one or more rounds), best of each side per case.

Usage: python3 Benchmarks/shapes_ratio.py SHAPES.json 'convkit.*.json' 'torch.*.json' [--worst 15]
Prints how many cases meet forward <= 1.0x and forward+backward <= 1.2x PyTorch's time, the ratios' geometric
means, and the worst cases as a Markdown table.
"""
import glob, json, math, sys


def best(pattern):
    out = {}
    for f in glob.glob(pattern):
        for c in json.load(open(f)).get("conv2d", []):
            fwd, fb = out.get(c["name"], (math.inf, math.inf))
            out[c["name"]] = (min(fwd, c["fwd_ms"]), min(fb, c["fwdbwd_ms"]))
    return out


def main():
    args = sys.argv[1:]
    worst = int(args[args.index("--worst") + 1]) if "--worst" in args else 15
    shapes, ck, pt = json.load(open(args[0]))["conv2d"], best(args[1]), best(args[2])
    rows = []
    for c in shapes:
        n = c["name"]
        if n in ck and n in pt:
            rows.append((n, ck[n][0], pt[n][0], ck[n][0] / pt[n][0], ck[n][1], pt[n][1], ck[n][1] / pt[n][1]))
    if not rows:
        sys.exit("no case is in both result sets")
    fwd_ok = sum(r[3] <= 1.0 for r in rows)
    fb_ok = sum(r[6] <= 1.2 for r in rows)
    gm = lambda xs: math.exp(sum(math.log(x) for x in xs) / len(xs))
    print(f"{len(rows)} cases: forward <= 1.0x PyTorch in {fwd_ok}, forward+backward <= 1.2x in {fb_ok}; "
          f"geometric mean ratio forward {gm([r[3] for r in rows]):.2f}, forward+backward {gm([r[6] for r in rows]):.2f}")
    print()
    print("| case | ConvKit fwd ms | PyTorch fwd ms | ratio | ConvKit fwd+bwd ms | PyTorch fwd+bwd ms | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in sorted(rows, key=lambda r: -max(r[3], r[6] / 1.2))[:worst]:
        print(f"| {r[0]} | {r[1]:.3f} | {r[2]:.3f} | {r[3]:.2f} | {r[4]:.3f} | {r[5]:.3f} | {r[6]:.2f} |")


if __name__ == "__main__":
    main()
