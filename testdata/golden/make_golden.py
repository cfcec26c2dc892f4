"""Writes testdata/golden/masks.json: golden mask cases computed by pycocotools.

usage: $(../shared/tools/refenv.sh | tail -1) testdata/golden/make_golden.py [OUT.json]

Deterministic: all randomness comes from numpy.random.RandomState with fixed seeds, and the JSON
has no timestamps. Every value comes from pycocotools (maskUtils.encode / frPyObjects / merge /
area / toBbox / iou). The script also checks pycocotools against independent numpy computations
(run counts, boolean union/intersection, IoU, area, bbox) and a Python port of the string codec;
it stops if any of these disagree.

Sections (all RLE strings are pycocotools compressed `counts` strings, decoded to str):
  encode     {kind,h,w,bits (column-major '0'/'1'),counts,string,area,bbox}
  strings    {kind,h,w,counts,string}
  polygons   {kind,h,w,rings,string,area,bbox}     rings always have >= 6 numbers
  boxes      {kind,h,w,box,string,area,bbox}
  merges     {h,w,rles,union,intersection}
  ious       {h,w,dt,gt,iscrowd,iou}               iou is len(dt) x len(gt)
  bbox_ious  {dt,gt,iscrowd,iou}
"""
import hashlib
import json
import math
import os
import sys

import numpy as np
import pycocotools
import pycocotools.mask as maskUtils

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "masks.json")


# ---------------------------------------------------------------------------------------------
# Independent Python port of pycocotools' string codec (maskApi.c rleToString / rleFrString),
# used only to cross-check pycocotools.

def py_to_string(cnts):
    out = []
    for i, x in enumerate(cnts):
        x = int(x)
        if i > 2:
            x -= int(cnts[i - 2])
        more = True
        while more:
            c = x & 0x1F
            x >>= 5  # arithmetic shift, like the C code on a signed long
            more = (x != -1) if (c & 0x10) else (x != 0)
            if more:
                c |= 0x20
            out.append(chr(c + 48))
    return "".join(out)


def py_from_string(s):
    cnts = []
    p = 0
    while p < len(s):
        x = 0
        k = 0
        more = True
        while more:
            c = ord(s[p]) - 48
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and (c & 0x10):
                x |= -1 << (5 * k)
        if len(cnts) > 2:
            x += cnts[-2]
        cnts.append(x)
    return cnts


def counts_from_bits(flat):
    """Run counts of a column-major 0/1 sequence, starting with a (possibly empty) run of 0s."""
    cnts = []
    cur = 0
    run = 0
    for b in flat:
        if b != cur:
            cnts.append(run)
            run = 0
            cur = b
        run += 1
    cnts.append(run)
    return cnts


def s(rle):
    c = rle["counts"]
    return c.decode("ascii") if isinstance(c, bytes) else c


def rle_of(string, h, w):
    return {"size": [h, w], "counts": string.encode("ascii")}


def decode_str(string, h, w):
    return maskUtils.decode(rle_of(string, h, w))


def area_bbox(rle):
    return int(maskUtils.area(rle)), [float(v) for v in maskUtils.toBbox(rle).tolist()]


def np_bbox(m):
    ys, xs = np.nonzero(m)
    if len(xs) == 0:
        return [0.0, 0.0, 0.0, 0.0]
    return [float(xs.min()), float(ys.min()), float(xs.max() - xs.min() + 1), float(ys.max() - ys.min() + 1)]


def check_rle(string, h, w):
    """Cross-checks a pycocotools RLE string; returns (area, bbox) from pycocotools."""
    cnts = py_from_string(string)
    assert py_to_string(cnts) == string, string
    assert sum(cnts) == h * w, (sum(cnts), h, w)
    assert all(c >= 0 for c in cnts) and all(c > 0 for c in cnts[1:]), cnts
    rle = rle_of(string, h, w)
    area, bbox = area_bbox(rle)
    m = maskUtils.decode(rle)
    assert int(m.sum()) == area
    assert np_bbox(m) == bbox, (np_bbox(m), bbox)
    return area, bbox


def enc(mask):
    return s(maskUtils.encode(np.asfortranarray(mask.astype(np.uint8))))


# ---------------------------------------------------------------------------------------------
# encode

