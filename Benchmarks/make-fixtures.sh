#!/usr/bin/env bash
# Writes the decode-benchmark photos into Benchmarks/.fixtures/ (gitignored), deterministically:
#   photo-640x480.{jpg,png}     one COCO val photo, centre-cropped and resized to 640x480
#   photo-1920x1080.{jpg,png}   a 3x3 mosaic of nine COCO photos at 640x360 each, so that the
#                               large image keeps the detail (and entropy) of real photos instead
#                               of an upscaled, over-smooth one
# JPEG: quality 90, 4:2:0, baseline, no optimised Huffman tables (Pillow with libjpeg-turbo).
# PNG: RGB, 8-bit, Pillow's default zlib level (6).
#
# Photos come from ../shared/data/coco-val-mini/images relative to the repository root (or
# $COCO_IMAGES); without them the script paints synthetic photo-like content (smooth gradients,
# shapes, fine texture and noise) from a fixed seed, and says so.
#
#   usage: Benchmarks/make-fixtures.sh [OUT_DIR]     (default: Benchmarks/.fixtures)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
out=${1:-$here/.fixtures}
photos=${COCO_IMAGES:-$root/../shared/data/coco-val-mini/images}
python=$("$root/../shared/tools/refenv.sh" | tail -1)
mkdir -p "$out"

"$python" - "$photos" "$out" <<'PY'
import os, sys
import numpy as np
from PIL import Image, ImageOps

photos, out = sys.argv[1], sys.argv[2]

def coco_photos(count):
    if not os.path.isdir(photos):
        return None
    names = sorted(n for n in os.listdir(photos) if n.lower().endswith((".jpg", ".jpeg", ".png")))
    images = []
    for name in names:
        im = Image.open(os.path.join(photos, name))
        if im.mode == "RGB" and min(im.size) >= 320:
            images.append(im)
        if len(images) == count:
            return images
    return None

def synthetic(width, height, seed):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.zeros((height, width, 3), np.float32)
    for c in range(3):  # smooth illumination
        a, b, p = rng.uniform(0.5, 3, 3)
        img[..., c] = 110 + 60 * np.sin(x / width * a * np.pi + p) * np.cos(y / height * b * np.pi)
    for _ in range(40):  # objects with edges
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        r = rng.uniform(0.02, 0.15) * width
        mask = (x - cx) ** 2 + (y - cy) ** 2 < r * r
        img[mask] = img[mask] * 0.4 + rng.uniform(0, 255, 3) * 0.6
    img += (25 * np.sin(x * 0.7) * np.sin(y * 0.9))[..., None]  # fine texture
    img += rng.normal(0, 6, img.shape)  # sensor noise
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")

def fit(im, size):
    return ImageOps.fit(im, size, Image.Resampling.LANCZOS, centering=(0.5, 0.5))

sources = coco_photos(9)
if sources is None:
    print(f"make-fixtures: no COCO photos in {photos}; using synthetic content", file=sys.stderr)
    small = synthetic(640, 480, 1)
    large = synthetic(1920, 1080, 2)
else:
    small = fit(sources[0], (640, 480))
    large = Image.new("RGB", (1920, 1080))
    for i, im in enumerate(sources):
        large.paste(fit(im, (640, 360)), ((i % 3) * 640, (i // 3) * 360))

for im in (small, large):
    stem = os.path.join(out, f"photo-{im.width}x{im.height}")
    im.save(stem + ".jpg", "JPEG", quality=90, subsampling=2, progressive=False, optimize=False)
    im.save(stem + ".png", "PNG")
    for ext in (".jpg", ".png"):
        print(f"{stem}{ext}: {os.path.getsize(stem + ext)} bytes")
PY
