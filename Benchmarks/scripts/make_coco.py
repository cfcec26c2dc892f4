"""Generates a synthetic COCO-sized dataset for benchmarks (deterministic).

usage: make_coco.py OUT_DIR [--images 5000] [--objects 36000] [--crowd 0.01] [--seed 0]
       [--vertices MIN MAX]   (vertex counts per polygon; 70 290 makes a file of about 100 MB)

Writes OUT_DIR/coco.json (polygons of 20-100 vertices, a few crowd RLEs, COCO-like image sizes)
and OUT_DIR/coco_noisy.json: the same objects with vertices jittered by a few pixels, 3% of the
objects dropped and 3% added, as a second annotator would produce.
"""
import argparse
import json
import math
import os

import numpy as np


def polygon(rng, w, h, n):
    cx, cy = rng.uniform(0.1 * w, 0.9 * w), rng.uniform(0.1 * h, 0.9 * h)
    r = rng.uniform(8, min(w, h) / 4)
    angles = np.sort(rng.uniform(0, 2 * math.pi, n))
    radii = r * rng.uniform(0.5, 1.0, n)
    xs = np.clip(cx + radii * np.cos(angles), 0, w - 1)
    ys = np.clip(cy + radii * np.sin(angles), 0, h - 1)
    return [round(float(v), 2) for xy in zip(xs, ys) for v in xy]


def bbox(ring):
    xs, ys = ring[0::2], ring[1::2]
    return [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]


def crowd_rle(rng, w, h):
    # Uncompressed RLE of a blob: a few runs per column over a band of columns.
    counts, pos, total = [], 0, w * h
    x0 = int(rng.integers(0, w // 2))
    x1 = min(w, x0 + int(rng.integers(10, 60)))
    on = False
    start = x0 * h
    counts.append(start)
    pos = start
    for x in range(x0, x1):
        y0 = int(rng.integers(0, h // 2))
        y1 = min(h, y0 + int(rng.integers(5, h // 2)))
        col = x * h
        gap = col + y0 - pos
        if gap < 0:
            continue
        if counts and len(counts) % 2 == 1:
            counts[-1] += gap
        else:
            counts.append(gap)
        counts.append(y1 - y0)
        pos = col + y1
    if len(counts) % 2 == 1:
        counts[-1] += total - pos
    else:
        counts.append(total - pos)
    return {"size": [h, w], "counts": counts}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--images", type=int, default=5000)
    ap.add_argument("--objects", type=int, default=36000)
    ap.add_argument("--crowd", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--vertices", type=int, nargs=2, default=[20, 100])
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    os.makedirs(args.out, exist_ok=True)
    images = []
    for i in range(args.images):
        w, h = [(640, 480), (480, 640), (640, 427), (500, 375), (612, 612)][int(rng.integers(0, 5))]
        images.append({"id": i + 1, "width": w, "height": h, "file_name": f"{i + 1:012d}.jpg", "license": 1})
    categories = [{"id": c, "name": f"class{c}", "supercategory": "thing"} for c in range(1, 81)]
    annotations, noisy = [], []
    for a in range(args.objects):
        img = images[int(rng.integers(0, args.images))]
        w, h = img["width"], img["height"]
        cat = int(rng.integers(1, 81))
        if rng.uniform() < args.crowd:
            seg = crowd_rle(rng, w, h)
            ann = {"id": a + 1, "image_id": img["id"], "category_id": cat, "segmentation": seg,
                   "area": 0.0, "bbox": [0, 0, 1, 1], "iscrowd": 1}
            annotations.append(ann)
            noisy.append(dict(ann))
            continue
        n = int(rng.integers(args.vertices[0], args.vertices[1] + 1))
        ring = polygon(rng, w, h, n)
        ann = {"id": a + 1, "image_id": img["id"], "category_id": cat, "segmentation": [ring],
               "area": 0.0, "bbox": bbox(ring), "iscrowd": 0}
        annotations.append(ann)
        u = rng.uniform()
        if u < 0.03:
            continue  # the second annotator missed it
        jitter = rng.normal(0, 1.5, len(ring))
        ring2 = [round(float(min(max(v + d, 0), (w if k % 2 == 0 else h) - 1)), 2)
                 for k, (v, d) in enumerate(zip(ring, jitter))]
        label = cat if rng.uniform() > 0.05 else int(rng.integers(1, 81))
        noisy.append({"id": a + 1, "image_id": img["id"], "category_id": label, "segmentation": [ring2],
                      "area": 0.0, "bbox": bbox(ring2), "iscrowd": 0})
        if u > 0.97:
            ring3 = polygon(rng, w, h, n)
            noisy.append({"id": 10_000_000 + a, "image_id": img["id"], "category_id": cat,
                          "segmentation": [ring3], "area": 0.0, "bbox": bbox(ring3), "iscrowd": 0})
    info = {"description": "synthetic COCO-sized benchmark data", "seed": args.seed}
    licenses = [{"id": 1, "name": "synthetic"}]
    for name, anns in [("coco.json", annotations), ("coco_noisy.json", noisy)]:
        with open(os.path.join(args.out, name), "w") as f:
            json.dump({"info": info, "licenses": licenses, "images": images,
                       "annotations": anns, "categories": categories}, f)
        print(name, len(anns), "annotations", os.path.getsize(os.path.join(args.out, name)) // 1024, "KiB")


if __name__ == "__main__":
    main()
