"""Mask-operation baselines for compare-masks.sh: pycocotools and faster-coco-eval on the inputs that
annota-masks-bench reads, so that every library works on the same masks, polygons and strings.

  pymasks.py gen DIR                       write DIR/inputs.json and DIR/masks.bin (deterministic)
  pymasks.py time DIR [--iters N] [--warmup N] [--lib pycocotools|fce|both]
                                           one line per library and operation:
                                           lib=… op=… median_ms=… best_ms=… ok=0|1
  pymasks.py masks-loop IN OUT [--lib L]   whole dataset: json.load + COCO + annToRLE + area +
                                           toBbox + json.dump (what `annota masks` does)
  pymasks.py iou-loop A B OUT [--lib L]    whole dataset: per image and category annToRLE for both
                                           sides, iou (B's iscrowd), linear_sum_assignment on
                                           1 - IoU, pairs < 0.5 dropped, CSV (what `annota iou
                                           --type mask` does)
  pymasks.py check-masks X Y               same segmentation, area and bbox per annotation?
  pymasks.py check-iou X.csv Y.csv         same matched pairs (and IoU to 1e-9)?

Operations (H x W = 480 x 640; polygons of 20-100 vertices drawn like scripts/make_coco.py):
  encode-100      100 dense masks (h, w, 100) Fortran uint8 -> compressed RLE dicts   (encode)
  decode-100      100 compressed RLE dicts -> (h, w, 100) array                        (decode)
  parse-1000      1000 compressed RLE dicts -> parsed RLEs                             (_frString)
  polygons-1000   1000 rings -> compressed RLE dicts                                   (frPyObjects)
  rle-iou-100     100 x 100 IoU of compressed RLE dicts, 1% crowd ground truths        (iou)
  rle-iou-1000    1000 x 1000 likewise (pycocotools parses the 2000 strings inside iou)
  box-iou-1000    1000 x 1000 IoU of (n, 4) float64 boxes                              (iou)
  union-10        10 compressed RLE dicts -> their union as a compressed RLE dict      (merge)
Every call is timed as a user makes it: inputs as they come from JSON (dicts with str counts,
lists of floats) or, for encode and box IoU, the numpy arrays the API takes. parse-1000 calls the
private `_mask._frString` (both libraries have it): the public route, `area`, fails on lists of
256 or more masks in pycocotools 2.0.11 with NumPy 2 ("out of bounds for uint8").
"""
import argparse
import contextlib
import csv
import io
import json
import os
import sys
import time

import numpy as np

H, W = 480, 640


sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
from make_coco import polygon  # noqa: E402  (the same star-shaped rings as the COCO-sized file)


def text(rle):
    c = rle["counts"]
    return c.decode() if isinstance(c, bytes) else c


def dicts(strings):
    return [{"size": [H, W], "counts": s} for s in strings]


def gen(out):
    import pycocotools.mask as mu

    rng = np.random.default_rng(20240611)
    os.makedirs(out, exist_ok=True)
    rings_dt = [polygon(rng, W, H, int(rng.integers(20, 101))) for _ in range(1000)]
    rings_gt = [polygon(rng, W, H, int(rng.integers(20, 101))) for _ in range(1000)]
    dt = [text(r) for r in mu.frPyObjects(rings_dt, H, W)]
    gt = [text(r) for r in mu.frPyObjects(rings_gt, H, W)]
    crowd = [int(v) for v in rng.uniform(size=1000) < 0.01]
    # 100 dense masks: each the union of three of the polygons, so they have several parts.
    mask_rles = []
    for i in range(100):
        parts = [mu.frPyObjects([rings_gt[(3 * i + k) % 1000]], H, W)[0] for k in range(3)]
        mask_rles.append(mu.merge(parts))
    masks = mu.decode(mask_rles)  # (H, W, 100)
    with open(os.path.join(out, "masks.bin"), "wb") as f:
        for i in range(100):
            f.write(np.ascontiguousarray(masks[:, :, i].T).tobytes())  # column-major
    dt_boxes = mu.toBbox(dicts(dt)).tolist()
    gt_boxes = mu.toBbox(dicts(gt)).tolist()
    iou100 = mu.iou(dicts(dt[:100]), dicts(gt[:100]), crowd[:100])
    iou1000 = mu.iou(dicts(dt), dicts(gt), crowd)
    box1000 = mu.iou(np.array(dt_boxes), np.array(gt_boxes), crowd)
    expected = {
        "decode_sum": int(masks.sum(dtype=np.int64)),
        "rle_iou_100_sum": float(iou100.sum()),
        "rle_iou_1000_sum": float(iou1000.sum()),
        "box_iou_1000_sum": float(box1000.sum()),
        "union_10": text(mu.merge(dicts(dt[:10]))),
    }
    inputs = {"height": H, "width": W, "masks": 100, "mask_counts": [text(r) for r in mask_rles],
              "polygons": rings_dt, "dt": dt, "gt": gt, "crowd": crowd,
              "dt_boxes": dt_boxes, "gt_boxes": gt_boxes, "union": 10, "expected": expected}
    with open(os.path.join(out, "inputs.json"), "w") as f:
        json.dump(inputs, f)
    nonzero = int((iou1000 > 0).sum())
    print(f"pymasks gen: {out}: 100 masks, 1000+1000 polygons; {nonzero} of 10^6 RLE pairs overlap")


