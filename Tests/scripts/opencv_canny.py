"""OpenCV reference outputs for the AnnotaEdges cross-check (Tests/AnnotaEdgesTests).

    python opencv_canny.py JOBS.tsv

Each line of JOBS.tsv is tab-separated: an operation, an input PNG, its parameters and an output
path. The inputs are PNGs that the Swift test wrote from its own decode of the photos, so both
sides see the very same pixels (decoder differences cannot show up as edge differences). Colour
PNGs are handed to OpenCV in RGB order, as Annota holds them, so that "the first strongest
channel" means the same channel on both sides.

    canny     IN.png LOW HIGH L2(0|1) OUT.raw   cv2.Canny(img, LOW, HIGH, apertureSize=3,
                                                L2gradient=L2): width*height bytes, 0 or 255
    sobel     IN.png BORDER OUT.raw             cv2.Sobel dx then dy, CV_16S, ksize 3, BORDER
                                                replicate or reflect101 (cv2.Sobel's default):
                                                2*width*height int16 (LE)
    gaussian  IN.png SIGMA OUT.raw              cv2.GaussianBlur(img, (0, 0), SIGMA): raw bytes,
                                                interleaved channels (RGB order)

cv2.setNumThreads(1), as in the benchmarks: OpenCV then runs its IPP path for grey Canny; the two
paths give identical edges (checked when this script was written), so either is "OpenCV".
"""
import sys

import cv2
import numpy as np

cv2.setNumThreads(1)


def load(path):
    image = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if image is None:
        raise SystemExit(f"opencv_canny: cannot read {path}")
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA)
    return np.ascontiguousarray(image)


def main():
    with open(sys.argv[1]) as jobs:
        for line in jobs:
            fields = line.rstrip("\n").split("\t")
            if not fields or not fields[0]:
                continue
            op = fields[0]
            image = load(fields[1])
            if op == "canny":
                low, high, l2 = float(fields[2]), float(fields[3]), fields[4] == "1"
                if image.ndim == 3 and image.shape[2] == 4:
                    image = np.ascontiguousarray(image[..., :3])
                edges = cv2.Canny(image, low, high, apertureSize=3, L2gradient=l2)
                edges.astype(np.uint8).tofile(fields[5])
            elif op == "sobel":
                border = {"replicate": cv2.BORDER_REPLICATE,
                          "reflect101": cv2.BORDER_REFLECT_101}[fields[2]]
                dx = cv2.Sobel(image, cv2.CV_16S, 1, 0, ksize=3, borderType=border)
                dy = cv2.Sobel(image, cv2.CV_16S, 0, 1, ksize=3, borderType=border)
                np.concatenate([dx.ravel(), dy.ravel()]).astype("<i2").tofile(fields[3])
            elif op == "gaussian":
                blurred = cv2.GaussianBlur(image, (0, 0), float(fields[2]))
                blurred.astype(np.uint8).tofile(fields[3])
            else:
                raise SystemExit(f"opencv_canny: unknown operation {op!r}")


if __name__ == "__main__":
    main()
