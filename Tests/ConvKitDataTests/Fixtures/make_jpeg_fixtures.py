"""JPEG fixtures in every form the reader must handle, written and decoded by Pillow (libjpeg-turbo). Run offline:
    ../anchors-venv/bin/python Tests/ConvKitDataTests/Fixtures/make_jpeg_fixtures.py

- jpeg/grace_hopper_crop.png: Pillow's decode of Data/images/grace_hopper.jpg (a real photo, 4:2:0 baseline),
  cropped to x 192..320, y 160..288; jpeg_pixels.npz "grace_hopper_mean" holds the per-channel mean of the whole
  decode (width 512, height 600).
- jpeg/*.jpg: a 71×53 crop of that photo (partial MCUs on both axes) saved as baseline 4:2:0, 4:2:2 and 4:4:4,
  progressive, grayscale, with restart markers every MCU row, as Adobe CMYK, and with EXIF orientation 6; each one's
  Pillow decode is in jpeg_pixels.npz under its name (RGB or L; CMYK through convert("RGB"); the EXIF one through
  ImageOps.exif_transpose, i.e. upright).
"""
import os
import numpy as np
from PIL import Image, ImageOps

d = os.path.dirname(os.path.abspath(__file__))
repo = os.path.dirname(os.path.dirname(os.path.dirname(d)))
photo = Image.open(os.path.join(repo, "Data", "images", "grace_hopper.jpg"))
full = np.asarray(photo.convert("RGB"))
out = {"grace_hopper_mean": full.reshape(-1, 3).mean(axis=0).astype(np.float32)}
Image.fromarray(full[160:288, 192:320]).save(os.path.join(d, "jpeg", "grace_hopper_crop.png"))
crop = Image.fromarray(full[200:253, 220:291])          # 71 wide, 53 high

def save(name, img, decode=lambda im: im, **kw):
    path = os.path.join(d, "jpeg", name + ".jpg")
    img.save(path, "JPEG", **kw)
    back = decode(Image.open(path))
    out[name] = np.asarray(back if back.mode in ("L", "RGB") else back.convert("RGB")).astype(np.uint8)

save("baseline_420", crop, quality=85, subsampling=2)
save("baseline_422", crop, quality=85, subsampling=1)
save("baseline_444", crop, quality=85, subsampling=0)
save("progressive", crop, quality=80, progressive=True)
save("gray", crop.convert("L"), quality=90)
save("restart", crop, quality=85, restart_marker_rows=1)
save("cmyk", crop.convert("CMYK"), quality=90)
exif = Image.Exif()
exif[0x0112] = 6
save("exif_orientation6", crop, decode=ImageOps.exif_transpose, quality=85, exif=exif.tobytes())
np.savez_compressed(os.path.join(d, "jpeg_pixels.npz"), **out)
print({k: v.shape for k, v in out.items()})
