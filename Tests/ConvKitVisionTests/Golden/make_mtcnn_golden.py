"""facenet-pytorch's MTCNN (PyTorch) on the two bundled portraits: boxes, scores, landmarks → mtcnn_facenet.json.
Run offline: ../anchors-venv/bin/python Tests/ConvKitVisionTests/Golden/make_mtcnn_golden.py
(needs torch, pillow and `pip install --no-deps facenet-pytorch`; its default settings: min face 20, factor 0.709,
thresholds 0.6/0.7/0.7)."""
import json, os, warnings
import numpy as np
from PIL import Image
warnings.filterwarnings("ignore")
from facenet_pytorch import MTCNN

here = os.path.dirname(os.path.abspath(__file__))
images = os.path.join(here, "..", "..", "..", "Data", "images")
m = MTCNN(keep_all=True, device="cpu")
results = []
for name in ["astronaut.png", "grace_hopper.jpg"]:
    boxes, probs, marks = m.detect(Image.open(os.path.join(images, name)).convert("RGB"), landmarks=True)
    faces = [{"box": [float(v) for v in b], "score": float(p), "landmarks": [[float(x), float(y)] for x, y in l]}
             for b, p, l in zip(np.asarray(boxes, np.float64), np.asarray(probs, np.float64), np.asarray(marks, np.float64))]
    results.append({"image": name, "faces": faces})
with open(os.path.join(here, "mtcnn_facenet.json"), "w") as f:
    json.dump({"source": "facenet-pytorch MTCNN, default settings", "results": results}, f, indent=1)
print(json.dumps(results)[:600])
