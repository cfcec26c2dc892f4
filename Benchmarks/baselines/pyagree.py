"""The agreement pipeline of `annota agree`, written the usual way in Python (the reference
for the side-by-side benchmark): pycocotools IoU and merges, scipy's Hungarian assignment,
greedy clustering, statsmodels' Fleiss kappa, the krippendorff package, numpy for the bootstrap.

usage: pyagree.py TYPE(box|mask) T OUT_DIR A.json B.json [C.json ...] [--minimal]

Full (default): what `annota agree --out C.json --report R.json` computes with its defaults.
  - per image: IoU matrices per annotator pair, Hungarian matching, clusters (links by
    decreasing IoU, at most one object per annotator), the decision (majority label, members
    with a low overlap dropped, accept / review / escalate);
  - the consensus shape: masks by strict pixel majority of the agreeing members (all members
    when escalated), as the union of the intersections of every majority-sized subset
    (pycocotools merges); boxes by coordinate mean;
  - each member's IoU with the consensus, per-annotator missed / extra / label counts;
  - Fleiss kappa and Krippendorff's alpha (the packages), mean IoU and Dice, and 1,000
    bootstrap resamples over images for their 95% intervals (numpy, on per-image sufficient
    statistics);
  - OUT_DIR/consensus.json (COCO, with RLE strings) and OUT_DIR/report.json.
--minimal: only matching, clusters, tiers, kappa, alpha and mean IoU (no consensus shapes, no
  bootstrap, no consensus file), the subset earlier benchmarks timed.
"""
import contextlib
import io
import itertools
import json
import os
import sys
import time
from collections import defaultdict

import numpy as np
import pycocotools.mask as mu
from pycocotools.coco import COCO
from scipy.optimize import linear_sum_assignment

args = [a for a in sys.argv[1:] if a != "--minimal"]
minimal = "--minimal" in sys.argv
kind, thr, out_dir = args[0], float(args[1]), args[2]
user_files = args[3:]
files = sorted(user_files)
os.makedirs(out_dir, exist_ok=True)
t0 = time.time()
with contextlib.redirect_stdout(io.StringIO()):
    cocos = [COCO(f) for f in files]
n = len(files)
names = [os.path.basename(f) for f in files]
image_ids = sorted(set().union(*[set(c.getImgIds()) for c in cocos]))
clusters_out, fleiss_rows, alpha_units, ious, dices = [], [], [], [], []
consensus_anns, image_stats = [], []
present, missed, extra, label_dis = [0] * n, [0] * n, [0] * n, [0] * n
cons_iou_sum, cons_iou_n = [0.0] * n, [0] * n
tiers = {"accept": 0, "review": 0, "escalate": 0}


def vote(rles):
    """Strict pixel majority: the union of the intersections of every majority-sized subset."""
    need = len(rles) // 2 + 1
    if len(rles) == 1:
        return rles[0]
    parts = [mu.merge(list(c), intersect=True) for c in itertools.combinations(rles, need)]
    return parts[0] if len(parts) == 1 else mu.merge(parts, intersect=False)