def gen_encode():
    rng = np.random.RandomState(1001)
    cases = []

    def add(kind, m):
        m = np.asarray(m, dtype=np.uint8)
        h, w = m.shape
        flat = m.flatten(order="F").tolist()
        bits = "".join("1" if b else "0" for b in flat)
        cnts = counts_from_bits(flat)
        rle = maskUtils.encode(np.asfortranarray(m))
        string = s(rle)
        assert py_from_string(string) == cnts, (kind, cnts, string)
        assert (maskUtils.decode(rle) == m).all()
        area, bbox = check_rle(string, h, w)
        cases.append({"kind": kind, "h": h, "w": w, "bits": bits, "counts": cnts, "string": string,
                      "area": area, "bbox": bbox})

    design = np.array([[0, 1, 0], [0, 1, 1], [1, 1, 0], [0, 0, 0]])
    add("design_4x3", design)
    assert cases[-1]["counts"] == [2, 1, 1, 3, 2, 1, 2] and cases[-1]["string"] == "21121N0"

    for h, w in [(1, 1), (1, 7), (7, 1), (4, 3), (13, 17)]:
        add("empty", np.zeros((h, w)))
        add("full", np.ones((h, w)))
    for h, w in [(1, 1), (4, 3), (31, 29)]:
        m = np.zeros((h, w)); m[0, 0] = 1; add("first_pixel", m)
        m = np.zeros((h, w)); m[-1, -1] = 1; add("last_pixel", m)
    m = np.zeros((13, 17)); m[6, 8] = 1; add("single_pixel", m)
    m = np.ones((4, 3)); m[0, 0] = 0; add("all_but_first", m)
    m = np.ones((4, 3)); m[-1, -1] = 0; add("all_but_last", m)
    m = np.zeros((1, 7)); m[0, ::2] = 1; add("alternating_row", m)
    m = np.zeros((7, 1)); m[1::2, 0] = 1; add("alternating_col", m)
    for h, w in [(4, 3), (13, 17), (31, 29)]:
        add("checkerboard", (np.add.outer(np.arange(h), np.arange(w)) % 2))
    add("checkerboard_inv", 1 - (np.add.outer(np.arange(13), np.arange(17)) % 2))
    add("stripes_rows", np.tile((np.arange(13) % 2)[:, None], (1, 17)))
    add("stripes_cols", np.tile((np.arange(17) % 2)[None, :], (13, 1)))
    m = np.zeros((31, 29)); m[5:20, 3:25] = 1; add("rectangle", m)
    m = np.zeros((31, 29)); m[:, 10:12] = 1; add("full_columns", m)  # runs spanning columns
    m = np.zeros((31, 29)); m[30, 3] = 1; m[0, 4] = 1; add("wrap_pair", m)
    for (h, w), p in [((1, 7), 0.5), ((7, 1), 0.5), ((4, 3), 0.5), ((13, 17), 0.05), ((13, 17), 0.5),
                      ((13, 17), 0.95), ((31, 29), 0.02), ((31, 29), 0.3), ((31, 29), 0.7),
                      ((31, 29), 0.98), ((20, 25), 0.5), ((25, 20), 0.1)]:
        add("random_p%g" % p, (rng.random_sample((h, w)) < p))
    # blobby random mask (long runs -> multi-char deltas, negative deltas)
    m = np.zeros((31, 29))
    for _ in range(6):
        y0, x0 = rng.randint(0, 31), rng.randint(0, 29)
        m[y0:y0 + rng.randint(1, 15), x0:x0 + rng.randint(1, 15)] = 1
    add("blobs", m)
    return cases


# ---------------------------------------------------------------------------------------------
# strings (uncompressed counts -> compressed string)

def gen_strings():
    rng = np.random.RandomState(2002)
    cases = []

    def add(kind, h, w, cnts):
        cnts = [int(c) for c in cnts]
        assert sum(cnts) == h * w, (kind, sum(cnts), h * w)
        rle = maskUtils.frPyObjects({"size": [h, w], "counts": cnts}, h, w)
        string = s(rle)
        assert py_to_string(cnts) == string and py_from_string(string) == cnts, (kind, cnts, string)
        cases.append({"kind": kind, "h": h, "w": w, "counts": cnts, "string": string})

    add("first_zero", 4, 3, [0, 5, 7])
    add("design", 4, 3, [2, 1, 1, 3, 2, 1, 2])
    add("empty", 4, 3, [12])
    add("full", 4, 3, [0, 12])
    add("doc_31203", 4, 3, [3, 1, 2, 1, 5])
    add("one_pixel", 1, 1, [1])
    add("one_pixel_full", 1, 1, [0, 1])
    add("empty_2000x1500", 2000, 1500, [3000000])
    add("full_2000x1500", 2000, 1500, [0, 3000000])
    add("half_2000x1500", 2000, 1500, [1500000, 1500000])
    add("last_pixel_2000x1500", 2000, 1500, [2999999, 1])
    add("first_pixel_2000x1500", 2000, 1500, [0, 1, 2999999])
    add("big_small_alternating", 2000, 1500, [1000000, 1, 999998, 2, 999999])  # big negative deltas
    add("small_big_alternating", 2000, 1500, [1, 1000000, 2, 1999997])
    # boundary values of the 5-bit groups (positive and negative deltas around 2^4, 2^9, ...)
    for kind, vals in [("group_edges_pos", [15, 16, 31, 32, 511, 512, 1023, 1024, 16383, 16384, 524287, 524288]),
                       ("group_edges_neg", [500000, 500015, 1, 2, 500016, 3, 16, 500500, 17, 511, 500000])]:
        tot = sum(vals)
        h, w = 2000, 1500
        add(kind, h, w, vals + [h * w - tot])
    # random realistic masks: counts on big images
    for h, w, k in [(2000, 1500, 7), (2000, 1500, 40), (1500, 2000, 200), (640, 480, 25), (480, 640, 301),
                    (427, 640, 64), (1, 3000000, 10), (3000000, 1, 11)]:
        n = h * w
        cuts = np.sort(rng.choice(n - 1, size=k - 1, replace=False) + 1)
        cnts = np.diff(np.concatenate([[0], cuts, [n]])).tolist()
        add("random_k%d" % k, h, w, cnts)
    # log-uniform run lengths (mixes 1..~1e6 runs -> many negative deltas)
    for h, w in [(2000, 1500), (1000, 1000), (333, 777)]:
        n = h * w
        cnts = [int(rng.randint(0, 3))]
        while True:
            c = int(math.exp(rng.uniform(0, math.log(n / 3))))
            if sum(cnts) + c >= n:
                break
            cnts.append(max(1, c))
        cnts.append(n - sum(cnts))
        add("loguniform", h, w, cnts)
    # from a real mask (a large ellipse + holes on a 2000x1500 image)
    h, w = 2000, 1500
    yy, xx = np.mgrid[0:h, 0:w]
    m = ((yy - 900.3) ** 2 / 700.0 ** 2 + (xx - 720.7) ** 2 / 610.0 ** 2 < 1) & ~(((yy - 800) ** 2 + (xx - 700) ** 2) < 150 ** 2)
    string = enc(m)
    add("ellipse_with_hole_2000x1500", h, w, py_from_string(string))
    assert cases[-1]["string"] == string
    # run counts with interior zeros (not produced by encode, but a valid codec input)
    add("interior_zero", 4, 3, [3, 0, 2, 1, 6])
    add("interior_zeros_big", 2000, 1500, [10, 0, 0, 2999990])
    return cases


