#!/usr/bin/env python3
"""Kills `convkit train` with SIGKILL at random moments, resumes it, and checks that the result is exactly the
uninterrupted run's.

Usage: Scripts/kill_resume_harness.py [--convkit PATH] [--kills N] [--seed S] [--work DIR] [-- TRAIN ARGS…]

One reference run trains straight through. Then, `--kills` times: a run starts (fresh, or `--resume` of the
killed one), is killed with SIGKILL after a random delay (during steps, checkpoint writes, validation — wherever it
is), and its latest resume.safetensors must load (parsed here; a torn file fails). Once a run is allowed to finish,
every tensor of its final model and resume checkpoint must equal the reference's bit for bit. Only the standard
library is used, so it runs anywhere Python 3 does. Exit status 0 when everything matched.
"""
import argparse, json, os, random, shutil, signal, struct, subprocess, sys, time

def tensors(path):
    """The tensors of a safetensors file as {name: (dtype, shape, bytes)}; raises on a torn or malformed file."""
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    if n > len(data) - 8:
        raise ValueError(f"{path}: header of {n} bytes in a file of {len(data)}")
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        if not (0 <= a <= b <= len(body)):
            raise ValueError(f"{path}: {name} at {a}..{b} outside {len(body)} bytes")
        out[name] = (info["dtype"], tuple(info["shape"]), body[a:b])
    return out, header.get("__metadata__", {})

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--convkit", default=".build/release/convkit")
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--work", default="/tmp/convkit-kill-harness")
    ap.add_argument("--max-delay", type=float, default=2.5, help="seconds; kills land uniformly in 0.05…max")
    ap.add_argument("train_args", nargs="*")
    a = ap.parse_args()
    train = a.train_args or ["--epochs", "3", "--checkpoint-every", "7"]
    rng = random.Random(a.seed)
    shutil.rmtree(a.work, ignore_errors=True)
    ref, run = os.path.join(a.work, "reference"), os.path.join(a.work, "killed")
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.time()
    subprocess.run([a.convkit, "train", *train, "--out", ref], check=True, **quiet)
    straight = time.time() - t0
    kills = loaded = finished_early = mid_epoch = 0
    started = False
    while kills < a.kills:
        cmd = [a.convkit, "train", "--resume", run] if started else [a.convkit, "train", *train, "--out", run]
        p = subprocess.Popen(cmd, **quiet)
        time.sleep(rng.uniform(0.05, a.max_delay))
        if p.poll() is not None:
            finished_early += 1          # the run ended before the kill: start over so every kill interrupts something
            shutil.rmtree(run, ignore_errors=True); started = False
            continue
        p.send_signal(signal.SIGKILL); p.wait(); kills += 1
        ckpt = os.path.join(run, "resume.safetensors")
        if os.path.exists(ckpt):
            _, meta = tensors(ckpt)      # must parse: atomic writes leave the old or the new file, never a torn one
            position = json.loads(meta["training_position"])
            mid_epoch += position["batch"] > 0
            loaded += 1; started = True
        else:
            shutil.rmtree(run, ignore_errors=True); started = False   # killed before the first checkpoint
    cmd = [a.convkit, "train", "--resume", run] if started else [a.convkit, "train", *train, "--out", run]
    expected = None
    if started:
        p = json.loads(tensors(os.path.join(run, "resume.safetensors"))[1]["training_position"])
        expected = f"at epoch {p['epoch'] + 1}, batch {p['batch']} of"
    final = subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    # The last run must continue from the checkpoint (a run that silently started over would also end equal).
    if expected and expected not in final.stderr:
        print(f"the final run did not resume {expected}: {final.stderr[-500:]}", file=sys.stderr)
        return 1
    mismatches = []
    for name in sorted(os.listdir(ref)):
        if not name.endswith(".safetensors"):
            continue
        (rt, _), (kt, _) = tensors(os.path.join(ref, name)), tensors(os.path.join(run, name))
        if rt.keys() != kt.keys():
            mismatches.append(f"{name}: tensor names differ")
        mismatches += [f"{name}: {t}" for t in sorted(rt) if t in kt and rt[t] != kt[t]]
    print(json.dumps({"kills": kills, "checkpoints_loaded": loaded, "resumed_mid_epoch": mid_epoch, "runs_finished_before_kill": finished_early,
                      "straight_run_seconds": round(straight, 2), "mismatched_tensors": len(mismatches),
                      "identical": not mismatches}))
    for m in mismatches[:20]:
        print("mismatch:", m, file=sys.stderr)
    return 0 if not mismatches else 1

if __name__ == "__main__":
    sys.exit(main())
