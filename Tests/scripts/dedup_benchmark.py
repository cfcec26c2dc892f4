#!/usr/bin/env python3
"""Duplicate benchmark for `annota dedup`, side by side with imagehash.

Builds a derived set from the COCO sample's photos into a scratch folder (never into the repo):
for each original, an exact copy, JPEG re-encodes (q95/q75/q50), a lossless PNG re-encode,
resizes (0.5x, 0.75x), crops removing 5%, 10% and 20% of each side's length (random offset),
brightness +/-20%, and a horizontal flip. The originals are distinct images of one another.

Then hashes every file with imagehash (dhash, phash) and reads annota's hashes from
`annota dedup --out`, and prints, per hash and distance, pair precision and recall of both:
- core set: originals + copies + re-encodes + resizes + crops (the issue's target set);
- per-transform recall at each distance, brightness included; flips reported as a match rate
  (they should not match).
Also prints the mean bit agreement between annota's hashes and imagehash's.

With --crops, annota also runs with --crops (full hashes against crop windows) as a third column.

Usage: dedup_benchmark.py ANNOTA_BIN [--images DIR] [--work DIR] [--distances 0-16] [--crops]
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time

import numpy as np
from PIL import Image, ImageEnhance
import imagehash

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_IMAGES = os.path.normpath(os.path.join(HERE, "../../../shared/data/coco-val-mini/images"))
CORE = {"original", "copy", "q95", "q75", "q50", "png", "resize50", "resize75",
        "crop05", "crop10", "crop20"}


def kind(name):
    return name.split("__")[1].rsplit(".", 1)[0]


def origin(name):
    return name.split("__")[0]


def build(images, work, seed=7):
    rng = random.Random(seed)
    if os.path.isdir(work):
        shutil.rmtree(work)
    os.makedirs(work)
    for name in sorted(os.listdir(images)):
        if not name.lower().endswith((".jpg", ".jpeg", ".png")):
            continue
        stem = os.path.splitext(name)[0]
        src = os.path.join(images, name)
        out = lambda k, ext=".jpg": os.path.join(work, f"{stem}__{k}{ext}")
        shutil.copyfile(src, out("original"))
        shutil.copyfile(src, out("copy"))
        im = Image.open(src).convert("RGB")
        w, h = im.size
        for q in (95, 75, 50):
            im.save(out(f"q{q}"), quality=q)
        im.save(out("png", ".png"))
        for f in (50, 75):
            im.resize((round(w * f / 100), round(h * f / 100)), Image.LANCZOS).save(out(f"resize{f}"), quality=90)
        for p in (5, 10, 20):
            cw, ch = round(w * (1 - p / 100)), round(h * (1 - p / 100))
            x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
            im.crop((x, y, x + cw, y + ch)).save(out(f"crop{p:02d}"), quality=90)
        ImageEnhance.Brightness(im).enhance(1.2).save(out("bright120"), quality=90)
        ImageEnhance.Brightness(im).enhance(0.8).save(out("bright80"), quality=90)
        im.transpose(Image.FLIP_LEFT_RIGHT).save(out("flip"), quality=90)


def popcount_matrix(hashes):
    x = hashes[:, None] ^ hashes[None, :]
    return np.unpackbits(x.view(np.uint8).reshape(len(hashes), len(hashes), 8), axis=2).sum(axis=2)


def to_u64(hexes):
    return np.array([int(h, 16) for h in hexes], dtype=np.uint64)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("annota")
    ap.add_argument("--images", default=DEFAULT_IMAGES)
    ap.add_argument("--work", default="/tmp/annota-dedup-bench")
    ap.add_argument("--distances", default="0-16")
    ap.add_argument("--json", help="also write the tables as JSON here")
    ap.add_argument("--crops", action="store_true",
                    help="also run annota --crops (crop windows) and add it as a third column")
    args = ap.parse_args()
    lo, hi = map(int, args.distances.split("-"))
    build(args.images, args.work)
    names = sorted(os.listdir(args.work))
    print(f"derived set: {len(names)} files from {len(set(map(origin, names)))} originals in {args.work}")

    # imagehash
    ih = {"dhash": [], "phash": []}
    t_decode = t_hash = 0.0
    for n in names:
        t0 = time.perf_counter()
        im = Image.open(os.path.join(args.work, n))
        im.load()
        t1 = time.perf_counter()
        ih["dhash"].append(str(imagehash.dhash(im)))
        ih["phash"].append(str(imagehash.phash(im)))
        t_hash += time.perf_counter() - t1
        t_decode += t1 - t0

    # annota
    out = os.path.join(args.work + "-out.json")
    subprocess.run([args.annota, "dedup", args.work, "--out", out, "--quiet", "--threads", "1"], check=True)
    report = json.load(open(out))
    by_name = {os.path.basename(r["path"]): r for r in report["images"]}
    an = {k: [by_name[n][k] for n in names] for k in ("dhash", "phash")}

    print("\nmean bit agreement annota vs imagehash (64 bits):")
    for k in ("dhash", "phash"):
        a, b = to_u64(an[k]), to_u64(ih[k])
        agree = 1 - np.unpackbits((a ^ b).view(np.uint8)).sum() / (64 * len(names))
        same = np.mean(a == b)
        orig = [i for i, n in enumerate(names) if kind(n) == "original"]
        agree_o = 1 - np.unpackbits((a[orig] ^ b[orig]).view(np.uint8)).sum() / (64 * len(orig))
        print(f"  {k}: {agree:.4f} of bits over all {len(names)} files ({agree_o:.4f} on originals); identical hashes {same:.3f}")

    kinds = [kind(n) for n in names]
    origins = np.array([origin(n) for n in names])
    same_origin = origins[:, None] == origins[None, :]
    iu = np.triu_indices(len(names), 1)
    results = {}
    dist = {}
    for impl, hashes in (("annota", an), ("imagehash", ih)):
        d = {k: popcount_matrix(to_u64(hashes[k])) for k in ("dhash", "phash")}
        d["both"] = np.maximum(d["dhash"], d["phash"])
        dist[impl] = d
    impls = ["annota", "imagehash"]
    if args.crops:
        # annota --crops decides pairs itself (full hash against the other's crop windows): read
        # the pairs it reports at D = hi; pairs it does not report count as "farther than hi".
        impls.append("annota --crops")
        index = {n: i for i, n in enumerate(names)}
        d = {}
        for h in ("dhash", "phash", "both"):
            out_c = args.work + f"-crops-{h}.json"
            subprocess.run([args.annota, "dedup", args.work, "--out", out_c, "--quiet", "--crops",
                            "--hash", h, "--distance", str(hi)], check=True)
            m = np.full((len(names), len(names)), 99)
            for g in json.load(open(out_c))["groups"]:
                members = [index[os.path.basename(x["path"])] for x in g["members"]]
                for a, b, dd in g["pairs"]:
                    m[members[a], members[b]] = m[members[b], members[a]] = dd
            d[h] = m
        dist["annota --crops"] = d
    truth_all = same_origin
    for title, subset in (
        ("core set (originals, copies, re-encodes, resizes, crops 5-20%)", CORE),
        ("re-encodes, resizes, crops 5% (originals, copies, q95-q50, png, resize, crop05)",
         CORE - {"crop10", "crop20"}),
    ):
        member = np.array([k in subset for k in kinds])
        mask = member[:, None] & member[None, :]
        print(f"\n{title}: pair precision / recall")
        print("  d | " + " | ".join(f"{h} " + "  ".join(f"{i} P/R" for i in impls) for h in ("dhash", "phash", "both")))
        for t in range(lo, hi + 1):
            cells = []
            for h in ("dhash", "phash", "both"):
                cell = []
                for impl in impls:
                    p = ((dist[impl][h] <= t) & mask)[iu]
                    tr = (truth_all & mask)[iu]
                    tp = np.sum(p & tr)
                    prec = tp / max(p.sum(), 1)
                    rec = tp / max(tr.sum(), 1)
                    results.setdefault(title, {}).setdefault(impl, {}).setdefault(h, []).append(
                        (t, float(prec), float(rec)))
                    cell.append(f"{prec:.4f}/{rec:.4f}")
                cells.append("  ".join(cell))
            print(f" {t:2d} | " + " | ".join(cells))
    neg = (~same_origin)[iu]
    for impl in impls:
        print(f"closest unrelated pair ({impl}): " + ", ".join(
            f"{h} {int(dist[impl][h][iu][neg].min())}" for h in ("dhash", "phash", "both")))

    print("\nrecall per transform (pairs original<->derived), " + " / ".join(impls) + ":")
    kinds_order = ["copy", "png", "q95", "q75", "q50", "resize75", "resize50", "crop05", "crop10",
                   "crop20", "bright120", "bright80", "flip"]
    orig_index = {origin(n): i for i, n in enumerate(names) if kind(n) == "original"}
    for h in ("dhash", "phash", "both"):
        print(f"  {h}: " + "d  " + " ".join(f"{k:>14s}" for k in kinds_order))
        for t in range(lo, hi + 1, 2):
            row = []
            for k in kinds_order:
                idx = [(orig_index[origin(n)], i) for i, n in enumerate(names) if kind(n) == k]
                r = [np.mean([dist[impl][h][a, b] <= t for a, b in idx]) for impl in impls]
                row.append("/".join(f"{x:.2f}" for x in r))
            print(f"        {t:2d} " + " ".join(f"{c:>14s}" for c in row))
    n = len(names)
    print(f"\nimagehash on {n} files, 1 thread: decode {t_decode / n * 1000:.2f} ms/image, "
          f"dhash+phash {t_hash / n * 1000:.2f} ms/image")
    if args.json:
        json.dump(results, open(args.json, "w"), indent=1)


if __name__ == "__main__":
    sys.exit(main())