# ---------------------------------------------------------------------------------------------
# polygons

def fmt_ring(pts, mode):
    out = []
    for x, y in pts:
        for v in (x, y):
            if mode == "int":
                out.append(int(round(v)))
            elif mode == "r2":
                out.append(round(float(v), 2))
            else:
                out.append(float(v))
    return out


def ellipse_pts(rng, cx, cy, rx, ry, k, jitter=0.0):
    ang = np.sort(rng.uniform(0, 2 * np.pi, size=k))
    r = 1.0 - jitter * rng.random_sample(k)
    pts = list(zip(cx + rx * r * np.cos(ang), cy + ry * r * np.sin(ang)))
    if rng.random_sample() < 0.5:
        pts = pts[::-1]
    return pts


def star_pts(rng, cx, cy, rout, k):
    ang = np.sort(rng.uniform(0, 2 * np.pi, size=k))
    r = np.where(np.arange(k) % 2 == 0, rout, rout * rng.uniform(0.15, 0.6, size=k))
    pts = list(zip(cx + r * np.cos(ang), cy + r * np.sin(ang)))
    if rng.random_sample() < 0.5:
        pts = pts[::-1]
    return pts


def gen_polygons():
    rng = np.random.RandomState(3003)
    cases = []

    def add(kind, h, w, rings):
        for r in rings:
            assert len(r) >= 6 and len(r) % 2 == 0, (kind, r)
        rles = maskUtils.frPyObjects(rings, h, w)
        rle = maskUtils.merge(rles)
        string = s(rle)
        area, bbox = check_rle(string, h, w)
        cases.append({"kind": kind, "h": h, "w": w, "rings": rings, "string": string, "area": area, "bbox": bbox})

    def small_size():
        return int(rng.randint(1, 41)), int(rng.randint(1, 41))

    def mode_for(i):
        return "r2" if i % 2 == 0 else "full"

    # the two reference squares from the design notes
    add("design_square_int", 5, 5, [[0, 0, 0, 3, 3, 3, 3, 0]])
    add("design_square_half", 5, 5, [[0.5, 0.5, 0.5, 2.5, 2.5, 2.5, 2.5, 0.5]])

    for i in range(36):  # convex
        h, w = small_size()
        pts = ellipse_pts(rng, rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.5, w * 0.7 + 1),
                          rng.uniform(0.5, h * 0.7 + 1), int(rng.randint(3, 13)))
        add("convex", h, w, [fmt_ring(pts, mode_for(i))])
    for i in range(34):  # concave star-shaped
        h, w = small_size()
        pts = star_pts(rng, rng.uniform(0, w), rng.uniform(0, h), rng.uniform(1, max(h, w) * 0.7 + 1),
                       int(rng.randint(5, 25)))
        add("star", h, w, [fmt_ring(pts, mode_for(i))])
    for i in range(34):  # self-intersecting: random point order
        h, w = small_size()
        k = int(rng.randint(4, 16))
        pts = list(zip(rng.uniform(-2, w + 2, size=k), rng.uniform(-2, h + 2, size=k)))
        add("self_intersecting", h, w, [fmt_ring(pts, mode_for(i))])
    for i in range(30):  # sub-pixel: all vertices within one 1x1 area (often around a pixel centre)
        h, w = small_size()
        k = int(rng.randint(3, 8))
        size = rng.uniform(0.05, 1.0)
        if i % 2:  # anywhere
            ax = rng.randint(0, w) + (rng.uniform(0, 1) if i % 3 else 0.0)
            ay = rng.randint(0, h) + (rng.uniform(0, 1) if i % 3 else 0.0)
        else:  # roughly centred on a pixel centre
            ax = rng.randint(0, w) + 0.5 - size / 2 + rng.uniform(-0.1, 0.1)
            ay = rng.randint(0, h) + 0.5 - size / 2 + rng.uniform(-0.1, 0.1)
        pts = list(zip(ax + size * rng.random_sample(k), ay + size * rng.random_sample(k)))
        if i % 4 < 2:  # sort by angle (simple polygon); otherwise random order
            pts = [pts[j] for j in np.argsort([math.atan2(p[1] - ay - size / 2, p[0] - ax - size / 2) for p in pts])]
        add("subpixel", h, w, [fmt_ring(pts, mode_for(i))])
    for i in range(10):  # tiny squares straddling / missing a pixel centre (x.5)
        h, w = small_size()
        cx, cy = rng.randint(0, w) + 0.5, rng.randint(0, h) + 0.5
        d = [0.05, 0.1, 0.11, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5][i]
        ox, oy = rng.choice([-0.3, -0.1, 0.0, 0.1, 0.3], size=2)
        pts = [(cx + ox - d, cy + oy - d), (cx + ox - d, cy + oy + d), (cx + ox + d, cy + oy + d), (cx + ox + d, cy + oy - d)]
        add("tiny_square", h, w, [fmt_ring(pts, "r2" if i % 2 else "full")])
    for i in range(28):  # integer coordinates (JSON ints)
        h, w = small_size()
        if i % 3 == 0:
            x0, x1 = sorted(rng.randint(-3, w + 4, size=2)); y0, y1 = sorted(rng.randint(-3, h + 4, size=2))
            pts = [(x0, y0), (x0, y1), (x1, y1), (x1, y0)]
            if i % 2:
                pts = pts[::-1]
        elif i % 3 == 1:
            pts = star_pts(rng, rng.uniform(0, w), rng.uniform(0, h), rng.uniform(1, max(h, w) * 0.7 + 1), int(rng.randint(3, 12)))
        else:
            k = int(rng.randint(3, 9))
            pts = list(zip(rng.randint(0, w + 1, size=k), rng.randint(0, h + 1, size=k)))
        add("integer", h, w, [fmt_ring(pts, "int")])
    for i in range(12):  # coordinates on the 1/5 snapping grid and at its half-steps (ties of (int)(5x+.5))
        h, w = small_size()
        k = int(rng.randint(3, 9))
        q = 0.1 if i % 2 else 0.2
        pts = list(zip(np.round(rng.uniform(-1, w + 1, size=k) / q) * q, np.round(rng.uniform(-1, h + 1, size=k) / q) * q))
        add("snap_grid", h, w, [fmt_ring(pts, "full" if i % 3 else "r2")])
    for i in range(30):  # partly outside (negative coords and > w/h)
        h, w = small_size()
        side = i % 5
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        if side == 0:
            cx = rng.uniform(-3, 0.5)
        elif side == 1:
            cy = rng.uniform(-3, 0.5)
        elif side == 2:
            cx = w + rng.uniform(-0.5, 3)
        elif side == 3:
            cy = h + rng.uniform(-0.5, 3)
        if i % 2:
            pts = star_pts(rng, cx, cy, rng.uniform(1, max(h, w) * 0.8 + 2), int(rng.randint(3, 15)))
        else:
            pts = ellipse_pts(rng, cx, cy, rng.uniform(1, w + 2), rng.uniform(1, h + 2), int(rng.randint(3, 12)))
        add("partly_outside", h, w, [fmt_ring(pts, mode_for(i))])
    for i in range(8):  # small negative coordinates near 0: (int)(5x+.5) truncates towards zero
        h, w = small_size()
        x1, y1 = rng.uniform(0.2, w), rng.uniform(0.2, h)
        x0 = [-0.05, -0.1, -0.15, -0.19, -0.2, -0.25, -0.3, -0.31][i]
        y0 = [-0.31, -0.3, -0.25, -0.2, -0.19, -0.15, -0.1, -0.05][i]
        pts = [(x0, y0), (x0, y1), (x1, y1), (x1, y0)]
        add("near_zero_negative", h, w, [fmt_ring(pts, "full" if i % 2 else "r2")])
    for i in range(14):  # wholly outside
        h, w = small_size()
        side = i % 7
        pts = ellipse_pts(rng, 0, 0, rng.uniform(0.5, 5), rng.uniform(0.5, 5), int(rng.randint(3, 9)))
        r = 6
        off = {0: (-r, h / 2), 1: (w / 2, -r), 2: (w + r, h / 2), 3: (w / 2, h + r), 4: (-r, -r),
               5: (w + r, h + r), 6: (-r, h + r)}[side]
        pts = [(x + off[0], y + off[1]) for x, y in pts]
        add("wholly_outside", h, w, [fmt_ring(pts, mode_for(i))])
    # wholly outside but straddling the image in the other axis, and a polygon enclosing the image
    add("outside_above_spanning", 10, 12, [[-5.0, -8.0, 20.0, -8.0, 20.0, -0.7, -5.0, -0.7]])
    add("outside_left_spanning", 10, 12, [[-9.0, -5.0, -0.8, -5.0, -0.8, 20.0, -9.0, 20.0]])
    add("outside_below_spanning", 10, 12, [[-5.0, 10.6, 20.0, 10.6, 20.0, 30.0, -5.0, 30.0]])
    add("outside_right_spanning", 10, 12, [[11.6, -5.0, 30.0, -5.0, 30.0, 20.0, 11.6, 20.0]])
    add("enclosing_image", 10, 12, [[-5.5, -5.5, 30.25, -5.5, 30.25, 40.75, -5.5, 40.75]])
    for i in range(12):  # huge coordinates (+-1e5)
        h, w = small_size()
        big = 1e5
        k = int(rng.randint(3, 7))
        pts = [(rng.uniform(0, w), rng.uniform(0, h)) for _ in range(k)]
        for j in rng.choice(k, size=int(rng.randint(1, k)), replace=False):
            pts[j] = (rng.choice([-big, big]) * rng.uniform(0.5, 1), pts[j][1] if i % 2 else rng.choice([-big, big]) * rng.uniform(0.5, 1))
        add("huge_1e5", h, w, [fmt_ring(pts, mode_for(i))])
    # +-1e7 (pycocotools walks every 1/5-pixel step of every edge: these are slow and memory hungry)
    add("huge_1e7", 20, 30, [[5.0, 5.0, 1e7, 8.0, 25.0, 15.0]])
    add("huge_1e7", 20, 30, [[-1e7, -1e7, 15.5, 10.25, 1e7, -1e7]])
    add("huge_1e7", 17, 13, [[-1e7, 3.3, 6.6, -1e7, 1e7, 9.9, 6.6, 1e7]])
    add("huge_1e7", 9, 11, [[-9999999.37, -1234567.89, 9876543.21, 5.5, 4.4, 9999999.99]])
    for i in range(20):  # many vertices (up to 200)
        h, w = int(rng.randint(20, 81)), int(rng.randint(20, 81))
        k = [200, 150, 100, 64][i % 4] if i < 8 else int(rng.randint(30, 200))
        if i % 3 == 0:
            pts = star_pts(rng, w / 2, h / 2, min(h, w) * 0.6, k)
        elif i % 3 == 1:
            pts = ellipse_pts(rng, w / 2, h / 2, w * 0.45, h * 0.45, k, jitter=0.4)
        else:  # random walk around a circle
            ang = np.linspace(0, 2 * np.pi, k, endpoint=False)
            r = min(h, w) * 0.35 + np.cumsum(rng.normal(0, 0.6, size=k))
            pts = list(zip(w / 2 + r * np.cos(ang), h / 2 + r * np.sin(ang)))
        add("many_vertices", h, w, [fmt_ring(pts, "r2" if i < 14 else "full")])
    for i in range(30):  # several rings per object (overlapping and disjoint)
        h, w = small_size()
        h, w = h + 5, w + 5
        rings = []
        for _ in range(int(rng.randint(2, 6))):
            cx, cy = rng.uniform(-2, w + 2), rng.uniform(-2, h + 2)
            if rng.random_sample() < 0.5:
                pts = ellipse_pts(rng, cx, cy, rng.uniform(0.3, w / 2), rng.uniform(0.3, h / 2), int(rng.randint(3, 10)))
            else:
                pts = star_pts(rng, cx, cy, rng.uniform(0.5, max(h, w) / 2), int(rng.randint(4, 14)))
            rings.append(fmt_ring(pts, mode_for(i) if i % 5 else "int"))
        add("multi_ring", h, w, rings)
    # nested rings: merge is a union, so an inner ring does not make a hole
    add("multi_ring_nested", 20, 20, [[2, 2, 2, 17, 17, 17, 17, 2], [6, 6, 6, 12, 12, 12, 12, 6]])
    add("multi_ring_identical", 8, 8, [[1.2, 1.3, 6.1, 2.2, 3.3, 6.6], [1.2, 1.3, 6.1, 2.2, 3.3, 6.6]])
    # degenerate shapes
    add("degenerate_line", 10, 10, [[1.0, 1.0, 8.0, 8.0, 4.5, 4.5]])
    add("degenerate_point", 10, 10, [[4.5, 4.5, 4.5, 4.5, 4.5, 4.5]])
    add("degenerate_hline", 10, 10, [[0.5, 3.5, 9.5, 3.5, 5.0, 3.5]])
    add("degenerate_vline", 10, 10, [[3.5, 0.5, 3.5, 9.5, 3.5, 5.0]])
    add("repeated_vertices", 10, 10, [[1.0, 1.0, 1.0, 1.0, 8.0, 1.0, 8.0, 1.0, 8.0, 7.0, 1.0, 7.0, 1.0, 7.0]])
    add("bowtie", 12, 12, [[1.0, 1.0, 10.0, 10.0, 10.0, 1.0, 1.0, 10.0]])
    add("double_wound", 12, 12, [[1, 1, 10, 1, 10, 10, 1, 10, 1, 1, 10, 1, 10, 10, 1, 10]])
    add("pentagram", 21, 21, [[10.0, 0.5, 16.2, 19.5, 0.3, 7.6, 19.7, 7.6, 3.8, 19.5]])
    add("image_1x1_cover", 1, 1, [[0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0]])
    add("image_1x1_center", 1, 1, [[0.4, 0.4, 0.4, 0.6, 0.6, 0.6, 0.6, 0.4]])
    add("image_1x1_miss", 1, 1, [[0.6, 0.6, 0.6, 0.9, 0.9, 0.9, 0.9, 0.6]])
    add("image_1x7", 1, 7, [[0.2, -1.0, 6.3, 0.49, 3.1, 2.0]])
    add("image_7x1", 7, 1, [[-1.0, 0.2, 0.49, 6.3, 2.0, 3.1]])
    add("thin_diagonal", 30, 30, [[0.0, 0.0, 30.0, 29.0, 30.0, 30.0, 1.0, 30.0 - 29.0 + 0.0]])
    add("integer_rect_full", 6, 7, [[0, 0, 7, 0, 7, 6, 0, 6]])
    add("integer_rect_inner", 6, 7, [[1, 1, 1, 5, 6, 5, 6, 1]])
    add("half_rect", 6, 7, [[0.5, 0.5, 6.5, 0.5, 6.5, 5.5, 0.5, 5.5]])
    add("triangle_on_centres", 9, 9, [[0.5, 0.5, 8.5, 0.5, 0.5, 8.5]])
    add("triangle_on_corners", 9, 9, [[0, 0, 9, 0, 0, 9]])
    # a few large images
    for i, (h, w) in enumerate([(500, 400), (400, 500), (480, 640), (427, 640), (500, 375)]):
        rings = []
        for _ in range(1 + i % 3):
            pts = star_pts(rng, rng.uniform(0, w), rng.uniform(0, h), rng.uniform(20, max(h, w) * 0.5), int(rng.randint(6, 40)))
            rings.append(fmt_ring(pts, mode_for(i)))
        add("large_image", h, w, rings)
    return cases


