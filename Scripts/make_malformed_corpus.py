#!/usr/bin/env python3
"""Writes Tests/MalformedInputs/: one small file (or folder) per class of mistake users make with the files and
arguments `convkit` reads, and cases.json saying how to feed each to the binary and what the error must mention.

Usage: python3 Scripts/make_malformed_corpus.py [OUT_DIR]

Deterministic and standard-library only. The test CommandLineTests/MalformedCorpusTests runs every case through
the built binary: each must end with exit status 1 and a one-line "Error: …" naming the expectation, never a
signal, a Swift runtime failure or a partial output. In an argument list "{dir}" stands for OUT_DIR and "{out}"
for a fresh output folder the test checks is left without files.
"""
import json, os, shutil, struct, sys, zlib

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "Tests", "MalformedInputs")
cases = []


def write(name, data):
    path = os.path.join(OUT, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    return "{dir}/" + name


def case(name, kind, args, expect):
    cases.append({"name": name, "class": kind, "args": args, "expect": expect})


# ---------- images ----------
def png(width, height, color_type=2, depth=8, rows=None):
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(color_type, 1)
    if rows is None:
        rows = b"".join(b"\x00" + bytes((x * 7 + y) % 256 for x in range(width * channels)) for y in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


good_png = png(8, 6)
case("png_truncated", "image", ["image", "info", write("images/truncated.png", good_png[: len(good_png) // 2])], "truncated.png")
case("png_huge_dimensions", "image", ["image", "info", write("images/huge.png", png(200000, 200000, rows=b"\x00"))], "huge.png")
case("png_zero_width", "image", ["image", "info", write("images/zero.png", png(0, 4, rows=b"\x00"))], "zero.png")
case("png_bad_color_type", "image", ["image", "info", write("images/colortype.png", png(2, 2, color_type=5))], "colortype.png")
case("png_short_rows", "image", ["image", "info", write("images/shortrows.png", png(8, 6, rows=b"\x00" * 10))], "shortrows.png")
case("empty_file_as_png", "image", ["image", "info", write("images/empty.png", b"")], "empty.png")
case("text_named_jpeg", "image", ["image", "info", write("images/notes.jpg", "these are my notes, not a photo\n")], "notes.jpg")

case("jpeg_header_only", "image", ["image", "info", write("images/header_only.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")], "header_only.jpg")
hopper = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Data", "images", "grace_hopper.jpg"), "rb").read()
at = hopper.index(b"\xff\xc0")   # baseline SOF0: FF C0, length, precision, height, width
case("jpeg_huge_dimensions", "image", ["image", "convert", write("images/huge.jpg", hopper[:at + 5] + struct.pack(">HH", 65500, 65500) + hopper[at + 9:at + 4000]), "{out}/huge.png"], "huge.jpg")
case("jpeg_truncated_scan", "image", ["image", "convert", write("images/truncated_scan.jpg", hopper[: len(hopper) // 2]), "{out}/truncated.png"], "truncated_scan.jpg")
case("jpeg_garbage_after_soi", "image", ["image", "info", write("images/garbage.jpg", b"\xff\xd8\xff" + bytes((i * 37 + 11) % 256 for i in range(300)))], "garbage.jpg")
case("ppm_huge_dimensions", "image", ["image", "info", write("images/huge.ppm", "P6\n999999 999999\n255\n")], "huge.ppm")
case("pgm_zero_maxval", "image", ["image", "info", write("images/maxval0.pgm", b"P5\n2 2\n0\n\x00\x00\x00\x00")], "maxval0.pgm")
case("pgm_negative_size", "image", ["image", "info", write("images/negative.pgm", b"P5\n-2 2\n255\n\x00\x00\x00\x00")], "negative.pgm")
case("pgm_overflowing_size", "image", ["image", "info", write("images/overflow.pgm", b"P5\n99999999999999999999 2\n255\n\x00")], "overflow.pgm")
case("convert_to_unknown_format", "argument", ["image", "convert", "Data/images/coins.png", "{out}/coins.bmp"], ".bmp")

# ---------- checkpoints (safetensors) ----------
def safetensors(header, data=b""):
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + data


META_OK = {"model": "lenet5", "input_shape": "1,28,28", "input_mean": "0.1307", "input_std": "0.3081", "classes": "0,1,2,3,4,5,6,7,8,9"}
img = "Data/images/coins.png"
case("safetensors_header_length_overflow", "checkpoint", ["predict", "--weights", write("checkpoints/hdrlen.safetensors", struct.pack("<Q", 2**63 + 5) + b"{}"), img], "hdrlen.safetensors")
case("safetensors_shape_product_overflow", "checkpoint", ["predict", "--weights", write("checkpoints/shape.safetensors", safetensors({"w": {"dtype": "F32", "shape": [2**40, 2**40], "data_offsets": [0, 4]}, "__metadata__": META_OK}, b"\0" * 4)), img], "shape.safetensors")
case("safetensors_offsets_past_end", "checkpoint", ["predict", "--weights", write("checkpoints/offsets.safetensors", safetensors({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 1 << 40]}, "__metadata__": META_OK}, b"\0" * 16)), img], "offsets.safetensors")
case("safetensors_not_json", "checkpoint", ["predict", "--weights", write("checkpoints/notjson.safetensors", struct.pack("<Q", 5) + b"{{{{{"), img], "notjson.safetensors")
for key, value, label in [("input_shape", "nan,28,28", "nan"), ("input_shape", "1,1e30,28", "huge"), ("input_shape", "1,28", "two"),
                          ("input_shape", "-1,28,28", "negative"), ("input_mean", "0.1,0.2,0.3,0.4,0.5", "means"),
                          ("input_std", "0", "std0"), ("classes", "", "noclasses"), ("model", "nosuchnet", "model")]:
    meta = dict(META_OK, **{key: value})
    case(f"checkpoint_metadata_{label}", "checkpoint", ["predict", "--weights", write(f"checkpoints/meta_{label}.safetensors", safetensors({"__metadata__": meta})), img], f"meta_{label}.safetensors")

# ---------- datasets ----------
def idx_images(n, rows, cols, count=None):
    return struct.pack(">IIII", 0x803, n, rows, cols) + bytes(((i * 13) % 256) for i in range((count if count is not None else n * rows * cols)))


def idx_labels(labels, n=None):
    return struct.pack(">II", 0x801, len(labels) if n is None else n) + bytes(labels)


def idx_folder(name, images, labels, test_images=None, test_labels=None):
    write(f"data/{name}/train-images-idx3-ubyte", images)
    write(f"data/{name}/train-labels-idx1-ubyte", labels)
    write(f"data/{name}/t10k-images-idx3-ubyte", test_images or images)
    write(f"data/{name}/t10k-labels-idx1-ubyte", test_labels or labels)
    return "{dir}/data/" + name


train = lambda d, *extra: ["train", "--data", d, "--epochs", "1", "--out", "{out}", *extra]
case("idx_dimensions_overflow", "dataset", train(idx_folder("idx_overflow", struct.pack(">IIII", 0x803, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF), idx_labels([0] * 4))), "train-images-idx3-ubyte")
case("idx_images_truncated", "dataset", train(idx_folder("idx_truncated", idx_images(10, 28, 28, count=100), idx_labels(list(range(10))))), "train-images-idx3-ubyte")
case("idx_label_count_mismatch", "dataset", train(idx_folder("idx_mismatch", idx_images(10, 28, 28), idx_labels(list(range(8))))), "idx")
case("idx_label_gap", "dataset", train(idx_folder("idx_gap", idx_images(10, 28, 28), idx_labels([0, 1, 2, 3, 4, 5, 6, 7, 8, 77]))), "77")
case("idx_wrong_magic", "dataset", train(idx_folder("idx_magic", b"\x00\x00\x07\x03" + idx_images(2, 4, 4)[4:], idx_labels([0, 1]))), "train-images-idx3-ubyte")
write("data/gz_corrupt/train-images-idx3-ubyte.gz", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + bytes(range(40)) + struct.pack("<II", 0, 1 << 31))
write("data/gz_corrupt/train-labels-idx1-ubyte.gz", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + bytes(range(40)) + struct.pack("<II", 0, 10))
case("gzip_corrupt_stream", "dataset", train("{dir}/data/gz_corrupt"), "gz_corrupt")
csv_rows = lambda rows: "\n".join(",".join(str(v) for v in r) for r in rows) + "\n"
pixels = lambda k: [((i * 7 + k) % 256) for i in range(64)]
case("csv_non_numeric_pixel", "dataset", train(write("data/nonnumeric.csv", csv_rows([[0] + pixels(0), [1] + pixels(1)[:10] + ["dark"] + pixels(1)[11:]]))), "nonnumeric.csv")
case("csv_ragged_rows", "dataset", train(write("data/ragged.csv", csv_rows([[0] + pixels(0), [1] + pixels(1)[:40]]))), "ragged.csv")
case("csv_negative_label", "dataset", train(write("data/negative_label.csv", csv_rows([[0] + pixels(0), [-3] + pixels(1)]))), "negative_label.csv")
case("csv_value_over_scale", "dataset", train(write("data/over_scale.csv", csv_rows([[0] + pixels(0), [1] + pixels(1)])), "--scale", "16"), "over_scale.csv")
case("csv_empty", "dataset", train(write("data/empty.csv", "")), "empty.csv")
case("csv_image_shape_mismatch", "dataset", train(write("data/shape.csv", csv_rows([[0] + pixels(0), [1] + pixels(1)])), "--image-shape", "3,8,8"), "3,8,8")
write("data/empty_classes/cat/.keep", "")
write("data/empty_classes/dog/.keep", "")
case("class_folders_without_images", "dataset", train("{dir}/data/empty_classes"), "empty_classes")
write("data/bad_image_class/cat/a.png", good_png)
write("data/bad_image_class/dog/b.png", good_png[:30])
case("class_folder_with_broken_image", "dataset", train("{dir}/data/bad_image_class", "--test-split", "0.5", "--val-split", "0"), "b.png")

# ---------- training and tool options ----------
for spec, label in [("rotate=1e40", "rotate_huge"), ("zoom=-1", "zoom_negative"), ("crop=0", "crop_zero"), ("elastic=nan:3", "elastic_nan"),
                    ("shift=inf", "shift_inf"), ("zoom=1", "zoom_one"), ("elastic=8:0", "elastic_sigma_zero"), ("color=2:2:2:2:2", "color_many"),
                    ("mirror=1", "mirror_value"), ("crop=2.5", "crop_fraction"), ("rotate=", "rotate_empty"), ("blur=3", "unknown")]:
    case(f"augment_{label}", "argument", ["train", "--augment", spec, "--epochs", "1", "--out", "{out}"], "--augment")
for opt, value in [("--lr", "nan"), ("--lr", "inf"), ("--lr", "-1"), ("--epochs", "-1"), ("--batch-size", "99999999999999999999"),
                   ("--val-split", "1.5"), ("--val-split", "nan"), ("--seed", "-1"), ("--margin", "nan"), ("--threads", "0"),
                   ("--image-size", "0,0"), ("--image-shape", "99999999999,99999999999,9"), ("--classes", "a,,b"), ("--patience", "0")]:
    case(f"train_option{opt.replace('-', '_')}_{value.replace('.', '_').replace('-', 'minus').replace(',', '_')}", "argument",
         ["train", f"{opt}={value}", "--out", "{out}"] + ([] if opt == "--epochs" else ["--epochs", "1"]), opt)
for inp, label in [("3x100000x100000", "huge"), ("3x224", "two_dims"), ("nanx3x3", "nan"), ("99999999999999999999x3x3", "overflow")]:
    case(f"summary_input_{label}", "argument", ["summary", "resnet18", "--input", inp], "--input")
conv = {"name": "c", "n": 1, "cin": 3, "h": 8, "w": 8, "cout": 4, "k": 3, "stride": 1, "pad": 1, "dilation": 1, "groups": 1}
for change, label in [({"k": 20, "pad": 0}, "kernel_larger_than_map"), ({"stride": 0}, "stride_zero"), ({"n": 2**40}, "batch_overflow"),
                      ({"groups": 2}, "groups_not_dividing"), ({"cin": -3}, "negative_channels"), ({"dilation": 2**31}, "dilation_huge"),
                      ({"h": 1.5}, "fractional_height"), ({"cout": 1 << 20, "cin": 1 << 20}, "absurd_memory")]:
    path = write(f"shapes/{label}.json", json.dumps({"conv2d": [dict(conv, **change)]}))
    case(f"bench_shapes_{label}", "shapes", ["bench", "--shapes", path, "--seconds", "0.05"], f"{label}.json")
case("bench_shapes_not_json", "shapes", ["bench", "--shapes", write("shapes/not_json.json", "conv2d: [k=3]\n")], "not_json.json")
case("bench_shapes_gemm_overflow", "shapes", ["bench", "--shapes", write("shapes/gemm_overflow.json", json.dumps({"gemm": [{"m": 2**32, "n": 2**32, "k": 2**32}]}))], "gemm_overflow.json")
case("bench_shapes_pool_window_too_big", "shapes", ["bench", "--shapes", write("shapes/pool.json", json.dumps({"maxpool2d": [{"n": 1, "c": 1, "h": 4, "w": 4, "k": 9, "stride": 2}]}))], "pool.json")

# ---------- other formats ----------
write("timeseries/Broken/Broken_TRAIN.ts", "@problemName Broken\n@univariate true\n@classLabel true a b\n@data\n1.0,2.0,3.0:a\n1.0,nope,3.0:b\n")
write("timeseries/Broken/Broken_TEST.ts", "@problemName Broken\n@univariate true\n@classLabel true a b\n@data\n1.0,2.0,3.0:a\n")
case("timeseries_non_numeric_value", "dataset", ["train", "--task", "timeseries", "--data", "{dir}/timeseries/Broken", "--epochs", "1", "--out", "{out}"], "Broken_TRAIN.ts")
write("timeseries/Undeclared/Undeclared_TRAIN.ts", "@problemName Undeclared\n@univariate true\n@classLabel true a b\n@data\n1.0,2.0,3.0:a\n1.0,2.0,3.0:zebra\n")
write("timeseries/Undeclared/Undeclared_TEST.ts", "@problemName Undeclared\n@univariate true\n@classLabel true a b\n@data\n1.0,2.0,3.0:a\n")
case("timeseries_undeclared_label", "dataset", ["train", "--task", "timeseries", "--data", "{dir}/timeseries/Undeclared", "--epochs", "1", "--out", "{out}"], "zebra")
write("yolo/train/images/a.png", png(16, 16))
write("yolo/train/labels/a.txt", "0 0.5 0.5 nan 0.2\n")
write("yolo/test/images/a.png", png(16, 16))
write("yolo/test/labels/a.txt", "0 0.5 0.5 0.2 0.2\n")
case("yolo_label_nan", "dataset", ["train", "--task", "detect", "--data", "{dir}/yolo", "--epochs", "1", "--out", "{out}"], "a.txt")
write("coco/gt.json", json.dumps({"images": [{"id": 1, "width": 10, "height": 10}], "categories": [{"id": 1, "name": "x"}],
                                  "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, -5, 3], "area": 1, "iscrowd": 0}]}))
write("coco/dets.json", json.dumps([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2], "score": 0.9}]))
case("coco_negative_box", "dataset", ["detect-eval", "--ground-truth", "{dir}/coco/gt.json", "--detections", "{dir}/coco/dets.json"], "gt.json")
write("coco/truncated.json", '{"images": [{"id": 1, "width": 10')
case("coco_truncated_json", "dataset", ["detect-eval", "--ground-truth", "{dir}/coco/truncated.json", "--detections", "{dir}/coco/dets.json"], "truncated.json")
write("coco/gt_ok.json", json.dumps({"images": [{"id": 1, "width": 10, "height": 10}], "categories": [{"id": 1, "name": "x"}],
                                     "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 3], "area": 15, "iscrowd": 0}]}))
write("coco/dets_unknown_image.json", json.dumps([{"image_id": 99, "category_id": 1, "bbox": [0, 0, 2, 2], "score": "high"}]))
case("coco_detection_wrong_types", "dataset", ["detect-eval", "--ground-truth", "{dir}/coco/gt_ok.json", "--detections", "{dir}/coco/dets_unknown_image.json"], "dets_unknown_image.json")
case("onnx_garbage", "model", ["onnx", "info", write("models/garbage.onnx", bytes((i * 91 + 3) % 256 for i in range(200)))], "garbage.onnx")
case("onnx_empty", "model", ["onnx", "run", write("models/empty.onnx", b"")], "empty.onnx")
case("dlib_garbage", "model", ["faces", "embed", "--chip", "--model", write("models/garbage.dat", bytes((i * 17 + 5) % 256 for i in range(500))), "Data/images/coins.png"], "garbage.dat")
with open(os.path.join(OUT, "cases.json"), "w") as f:
    json.dump(cases, f, indent=1)
    f.write("\n")
print(f"{len(cases)} cases in {OUT}")
