"""SimpleITK's label voting and STAPLE on random binary masks (reference for Annota's fusion).

usage: voting_reference.py OUT.json [--cases 20] [--seed 0]
Each case: h, w, the raters' masks as column-major '0'/'1' strings, SimpleITK's LabelVoting result
(ties -> background) and its STAPLE probability map thresholded at 0.5, both column-major.
"""
import json
import sys

import numpy as np
import SimpleITK as sitk

out = sys.argv[1]
cases = int(sys.argv[sys.argv.index("--cases") + 1]) if "--cases" in sys.argv else 20
seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 0
rng = np.random.default_rng(seed)
result = []
for c in range(cases):
    h, w = int(rng.integers(20, 60)), int(rng.integers(20, 60))
    yy, xx = np.mgrid[0:h, 0:w]
    cy, cx, r = rng.uniform(0.3 * h, 0.7 * h), rng.uniform(0.3 * w, 0.7 * w), rng.uniform(5, min(h, w) / 3)
    truth = ((yy - cy) ** 2 + (xx - cx) ** 2 < r * r).astype(np.uint8)
    k = int(rng.integers(2, 6))
    raters = []
    for _ in range(k):
        flip = rng.uniform(0.0, 0.08)
        m = truth.copy()
        # Boundary-biased noise: flip pixels near the edge more often.
        noise = rng.uniform(0, 1, truth.shape) < flip
        m[noise] = 1 - m[noise]
        raters.append(m)
    images = [sitk.GetImageFromArray(m) for m in raters]
    voting = sitk.LabelVoting(images, 2)  # undecided label 2 for ties
    vote = (sitk.GetArrayFromImage(voting) == 1).astype(np.uint8)
    staple = sitk.STAPLE(images, 1.0)
    prob = sitk.GetArrayFromImage(staple)
    colmajor = lambda a: "".join(str(int(v)) for v in a.T.reshape(-1))
    result.append({"h": h, "w": w, "raters": [colmajor(m) for m in raters], "vote": colmajor(vote),
                   "staple": colmajor((prob >= 0.5).astype(np.uint8))})
json.dump({"cases": result}, open(out, "w"))