# ---------------------------------------------------------------------------------------------
# boxes

def gen_boxes():
    rng = np.random.RandomState(4004)
    cases = []

    def add(kind, h, w, box):
        rle = maskUtils.frPyObjects(np.array([box], dtype=np.float64), h, w)[0]
        string = s(rle)
        area, bbox = check_rle(string, h, w)
        cases.append({"kind": kind, "h": h, "w": w, "box": box, "string": string, "area": area, "bbox": bbox})

    add("integer", 5, 5, [0, 0, 3, 3])
    add("integer", 10, 12, [2, 3, 5, 4])
    add("full_image", 10, 12, [0, 0, 12, 10])
    add("half_pixel", 5, 5, [0.5, 0.5, 2, 2])
    add("zero_size", 10, 10, [3, 3, 0, 0])
    add("zero_width", 10, 10, [3, 3, 0, 4])
    add("zero_height", 10, 10, [3, 3, 4, 0])
    add("zero_size_fraction", 10, 10, [3.5, 3.5, 0.0, 0.0])
    add("subpixel_over_centre", 10, 10, [3.3, 3.3, 0.4, 0.4])
    add("subpixel_missing_centre", 10, 10, [3.6, 3.6, 0.3, 0.3])
    add("outside_left", 10, 10, [-5, 2, 3, 3])
    add("outside_below", 10, 10, [2, 12, 3, 3])
    add("partly_left_top", 10, 10, [-2.3, -1.7, 5.1, 4.2])
    add("partly_right_bottom", 10, 10, [7.7, 6.4, 5.0, 9.0])
    add("covering_image", 10, 10, [-3, -3, 20, 20])
    add("near_zero_negative", 10, 10, [-0.15, -0.25, 3, 3])
    add("huge", 20, 20, [-1e5, 5.5, 2e5, 3.25])
    add("image_1x1", 1, 1, [0, 0, 1, 1])
    add("image_1x1_small", 1, 1, [0.25, 0.25, 0.5, 0.5])
    add("negative_size", 10, 10, [8.0, 7.0, -4.0, -3.0])  # same polygon walked the other way
    for i in range(22):
        h, w = int(rng.randint(1, 60)), int(rng.randint(1, 60))
        x, y = rng.uniform(-3, w + 1), rng.uniform(-3, h + 1)
        bw, bh = rng.uniform(0, w * 0.8 + 1), rng.uniform(0, h * 0.8 + 1)
        box = [x, y, bw, bh]
        box = [round(float(v), 2) for v in box] if i % 2 else [float(v) for v in box]
        add("random", h, w, box)
    return cases


