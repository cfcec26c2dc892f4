"""Decodes every image in a folder with Pillow to raw RGB (for the Swift cross-check test).

usage: pillow_decode.py IMAGE_DIR OUT_DIR   -> OUT_DIR/<name>.rgb (8-bit RGB, row-major)
"""
import os
import sys

from PIL import Image

src, dst = sys.argv[1], sys.argv[2]
for name in sorted(os.listdir(src)):
    if not name.endswith((".jpg", ".png")):
        continue
    with Image.open(os.path.join(src, name)) as im:
        im = im.convert("RGB")
        with open(os.path.join(dst, name + ".rgb"), "wb") as f:
            f.write(im.tobytes())
