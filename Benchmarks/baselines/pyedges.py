"""Times OpenCV's edge operations on one PNG, single thread, with the same loop and output as
annota-edges-bench (used by compare-edges.sh).

    python pyedges.py IMAGE.png --op canny|sobel|gaussian [--low 50] [--high 150] [--l2]
                      [--sigma 1.4] [--iters N] [--warmup N]

IMAGE.png is the grey or RGB image annota-edges-bench wrote (--write-input), so both sides work
on the same pixels; an RGB file is handed to OpenCV in RGB order, as Annota holds it (cv2.imread
gives BGR), so that Canny's "first strongest channel" is the same channel on both sides. Prints
one line: `opencv op=… median_ms=… best_ms=… out=WxH checksum=…`.

- canny:    cv2.Canny(img, low, high, apertureSize=3, L2gradient=l2)
- sobel:    cv2.Sobel dx and dy, CV_16S, ksize 3, BORDER_REPLICATE (what Canny computes; the
            checksum runs over dx then dy as uint16 bit patterns)
- gaussian: cv2.GaussianBlur(img, (0, 0), sigma) (bit-exact 8-bit path, BORDER_REFLECT_101)

cv2.setNumThreads(1): the comparison is single-threaded on both sides. With one thread OpenCV
runs grey Canny through Intel IPP (its HAL), with AVX2/AVX-512 dispatch on this machine; its
edges are identical to OpenCV's own implementation.
"""
import argparse
import time

import cv2
import numpy as np

cv2.setNumThreads(1)


def checksum(values):
    """Sum of value * (i mod 65521 + 1) in order, as annota-edges-bench computes it."""
    flat = np.ascontiguousarray(values).reshape(-1)
    if flat.dtype == np.int16:
        flat = flat.view(np.uint16)
    flat = flat.astype(np.uint64)
    weights = np.arange(flat.size, dtype=np.uint64) % np.uint64(65521) + np.uint64(1)
    return int((flat * weights).sum(dtype=np.uint64))


def measure(run, iterations, warmup):
    times, last = [], None
    for i in range(warmup + iterations):
        start = time.perf_counter()
        out = run()
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
    parser.add_argument("--op", default="canny", choices=["canny", "sobel", "gaussian"])
    parser.add_argument("--low", type=float, default=50)
    parser.add_argument("--high", type=float, default=150)
    parser.add_argument("--l2", action="store_true")
    parser.add_argument("--sigma", type=float, default=1.4)
    parser.add_argument("--iters", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()
    gray = cv2.imread(args.file, cv2.IMREAD_UNCHANGED)
    if gray is None or gray.ndim not in (2, 3):
        raise SystemExit(f"pyedges: cannot read {args.file}")
    if gray.ndim == 3:
        gray = np.ascontiguousarray(cv2.cvtColor(gray, cv2.COLOR_BGR2RGB))

    if args.op == "canny":
        def run():
            return cv2.Canny(gray, args.low, args.high, apertureSize=3, L2gradient=args.l2)
    elif args.op == "sobel":
        def run():
            dx = cv2.Sobel(gray, cv2.CV_16S, 1, 0, ksize=3, borderType=cv2.BORDER_REPLICATE)
            dy = cv2.Sobel(gray, cv2.CV_16S, 0, 1, ksize=3, borderType=cv2.BORDER_REPLICATE)
            return np.concatenate([dx.ravel(), dy.ravel()])
    else:
        def run():
            return cv2.GaussianBlur(gray, (0, 0), args.sigma)

    median, best, out = measure(run, args.iters, args.warmup)
    h, w = gray.shape[:2]
    print(f"opencv op={args.op} median_ms={median:.4f} best_ms={best:.4f} out={w}x{h} "
          f"checksum={checksum(out)}")


if __name__ == "__main__":
    main()