# ---------------------------------------------------------------------------------------------
# random masks for merges / ious

def rand_mask(rng, h, w):
    t = rng.randint(0, 6)
    m = np.zeros((h, w), dtype=np.uint8)
    if t == 0:
        return m
    if t == 1:
        return (rng.random_sample((h, w)) < rng.uniform(0.05, 0.95)).astype(np.uint8)
    if t == 2:
        for _ in range(rng.randint(1, 4)):
            y0, x0 = rng.randint(0, h), rng.randint(0, w)
            m[y0:y0 + rng.randint(1, h + 1), x0:x0 + rng.randint(1, w + 1)] = 1
        return m
    # polygon via pycocotools itself
    pts = star_pts(rng, rng.uniform(0, w), rng.uniform(0, h), rng.uniform(1, max(h, w) * 0.7), int(rng.randint(3, 12)))
    rle = maskUtils.merge(maskUtils.frPyObjects([fmt_ring(pts, "full")], h, w))
    return maskUtils.decode(rle)


def gen_merges():
    rng = np.random.RandomState(5005)
    cases = []

    def add(h, w, masks):
        rles = [maskUtils.encode(np.asfortranarray(m.astype(np.uint8))) for m in masks]
        u = s(maskUtils.merge(rles, intersect=0))
        it = s(maskUtils.merge(rles, intersect=1))
        mu = np.zeros((h, w), dtype=bool)
        mi = np.ones((h, w), dtype=bool)
        for m in masks:
            mu |= m.astype(bool)
            mi &= m.astype(bool)
        assert u == enc(mu), "merge union differs from numpy"
        assert it == enc(mi), "merge intersection differs from numpy"
        check_rle(u, h, w)
        check_rle(it, h, w)
        cases.append({"h": h, "w": w, "rles": [s(r) for r in rles], "union": u, "intersection": it})

    z = np.zeros((6, 5), dtype=np.uint8)
    o = np.ones((6, 5), dtype=np.uint8)
    a = np.zeros((6, 5), dtype=np.uint8); a[1:4, 1:3] = 1
    b = np.zeros((6, 5), dtype=np.uint8); b[2:6, 2:5] = 1
    c = np.zeros((6, 5), dtype=np.uint8); c[0, 0] = 1
    d = np.zeros((6, 5), dtype=np.uint8); d[-1, -1] = 1
    add(6, 5, [z, z])
    add(6, 5, [o, o])
    add(6, 5, [z, o])
    add(6, 5, [o, a])
    add(6, 5, [a, a])
    add(6, 5, [a, b])
    add(6, 5, [c, d])
    add(6, 5, [a, c, d])
    add(6, 5, [a, b, z, o])
    add(1, 1, [np.ones((1, 1)), np.zeros((1, 1))])
    add(1, 1, [np.ones((1, 1)), np.ones((1, 1))])
    while len(cases) < 42:
        h, w = int(rng.randint(1, 40)), int(rng.randint(1, 40))
        n = int(rng.randint(2, 6))
        add(h, w, [rand_mask(rng, h, w) for _ in range(n)])
    return cases


