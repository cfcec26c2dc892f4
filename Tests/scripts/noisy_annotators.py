"""Writes noisy "annotator" copies of a COCO file (deterministic), to exercise `annota agree`.

usage: noisy_annotators.py ANN.json OUT_DIR [--seed 0]
Three copies with increasing noise: boxes and polygon vertices jittered, some objects dropped,
some relabelled. Standard library only.
"""
import copy
import json
import os
import random
import sys

src, out = sys.argv[1], sys.argv[2]
seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 0
random.seed(seed)
d = json.load(open(src))
cats = [c["id"] for c in d["categories"]]
os.makedirs(out, exist_ok=True)
for k, (jit, drop, relabel) in enumerate([(0.02, 0.03, 0.03), (0.04, 0.05, 0.05), (0.08, 0.10, 0.08)]):
    e = copy.deepcopy(d)
    anns = []
    for a in e["annotations"]:
        if random.random() < drop:
            continue
        x, y, w, h = a["bbox"]
        a["bbox"] = [x + random.gauss(0, jit * w), y + random.gauss(0, jit * h),
                     max(1.0, w * (1 + random.gauss(0, jit))), max(1.0, h * (1 + random.gauss(0, jit)))]
        if a["iscrowd"] == 0:
            a["segmentation"] = [[v + random.gauss(0, jit * max(w, h) * 0.3) for v in ring] for ring in a["segmentation"]]
        if random.random() < relabel:
            a["category_id"] = random.choice(cats)
        anns.append(a)
    e["annotations"] = anns
    with open(os.path.join(out, f"annotator{k + 1}.json"), "w") as f:
        json.dump(e, f)