for img in image_ids:
    objs = [c.loadAnns(c.getAnnIds(imgIds=[img])) for c in cocos]
    if kind == "mask":
        shapes = [[c.annToRLE(a) for a in o] for c, o in zip(cocos, objs)]
    else:
        shapes = [np.array([a["bbox"] for a in o], dtype=float).reshape(-1, 4) for o in objs]
    links = []
    sims = {}
    img_iou, img_dice, img_pairs = 0.0, 0.0, 0
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
                    if not minimal:
                        d = 2.0 * m[i, j] / (1.0 + m[i, j])  # Dice from IoU: 2|A∩B|/(|A|+|B|)
                        dices.append(d)
                        img_iou += m[i, j]
                        img_dice += d
                        img_pairs += 1
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

    def sim(x, y):
        if x[0] > y[0]:
            x, y = y, x
        return float(sims[(x[0], y[0])][x[1], y[1]]) if (x[0], y[0]) in sims else 0.0

    img_fleiss, img_alpha = [], []
    for g in sorted(groups.values()):
        labels = {a: objs[a][i]["category_id"] for a, i in g}
        if len(g) == n:
            fleiss_rows.append([labels[a] for a in range(n)])
            img_fleiss.append([labels[a] for a in range(n)])
        if len(g) >= 2:
            alpha_units.append([labels.get(a) for a in range(n)])
            img_alpha.append([labels[a] for a in sorted(labels)])
        votes = defaultdict(int)
        for l in labels.values():
            votes[l] += 1
        label = max(votes.items(), key=lambda kv: (kv[1], -kv[0]))[0]
        agree = sorted(m for m in g if labels[m[0]] == label)
        low = []
        if not minimal:
            # Members whose overlap with the others is too low leave the agreeing set, worst first.
            while len(agree) > 1 and min(sim(x, y) for x, y in itertools.combinations(agree, 2)) < thr:
                means = [(sum(sim(x, y) for y in agree if y != x) / (len(agree) - 1), -x[0], k)
                         for k, x in enumerate(agree)]
                low.append(agree.pop(min(means)[2]))
            tier = "accept" if len(agree) == n else ("review" if 2 * len(agree) > n else "escalate")
        else:
            tier = "accept" if len(agree) == n and all(
                sim(x, y) >= thr for x in agree for y in agree if x[0] < y[0]) else (
                "review" if 2 * len(agree) > n else "escalate")
        member_ids = {names[a]: objs[a][i]["id"] for a, i in g}
        cluster = {"image_id": img, "members": member_ids, "tier": tier}
        clusters_out.append(cluster)
        if minimal:
            continue
        tiers[tier] += 1
        score = sum(sim(x, y) for x, y in itertools.combinations(sorted(g), 2)) / max(1, n * (n - 1) // 2)
        voters = sorted(g) if tier == "escalate" else agree
        if kind == "mask":
            fused = vote([shapes[a][i] for a, i in voters])
            mem_iou = {a: float(mu.iou([shapes[a][i]], [fused], [0])[0][0]) for a, i in g}
            seg = {"size": fused["size"], "counts": fused["counts"].decode()}
            area, bbox = float(mu.area(fused)), mu.toBbox(fused).tolist()
        else:
            fused_box = np.mean([shapes[a][i] for a, i in voters], axis=0)
            mem_iou = {a: float(mu.iou([shapes[a][i]], [fused_box], [0])[0][0]) for a, i in g}
            seg, area, bbox = None, float(fused_box[2] * fused_box[3]), fused_box.tolist()
        for a in range(n):
            here = a in labels
            present[a] += here
            if tier != "escalate":
                missed[a] += not here
                label_dis[a] += here and labels[a] != label
                if here:
                    cons_iou_sum[a] += mem_iou[a]
                    cons_iou_n[a] += 1
            elif here and 2 * len(g) <= n:
                extra[a] += 1
        reasons = [{"annotator": names[a], "reason": "missing"} for a in range(n) if a not in labels]
        reasons += [{"annotator": names[x[0]], "reason": "lowOverlap"} for x in low]
        reasons += [{"annotator": names[a], "reason": "label"} for a in labels
                    if labels[a] != label and (a, dict(g).get(a)) not in low]
        ann = {"id": len(consensus_anns) + 1, "image_id": img, "category_id": label}
        if seg is not None:
            ann["segmentation"] = seg
        ann.update({"area": area, "bbox": bbox, "iscrowd": 0, "tier": tier, "score": score,
                    "members": member_ids})
        consensus_anns.append(ann)
        cluster.update({"labels": {names[a]: labels.get(a) for a in range(n)}, "label": label,
                        "score": score, "reasons": sorted(reasons, key=lambda r: r["annotator"])})
    image_stats.append((img_iou, img_dice, img_pairs, img_fleiss, img_alpha))

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
result = {"clusters": clusters_out, "meanIoU": float(np.mean(ious)) if ious else None,
          "fleissKappa": kappa, "krippendorffAlpha": alpha}

if not minimal:
    # Bootstrap over images on per-image sufficient statistics: IoU / Dice sums and pair counts,
    # Fleiss (sum of P_i, subjects, label totals), alpha (pairable values, coincidence diagonal,
    # label totals).
    L = len(cats)
    I = len(image_stats)
    scal = np.zeros((I, 7))
    ftot = np.zeros((I, L))
    atot = np.zeros((I, L))
    for k, (s_iou, s_dice, s_pairs, fl, al) in enumerate(image_stats):
        p_sum = 0.0
        for row in fl:
            counts = np.bincount([idx[l] for l in row], minlength=L)
            p_sum += (np.sum(counts * counts) - n) / (n * (n - 1))
            ftot[k] += counts
        a_n, a_diag = 0.0, 0.0
        for unit in al:
            counts = np.bincount([idx[l] for l in unit], minlength=L).astype(float)
            m = float(len(unit))
            a_n += m
            a_diag += np.sum(counts * (counts - 1)) / (m - 1)
            atot[k] += counts
        scal[k] = [s_iou, s_dice, s_pairs, p_sum, len(fl), a_n, a_diag]
    rng = np.random.default_rng(0)
    weights = np.stack([np.bincount(rng.integers(0, I, I), minlength=I) for _ in range(1000)]).astype(float)
    S, F, A = weights @ scal, weights @ ftot, weights @ atot
    with np.errstate(divide="ignore", invalid="ignore"):
        b_iou, b_dice = S[:, 0] / S[:, 2], S[:, 1] / S[:, 2]
        pe = np.sum((F / (S[:, 4:5] * n)) ** 2, axis=1)
        b_kappa = (S[:, 3] / S[:, 4] - pe) / (1 - pe)
        b_alpha = 1 - (S[:, 5] - 1) * (S[:, 5] - S[:, 6]) / (S[:, 5] ** 2 - np.sum(A * A, axis=1))
    ci = {k: [float(np.quantile(v, 0.025)), float(np.quantile(v, 0.975))]
          for k, v in [("meanIoU", b_iou), ("meanDice", b_dice), ("fleissKappa", b_kappa),
                       ("krippendorffAlpha", b_alpha)]}
    result["meanDice"] = float(np.mean(dices)) if dices else None
    result["confidence95"] = ci
    result["tiers"] = tiers
    first = cocos[0].dataset
    consensus = {"info": {"description": "python agreement consensus", "sources": files},
                 "licenses": first.get("licenses", []), "images": first["images"],
                 "categories": first["categories"], "annotations": consensus_anns}
    with open(os.path.join(out_dir, "consensus.json"), "w") as f:
        json.dump(consensus, f)
    result["annotators"] = [{"file": names[a], "objects": present[a], "missed": missed[a], "extra": extra[a],
                             "labelDisagreements": label_dis[a],
                             "meanIoUWithConsensus": cons_iou_sum[a] / cons_iou_n[a] if cons_iou_n[a] else None}
                            for a in range(n)]
with open(os.path.join(out_dir, "report.json"), "w") as f:
    json.dump(result, f)
print(f"python agreement pipeline ({'minimal' if minimal else 'full'}): {time.time() - t0:.2f} s, "
      f"{len(clusters_out)} clusters, kappa {kappa}, alpha {alpha}")