def gen_ious():
    rng = np.random.RandomState(6006)
    cases = []

    def add(h, w, dts, gts, crowd):
        dr = [maskUtils.encode(np.asfortranarray(m.astype(np.uint8))) for m in dts]
        gr = [maskUtils.encode(np.asfortranarray(m.astype(np.uint8))) for m in gts]
        iou = np.asarray(maskUtils.iou(dr, gr, crowd), dtype=np.float64).reshape(len(dts), len(gts))
        for i, dm in enumerate(dts):
            for j, gm in enumerate(gts):
                inter = int((dm.astype(bool) & gm.astype(bool)).sum())
                uni = int(dm.astype(bool).sum()) if crowd[j] else int((dm.astype(bool) | gm.astype(bool)).sum())
                ref = inter / uni if inter > 0 else 0.0
                assert iou[i, j] == ref, ("iou differs", iou[i, j], ref)
                assert math.isfinite(iou[i, j])
        cases.append({"h": h, "w": w, "dt": [s(r) for r in dr], "gt": [s(r) for r in gr],
                      "iscrowd": [int(c) for c in crowd], "iou": iou.tolist()})

    z = np.zeros((7, 9), dtype=np.uint8)
    a = np.zeros((7, 9), dtype=np.uint8); a[1:5, 1:4] = 1
    b = np.zeros((7, 9), dtype=np.uint8); b[2:7, 2:8] = 1
    c = np.zeros((7, 9), dtype=np.uint8); c[5:7, 6:9] = 1   # disjoint from a
    e = np.zeros((7, 9), dtype=np.uint8); e[1:5, 4:6] = 1   # touches a, no overlap, bboxes adjacent
    add(7, 9, [a], [a], [0])
    add(7, 9, [a], [a], [1])
    add(7, 9, [a], [c], [0])
    add(7, 9, [a], [e], [0])
    add(7, 9, [a, b], [b, a], [0, 1])
    add(7, 9, [z], [a], [0])
    add(7, 9, [a], [z], [0])
    add(7, 9, [z], [z], [0])
    add(7, 9, [z], [z], [1])
    add(7, 9, [z], [a], [1])
    add(7, 9, [a, b, c, e, z], [a, b, c], [0, 1, 0])
    add(7, 9, [b], [a, c, e], [1, 1, 1])
    while len(cases) < 42:
        h, w = int(rng.randint(1, 40)), int(rng.randint(1, 40))
        nd, ng = int(rng.randint(1, 5)), int(rng.randint(1, 5))
        dts = [rand_mask(rng, h, w) for _ in range(nd)]
        gts = [rand_mask(rng, h, w) for _ in range(ng)]
        if rng.random_sample() < 0.3:  # share a mask so some pairs are identical
            dts[0] = gts[-1].copy()
        crowd = rng.randint(0, 2, size=ng).tolist()
        add(h, w, dts, gts, crowd)
    return cases


