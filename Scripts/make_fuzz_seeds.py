#!/usr/bin/env python3
"""Writes Fuzz/seeds/<target>/: generated seeds for the fuzz targets of Sources/convkit-fuzz (valid inputs for the
fuzzer to mutate from). Repository files that serve as seeds too (image fixtures, time series, ONNX node models,
dlib models) are listed in Fuzz/seed-sources and used in place, not copied here.

Usage: python3 Scripts/make_fuzz_seeds.py      (standard library only; deterministic)
"""
import gzip, io, json, os, shutil, struct, zipfile, zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "Fuzz", "seeds")
shutil.rmtree(OUT, ignore_errors=True)


def seed(target, name, data):
    os.makedirs(os.path.join(OUT, target), exist_ok=True)
    with open(os.path.join(OUT, target, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


seed("netpbm", "ascii.pgm", "P2\n3 2\n15\n0 5 10\n15 3 1\n")
seed("netpbm", "bits.pbm", b"P4\n9 2\n\xff\x80\x00\x00")
seed("netpbm", "rgb16.ppm", b"P6\n1 1\n65535\n\x00\x01\x00\x02\x00\x03")

idx = struct.pack(">IIII", 0x803, 2, 3, 4) + bytes(range(24))
seed("idx", "images.idx", idx)
seed("idx", "labels.idx", struct.pack(">II", 0x801, 3) + b"\x00\x01\x02")
seed("idx", "floats.idx", struct.pack(">II", 0xD01, 2) + struct.pack(">ff", 1.5, -2))
seed("gzip", "idx.gz", gzip.compress(idx, mtime=0))
seed("gzip", "named.gz", b"\x1f\x8b\x08\x08\x00\x00\x00\x00\x00\xffname\x00" + zlib.compress(b"hello", 9)[2:-4] + struct.pack("<II", zlib.crc32(b"hello"), 5))


def npy(descr, shape, data):
    header = ("{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, str(tuple(shape)).replace(",)", ",)"))).encode()
    header += b" " * ((64 - (10 + len(header) + 1) % 64) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + data


seed("npy", "f4.npy", npy("<f4", [2, 3], struct.pack("<6f", *range(6))))
seed("npy", "u1.npy", npy("|u1", [4], bytes([1, 2, 3, 4])))
seed("npy", "i8.npy", npy("<i8", [2], struct.pack("<2q", -1, 7)))
seed("npy", "scalar.npy", npy("<f8", [], struct.pack("<d", 3.5)))
for name, compression in [("stored.npz", zipfile.ZIP_STORED), ("deflated.npz", zipfile.ZIP_DEFLATED)]:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for entry, data in [("a.npy", npy("<f4", [2], struct.pack("<2f", 1, 2))), ("b.npy", npy("|u1", [1], b"\x05"))]:
            info = zipfile.ZipInfo(entry, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = compression
            z.writestr(info, data)
    seed("zip", name, buf.getvalue())


def safetensors(tensors, metadata):
    header, data = {"__metadata__": metadata}, b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + data


seed("safetensors", "f32.safetensors", safetensors({"w": ("F32", [2, 2], struct.pack("<4f", 1, 2, 3, 4)), "b": ("F32", [2], struct.pack("<2f", 0, 1))},
                                                   {"model": "lenet5", "classes": "0,1"}))
seed("safetensors", "mixed.safetensors", safetensors({"h": ("F16", [2], b"\x00\x3c\x00\xc0"), "i": ("I64", [1], struct.pack("<q", 9)),
                                                     "u": ("U8", [3], b"\x01\x02\x03"), "bf": ("BF16", [1], b"\x80\x3f")}, {}))

seed("json", "object.json", json.dumps({"a": [1, 2.5, -3e-2, True, None], "b": {"c": "\u00e9\\n\"q\""}}))
seed("json", "nested.json", "[[[[]]], {\"k\": [{}]}, 1e308, -0, \"\\ud83d\\ude00\"]")
coco = {"images": [{"id": 1, "file_name": "a.png", "width": 64, "height": 48}], "categories": [{"id": 1, "name": "digit"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [4, 5, 20, 10], "area": 200, "iscrowd": 0}]}
seed("coco", "instances.json", json.dumps(coco))
seed("coco", "results.json", json.dumps([{"image_id": 1, "category_id": 1, "bbox": [4, 5, 20, 10], "score": 0.9}]))
seed("shapes", "small.json", json.dumps({"gemm": [{"m": 8, "n": 8, "k": 8}],
                                        "conv2d": [{"name": "c", "n": 1, "cin": 3, "h": 8, "w": 8, "cout": 4, "k": 3, "stride": 1, "pad": 1, "dilation": 1, "groups": 1}],
                                        "conv1d": [{"name": "t", "n": 1, "cin": 2, "l": 16, "cout": 2, "k": 3, "stride": 1, "pad": 2, "dilation": 2, "groups": 2}],
                                        "maxpool2d": [{"n": 1, "c": 2, "h": 8, "w": 8, "k": 2, "stride": 2}], "nms": [{"boxes": 10, "iou": 0.5}]}))
seed("ts", "multivariate.ts", "@problemName M\n@timeStamps false\n@univariate false\n@dimensions 2\n@equalLength false\n@classLabel true a b\n@data\n1,2,3:4,5,6:a\n1,?,3,4:2,2,2,2:b\n")
seed("tsv", "ucr.tsv", "1\t0.5\t0.25\t-1\n2\t1\t2\t3\n1\tNaN\t0\t0\n")
seed("yolo", "labels.txt", "0 0.5 0.5 0.25 0.25\n3 0.1 0.9 0.05 0.1\n\n9 0.5 0.5 1 1\n")
seed("augment", "default.txt", "rotate=12,shift=0.1,zoom=0.1,shear=0.15")
seed("augment", "all.txt", "mirror,crop=4,elastic=6:3,color=20,flip,translate=0.2,scale=0.3,rotation=5")

count = sum(len(files) for _, _, files in os.walk(OUT))
size = sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(OUT) for f in files)
print(f"{count} seeds, {size // 1024} KiB in {OUT}")
