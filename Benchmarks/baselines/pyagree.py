"""The agreement pipeline of `annota agree`, written the usual way in Python (the reference
for the side-by-side benchmark): pycocotools IoU, scipy's Hungarian assignment, greedy
clustering, statsmodels' Fleiss kappa and the krippendorff package.

usage: pyagree.py TYPE(box|mask) T OUT.json A.json B.json [C.json ...]
"""
import contextlib
import io
import json
import sys
import time
from collections import defaultdict

import numpy as np
import pycocotools.mask as mu
from pycocotools.coco import COCO
from scipy.optimize import linear_sum_assignment

kind, thr, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
files = sorted(sys.argv[4:])
t0 = time.time()
with contextlib.redirect_stdout(io.StringIO()):
    cocos = [COCO(f) for f in files]
n = len(files)
image_ids = sorted(set().union(*[set(c.getImgIds()) for c in cocos]))
clusters_out, fleiss_rows, alpha_units, ious = [], [], [], []
for img in image_ids:
    objs = [c.loadAnns(c.getAnnIds(imgIds=[img])) for c in cocos]
    if kind == "mask":
        shapes = [[c.annToRLE(a) for a in o] for c, o in zip(cocos, objs)]
    else:
        shapes = [np.array([a["bbox"] for a in o], dtype=float).reshape(-1, 4) for o in objs]
    links = []
    sims = {}
    for a in range(n):
        for b in range(a + 1, n):
            if len(objs[a]) == 0 or len(objs[b]) == 0:
                continue
            m = mu.iou(shapes[a], shapes[b], [0] * len(objs[b]))
            sims[(a, b)] = m
            r, c = linear_sum_assignment(1 - m)
            for i, j in zip(r, c):
                if m[i, j] >= thr:
                    links.append((-m[i, j], a, i, b, j))
                    ious.append(m[i, j])
    links.sort()
    parent, members = {}, {}
    for a in range(n):
        for i in range(len(objs[a])):
            parent[(a, i)] = (a, i)
            members[(a, i)] = {a}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for _, a, i, b, j in links:
        ra, rb = find((a, i)), find((b, j))
        if ra == rb or members[ra] & members[rb]:
            continue
        parent[rb] = ra
        members[ra] |= members[rb]
    groups = defaultdict(list)
    for key in parent:
        groups[find(key)].append(key)
    for g in groups.values():
        labels = {a: objs[a][i]["category_id"] for a, i in g}
        if len(g) == n:
            fleiss_rows.append([labels[a] for a in range(n)])
        if len(g) >= 2:
            alpha_units.append([labels.get(a) for a in range(n)])
        votes = defaultdict(int)
        for l in labels.values():
            votes[l] += 1
        label = max(votes.items(), key=lambda kv: (kv[1], -kv[0]))[0]
        agree = [m for m in g if labels[m[0]] == label]
        tier = "accept" if len(agree) == n and all(
            sims[(min(x[0], y[0]), max(x[0], y[0]))][(x if x[0] < y[0] else y)[1], (y if x[0] < y[0] else x)[1]] >= thr
            for x in agree for y in agree if x[0] < y[0]) else ("review" if 2 * len(agree) > n else "escalate")
        clusters_out.append({"image_id": img, "members": {files[a]: objs[a][i]["id"] for a, i in g}, "tier": tier})

from statsmodels.stats.inter_rater import fleiss_kappa
import krippendorff

cats = sorted({l for r in fleiss_rows for l in r} | {l for u in alpha_units for l in u if l is not None})
idx = {c: k for k, c in enumerate(cats)}
table = np.zeros((len(fleiss_rows), len(cats)), dtype=int)
for r, row in enumerate(fleiss_rows):
    for l in row:
        table[r, idx[l]] += 1
kappa = fleiss_kappa(table) if len(fleiss_rows) else None
data = np.array([[np.nan if u[a] is None else idx[u[a]] for u in alpha_units] for a in range(n)], dtype=float)
alpha = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal") if alpha_units else None
json.dump({"clusters": clusters_out, "meanIoU": float(np.mean(ious)) if ious else None,
           "fleissKappa": kappa, "krippendorffAlpha": alpha}, open(out, "w"))
print(f"python agreement pipeline: {time.time() - t0:.2f} s, {len(clusters_out)} clusters, kappa {kappa}, alpha {alpha}")