def gen_bbox_ious():
    rng = np.random.RandomState(7007)
    cases = []

    def add(dt, gt, crowd):
        dt = [[float(v) for v in b] for b in dt]
        gt = [[float(v) for v in b] for b in gt]
        iou = np.asarray(maskUtils.iou(np.array(dt, dtype=np.float64), np.array(gt, dtype=np.float64), crowd),
                         dtype=np.float64).reshape(len(dt), len(gt))
        for i, d in enumerate(dt):  # same operation order as maskApi.c bbIou
            for j, g in enumerate(gt):
                ww = min(d[2] + d[0], g[2] + g[0]) - max(d[0], g[0])
                hh = min(d[3] + d[1], g[3] + g[1]) - max(d[1], g[1])
                ref = 0.0
                if ww > 0 and hh > 0:
                    inter = ww * hh
                    u = d[2] * d[3] if crowd[j] else d[2] * d[3] + g[2] * g[3] - inter
                    ref = inter / u
                assert iou[i, j] == ref, (iou[i, j], ref)
        cases.append({"dt": dt, "gt": gt, "iscrowd": [int(c) for c in crowd], "iou": iou.tolist()})

    add([[0, 0, 10, 10]], [[0, 0, 10, 10]], [0])
    add([[0, 0, 10, 10]], [[5, 5, 10, 10]], [0])
    add([[0, 0, 10, 10]], [[5, 5, 10, 10]], [1])
    add([[0, 0, 10, 10]], [[10, 0, 10, 10]], [0])          # touching edges
    add([[0, 0, 10, 10]], [[20, 20, 5, 5]], [0])           # disjoint
    add([[3, 3, 0, 0], [0, 0, 10, 10]], [[0, 0, 10, 10], [3, 3, 0, 5]], [0, 1])  # zero-size
    add([[0.1, 0.2, 0.3, 0.4]], [[0.15, 0.25, 0.35, 0.45]], [0])
    add([[1e5, 1e5, 1e-3, 1e-3]], [[1e5, 1e5, 2e-3, 2e-3]], [0, ])
    add([[2, 2, 4, 4]], [[0, 0, 10, 10]], [1])             # dt inside crowd gt
    add([[0, 0, 10, 10]], [[2, 2, 4, 4]], [1])             # crowd gt inside dt
    while len(cases) < 22:
        nd, ng = int(rng.randint(1, 6)), int(rng.randint(1, 6))
        r2 = len(cases) % 2 == 0

        def box():
            b = [rng.uniform(0, 100), rng.uniform(0, 100), rng.uniform(0, 60), rng.uniform(0, 60)]
            return [round(v, 2) for v in b] if r2 else b
        dt = [box() for _ in range(nd)]
        gt = [box() for _ in range(ng)]
        if rng.random_sample() < 0.5:
            dt[0] = list(gt[0])
        add(dt, gt, rng.randint(0, 2, size=ng).tolist())
    return cases


def main():
    data = {
        "generator": "testdata/golden/make_golden.py",
        "pycocotools": getattr(pycocotools, "__version__", None) or __import__("importlib.metadata").metadata.version("pycocotools"),
        "encode": gen_encode(),
        "strings": gen_strings(),
        "polygons": gen_polygons(),
        "boxes": gen_boxes(),
        "merges": gen_merges(),
        "ious": gen_ious(),
        "bbox_ious": gen_bbox_ious(),
    }
    text = json.dumps(data, separators=(",", ":"), allow_nan=False)
    # floats must round-trip exactly
    assert json.loads(text) == data
    with open(OUT, "w") as f:
        f.write(text)
        f.write("\n")
    for k, v in data.items():
        if isinstance(v, list):
            print("%-10s %4d cases" % (k, len(v)))
    print("%s: %d bytes, sha256 %s" % (OUT, len(text) + 1, hashlib.sha256((text + "\n").encode()).hexdigest()))


if __name__ == "__main__":
    main()
