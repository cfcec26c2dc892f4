"""Times Pillow and OpenCV decoding bytes already in memory, single thread, with the same loop and
output as rawdecode.c and annota-decode-bench (used by compare-decode.sh).

    python pydecode.py FILE [--scale 1|2|4|8] [--region x,y,w,h] [--iters N] [--warmup N]

Prints one line per library: `pillow median_ms=… best_ms=… out=WxHxC checksum=… note=…`.

- Pillow: `Image.open(BytesIO(b)).load()`; a JPEG scale uses `draft("RGB", size)` (libjpeg DCT
  scaling, the same work as scale_denom). Pillow cannot decode a region: a region is a (draft)
  decode of the whole image followed by `crop()` (note=decode+crop).
- OpenCV: `cv2.imdecode` with IMREAD_COLOR (PNG: IMREAD_UNCHANGED), IMREAD_REDUCED_COLOR_2/4/8 for
  a scale; a region is a (reduced) decode then a copied slice (note=decode+crop). BGR output is
  reordered to RGB only for the checksum, outside the timed loop. cv2.setNumThreads(1).
"""
import argparse
import io
import time

import cv2
import numpy as np
from PIL import Image

cv2.setNumThreads(1)


def checksum(rgb):
    """Sum of sample * (i mod 65521 + 1) in row-major order, as the C and Swift timers compute."""
    flat = np.ascontiguousarray(rgb).reshape(-1).astype(np.uint64)
    weights = np.arange(flat.size, dtype=np.uint64) % np.uint64(65521) + np.uint64(1)
    return int((flat * weights).sum(dtype=np.uint64))


def scaled_region(args, width, height):
    """The smallest scaled rectangle covering the full-resolution region (DecodeOptions.region)."""
    s = args.scale
    x, y, w, h = args.region
    x0, y0 = x // s, y // s
    x1, y1 = min((x + w + s - 1) // s, width), min((y + h + s - 1) // s, height)
    return x0, y0, x1, y1


def measure(decode, iterations, warmup):
    times, last = [], None
    for i in range(warmup + iterations):
        start = time.perf_counter()
        out = decode()
        elapsed = time.perf_counter() - start
        if i >= warmup:
            times.append(elapsed * 1e3)
        last = out
    times.sort()
    n = len(times)
    median = times[n // 2] if n % 2 else (times[n // 2 - 1] + times[n // 2]) / 2
    return median, times[0], last


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--scale", type=lambda v: int(v.split("/")[-1]), default=1)
    parser.add_argument("--region", type=lambda v: tuple(int(p) for p in v.split(",")))
    parser.add_argument("--iters", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()
    data = open(args.file, "rb").read()
    array = np.frombuffer(data, np.uint8)
    is_png = data[:8] == b"\x89PNG\r\n\x1a\n"
    s = args.scale
    if is_png and s != 1:
        raise SystemExit("pydecode: PNG scale is not timed")

    with Image.open(io.BytesIO(data)) as probe:
        full_w, full_h = probe.size
    scaled_w, scaled_h = -(-full_w // s), -(-full_h // s)
    box = scaled_region(args, scaled_w, scaled_h) if args.region else None
    note = "decode+crop" if box else ""

    def pillow():
        im = Image.open(io.BytesIO(data))
        if s != 1:
            im.draft("RGB", (scaled_w, scaled_h))
        im.load()
        return im.crop(box) if box else im

    flags = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4,
             8: cv2.IMREAD_REDUCED_COLOR_8}[s]
    if is_png:
        flags = cv2.IMREAD_UNCHANGED

    def opencv():
        im = cv2.imdecode(array, flags)
        if box:
            x0, y0, x1, y1 = box
            im = im[y0:y1, x0:x1].copy()
        return im

    for name, decode in (("pillow", pillow), ("opencv", opencv)):
        median, best, out = measure(decode, args.iters, args.warmup)
        if name == "pillow":
            pixels = np.asarray(out)
        else:
            pixels = out[..., ::-1] if out.ndim == 3 and out.shape[2] == 3 else out
            if out.ndim == 3 and out.shape[2] == 4:
                pixels = out[..., [2, 1, 0, 3]]
        h, w = pixels.shape[:2]
        c = 1 if pixels.ndim == 2 else pixels.shape[2]
        print(f"{name} median_ms={median:.4f} best_ms={best:.4f} out={w}x{h}x{c} "
              f"checksum={checksum(pixels)} note={note}")


if __name__ == "__main__":
    main()
