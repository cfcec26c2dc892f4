"""Recomputes an `annota agree` report's label statistics with the reference packages.

usage: agreement_reference.py REPORT.json  -> prints JSON {"fleissKappa", "krippendorffAlpha", "cohenKappa"}

Uses the report's own clusters (objects[].labels): Fleiss' kappa (statsmodels) over clusters
labelled by every annotator, Krippendorff's alpha (krippendorff, nominal) over clusters with at
least two labels (missing allowed), Cohen's kappa (scikit-learn) for two annotators.
"""
import json
import math
import sys

import numpy as np

report = json.load(open(sys.argv[1]))
files = report["settings"]["files"]
rows = [[o["labels"][f] for f in files] for o in report["objects"]]
cats = sorted({l for r in rows for l in r if l is not None})
index = {c: i for i, c in enumerate(cats)}
out = {}

from statsmodels.stats.inter_rater import fleiss_kappa

full = [r for r in rows if all(l is not None for l in r)]
table = np.zeros((len(full), len(cats)), dtype=int)
for i, r in enumerate(full):
    for l in r:
        table[i, index[l]] += 1
k = fleiss_kappa(table, method="fleiss") if len(full) else float("nan")
out["fleissKappa"] = None if math.isnan(k) else k

import krippendorff

units = [r for r in rows if sum(l is not None for l in r) >= 2]
data = np.array([[np.nan if r[a] is None else index[r[a]] for r in units] for a in range(len(files))], dtype=float)
out["krippendorffAlpha"] = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal") if units else None

if len(files) == 2:
    from sklearn.metrics import cohen_kappa_score

    pairs = [r for r in rows if r[0] is not None and r[1] is not None]
    out["cohenKappa"] = cohen_kappa_score([p[0] for p in pairs], [p[1] for p in pairs]) if pairs else None
print(json.dumps(out))
