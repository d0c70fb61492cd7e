"""Writes PNG files in forms ConvKit's encoder does not produce (palette, interlaced, low bit depths, 16-bit,
gray+alpha) with Pillow, and pixels.npz with the pixels Pillow decodes them to. Run offline:
    ../anchors-venv/bin/python Tests/ConvKitDataTests/Fixtures/make_png_fixtures.py"""
import numpy as np, os, struct, zlib
from PIL import Image
d = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(0)
out = {}
def save(name, img, **kw):
    img.save(os.path.join(d, name + ".png"), **kw)
    back = Image.open(os.path.join(d, name + ".png"))
    if back.mode == "P": back = back.convert("RGBA" if "transparency" in back.info else "RGB")
    out[name] = np.asarray(back).astype(np.float32)

def save_adam7(name, pixels, color_type):
    """Pillow cannot write interlaced PNGs: an Adam7 writer (filter 0 on every scanline)."""
    h, w = pixels.shape[:2]
    raw = b""
    for x0, y0, dx, dy in [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]:
        sub = pixels[y0::dy, x0::dx]
        if sub.size == 0: continue
        for row in sub: raw += b"\0" + row.astype(np.uint8).tobytes()
    def chunk(t, b): return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 1))
    png += chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    open(os.path.join(d, name + ".png"), "wb").write(png)
    out[name] = np.asarray(Image.open(os.path.join(d, name + ".png"))).astype(np.float32)
rgb = rng.integers(0, 256, (7, 9, 3), dtype=np.uint8)
save_adam7("rgb_interlaced", rgb, 2)
save("palette", Image.fromarray(rgb).quantize(colors=13))
pal = Image.fromarray(rgb).quantize(colors=5); pal.info["transparency"] = 2
save("palette_trns", pal, transparency=2)
gray = rng.integers(0, 256, (5, 11), dtype=np.uint8)
save("gray_alpha", Image.fromarray(np.dstack([gray, 255 - gray]), "LA"))
g16 = rng.integers(0, 65536, (4, 6), dtype=np.uint16)
save("gray16", Image.fromarray(g16))
save("bilevel", Image.fromarray(gray > 128).convert("1"))
save_adam7("gray_interlaced", gray, 0)
np.savez(os.path.join(d, "pixels.npz"), **out)
print(sorted(out))
