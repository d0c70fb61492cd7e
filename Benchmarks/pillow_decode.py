"""Pillow's side of `convkit bench --pipeline decode --image FILE`: median ms to decode the file's bytes (held in
memory) into pixels, as Image.open(BytesIO(b)).convert("RGB" or "L") does. Usage: python pillow_decode.py FILE [SECONDS]"""
import io
import json
import statistics
import sys
import time

from PIL import Image

path, seconds = sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 2
data = open(path, "rb").read()


def decode():
    im = Image.open(io.BytesIO(data))
    return im.convert("L" if im.mode in ("L", "1") else "RGB")


decode()
times, start = [], time.perf_counter()
while time.perf_counter() - start < seconds or len(times) < 5:
    t = time.perf_counter()
    decode()
    times.append((time.perf_counter() - t) * 1000)
print(json.dumps({"pipeline": "decode", "image": path, "ms": statistics.median(times)}))