def module(lib):
    if lib == "pycocotools":
        import pycocotools.mask as mu
    else:
        import faster_coco_eval.core.mask as mu
    return mu


def median_ms(fn, iters, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter_ns()
        result = fn()
        times.append(time.perf_counter_ns() - t0)
        del result
    times.sort()
    n = len(times)
    med = times[n // 2] if n % 2 else (times[n // 2 - 1] + times[n // 2]) / 2
    return med / 1e6, times[0] / 1e6


def close(a, b):
    return abs(a - b) <= 1e-9 * max(1.0, abs(b))


def time_ops(directory, lib, iters, warmup):
    mu = module(lib)
    with open(os.path.join(directory, "inputs.json")) as f:
        d = json.load(f)
    exp = d["expected"]
    n = d["masks"]
    raw = np.fromfile(os.path.join(directory, "masks.bin"), dtype=np.uint8).reshape(n, W, H)
    dense = np.asfortranarray(raw.transpose(2, 1, 0))  # (H, W, n), Fortran order as encode wants
    mask_dicts = dicts(d["mask_counts"])
    dt, gt = dicts(d["dt"]), dicts(d["gt"])
    crowd = d["crowd"]
    polys = d["polygons"]
    dt_boxes, gt_boxes = np.array(d["dt_boxes"]), np.array(d["gt_boxes"])
    union = dt[: d["union"]]
    ops = [
        ("encode-100", lambda: mu.encode(dense),
         lambda r: [text(x) for x in r] == d["mask_counts"]),
        ("decode-100", lambda: mu.decode(mask_dicts),
         lambda r: int(r.sum(dtype=np.int64)) == exp["decode_sum"] and r.shape == (H, W, n)),
        ("parse-1000", lambda: mu._mask._frString(dt),
         lambda r: [text(x) for x in mu._mask._toString(r)] == d["dt"]),
        ("polygons-1000", lambda: mu.frPyObjects(polys, H, W),
         lambda r: [text(x) for x in r] == d["dt"]),
        ("rle-iou-100", lambda: mu.iou(dt[:100], gt[:100], crowd[:100]),
         lambda r: close(float(np.sum(r)), exp["rle_iou_100_sum"])),
        ("rle-iou-1000", lambda: mu.iou(dt, gt, crowd),
         lambda r: close(float(np.sum(r)), exp["rle_iou_1000_sum"])),
        ("box-iou-1000", lambda: mu.iou(dt_boxes, gt_boxes, crowd),
         lambda r: close(float(np.sum(r)), exp["box_iou_1000_sum"])),
        ("union-10", lambda: mu.merge(union), lambda r: text(r) == exp["union_10"]),
    ]
    for name, fn, check in ops:
        ok = check(fn())
        med, best = median_ms(fn, iters, warmup)
        print(f"lib={lib} op={name} median_ms={med:.4f} best_ms={best:.4f} ok={int(ok)}", flush=True)


def load_coco(lib, path):
    if lib == "pycocotools":
        from pycocotools.coco import COCO
    else:
        from faster_coco_eval.core import COCO
    with contextlib.redirect_stdout(io.StringIO()):
        return COCO(path)


def masks_loop(src, dst, lib):
    """annota masks: every segmentation to compressed RLE, area and bbox from the mask."""
    t0 = time.time()
    mu = module(lib)
    c = load_coco(lib, src)
    t1 = time.time()
    for a in c.dataset["annotations"]:
        r = c.annToRLE(a)
        r["counts"] = text(r)
        a["segmentation"] = r
        a["area"] = float(mu.area(r))
        a["bbox"] = mu.toBbox(r).tolist()
    t2 = time.time()
    with open(dst, "w") as f:
        json.dump(c.dataset, f)
    t3 = time.time()
    print(f"load {t1 - t0:.2f} convert {t2 - t1:.2f} dump {t3 - t2:.2f} total {t3 - t0:.2f}",
          file=sys.stderr)


def iou_loop(path_a, path_b, dst, lib, threshold=0.5):
    """annota iou --type mask: per image and category, optimal matching on mask IoU."""
    from scipy.optimize import linear_sum_assignment

    mu = module(lib)
    ca, cb = load_coco(lib, path_a), load_coco(lib, path_b)

    def by_image(c):
        groups = {}
        for a in c.dataset["annotations"]:
            groups.setdefault(a["image_id"], []).append(a)
        return groups

    ga, gb = by_image(ca), by_image(cb)
    order = list(dict.fromkeys([i["id"] for i in ca.dataset["images"]] + list(ga)
                               + [i["id"] for i in cb.dataset["images"]] + list(gb)))
    rows = []
    for image_id in order:
        objs_a, objs_b = ga.get(image_id, []), gb.get(image_id, [])
        for cat in sorted({o["category_id"] for o in objs_a + objs_b}):
            A = [o for o in objs_a if o["category_id"] == cat]
            B = [o for o in objs_b if o["category_id"] == cat]
            pairs = []
            if A and B:
                ra = [ca.annToRLE(o) for o in A]
                rb = [cb.annToRLE(o) for o in B]
                crowd = [int(o.get("iscrowd", 0)) for o in B]
                iou = np.asarray(mu.iou(ra, rb, crowd), dtype=np.float64).reshape(len(A), len(B))
                area_a, area_b = mu.area(ra), mu.area(rb)
                cost = np.where(iou >= threshold, 1.0 - iou, 1.0)
                for i, j in zip(*linear_sum_assignment(cost)):
                    if iou[i, j] >= threshold:
                        inter = iou[i, j] * (area_a[i] if crowd[j] else
                                             (area_a[i] + area_b[j]) / (1.0 + iou[i, j]))
                        dice = 2.0 * inter / (area_a[i] + area_b[j])
                        pairs.append((i, j, float(iou[i, j]), float(dice)))
            pairs.sort()
            used_a = {p[0] for p in pairs}
            used_b = {p[1] for p in pairs}
            for i, j, v, dice in pairs:
                rows.append((image_id, cat, A[i]["id"], B[j]["id"], repr(v), repr(dice)))
            rows += [(image_id, cat, o["id"], "", "", "") for i, o in enumerate(A) if i not in used_a]
            rows += [(image_id, cat, "", o["id"], "", "") for j, o in enumerate(B) if j not in used_b]
    with open(dst, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["image_id", "category_id", "a_id", "b_id", "iou", "dice"])
        w.writerows(rows)


def check_masks(x, y):
    with open(x) as f:
        ax = json.load(f)["annotations"]
    with open(y) as f:
        ay = json.load(f)["annotations"]
    bad = sum(1 for p, q in zip(ax, ay)
              if p["segmentation"] != q["segmentation"] or p["area"] != q["area"]
              or any(abs(u - v) > 1e-9 for u, v in zip(p["bbox"], q["bbox"])))
    bad += abs(len(ax) - len(ay))
    print(f"same={int(bad == 0)} differing={bad} of {len(ax)}")


def check_iou(x, y):
    def pairs(path):
        with open(path) as f:
            return {(r["image_id"], r["a_id"], r["b_id"]): float(r["iou"])
                    for r in csv.DictReader(f) if r["iou"]}
    px, py = pairs(x), pairs(y)
    same_keys = px.keys() == py.keys()
    worst = max((abs(px[k] - py[k]) for k in px.keys() & py.keys()), default=0.0)
    print(f"same={int(same_keys and worst <= 1e-9)} matched={len(px)}/{len(py)} "
          f"only_one_side={len(px.keys() ^ py.keys())} max_iou_diff={worst:.2e}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["gen", "time", "masks-loop", "iou-loop", "check-masks",
                                        "check-iou", "load"])
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--lib", default="pycocotools", choices=["pycocotools", "fce", "both"])
    args = ap.parse_args()
    libs = ["pycocotools", "fce"] if args.lib == "both" else [args.lib]
    if args.command == "gen":
        gen(args.paths[0])
    elif args.command == "time":
        for lib in libs:
            time_ops(args.paths[0], lib, args.iters, args.warmup)
    elif args.command == "masks-loop":
        masks_loop(args.paths[0], args.paths[1], libs[0])
    elif args.command == "iou-loop":
        iou_loop(args.paths[0], args.paths[1], args.paths[2], libs[0])
    elif args.command == "load":
        # Reading a COCO file: json.load + COCO() (its index), one process per measurement so
        # that /usr/bin/time's peak RSS is the reader's.
        t0 = time.time()
        c = load_coco(libs[0], args.paths[0])
        print(f"op=load-coco lib={libs[0]} seconds={time.time() - t0:.3f} "
              f"annotations={len(c.dataset['annotations'])}")
    elif args.command == "check-masks":
        check_masks(*args.paths[:2])
    else:
        check_iou(*args.paths[:2])


if __name__ == "__main__":
    main()
