"""What pycocotools computes for every annotation of a COCO file (reference for the Swift engine).

usage: coco_reference.py ANN.json OUT.json

For each annotation, in the input's order: rle = COCO.annToRLE(ann); writes
  {"id", "image_id", "counts": <compressed RLE string>, "size": [h, w], "area": float, "bbox": [x, y, w, h]}
with area = maskUtils.area(rle) and bbox = maskUtils.toBbox(rle).

Polygon annotations that have an empty ring list or a ring with fewer than 6 numbers are skipped
and listed under "skipped" with the reason. pycocotools takes the whole list as boxes when the
FIRST ring has 4 numbers (pycocotools 2.0.11 then raises TypeError, since frBbox wants an ndarray);
a later 4-number ring, or a ring of 5 numbers, is rasterized as a 2-point polygon (an odd trailing
number is ignored). Neither is a polygon worth comparing, so both are skipped.
Output is compact JSON: {"annotations": [...], "skipped": [{"id", "image_id", "reason"}...]}.
"""
import contextlib
import json
import sys

import pycocotools.mask as maskUtils
from pycocotools.coco import COCO


def skip_reason(segm):
    if not isinstance(segm, list):
        return None
    if len(segm) == 0:
        return "empty polygon list"
    for i, ring in enumerate(segm):
        if len(ring) == 4:
            return "ring %d has 4 numbers (pycocotools treats it as a box)" % i
        if len(ring) < 6:
            return "ring %d has %d numbers (< 6)" % (i, len(ring))
    return None


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: coco_reference.py ANN.json OUT.json")
    src, dst = sys.argv[1], sys.argv[2]
    with contextlib.redirect_stdout(sys.stderr):  # COCO() prints progress
        coco = COCO(src)
    with open(src) as f:
        order = [a["id"] for a in json.load(f)["annotations"]]

    out, skipped = [], []
    n_poly = n_rle = 0
    for aid in order:
        ann = coco.anns[aid]
        segm = ann["segmentation"]
        reason = skip_reason(segm)
        if reason is not None:
            skipped.append({"id": ann["id"], "image_id": ann["image_id"], "reason": reason})
            continue
        if isinstance(segm, list):
            n_poly += 1
        else:
            n_rle += 1
        rle = coco.annToRLE(ann)
        counts = rle["counts"]
        if isinstance(counts, bytes):
            counts = counts.decode("ascii")
        out.append({
            "id": ann["id"],
            "image_id": ann["image_id"],
            "counts": counts,
            "size": [int(v) for v in rle["size"]],
            "area": float(maskUtils.area(rle)),
            "bbox": [float(v) for v in maskUtils.toBbox(rle).tolist()],
        })

    with open(dst, "w") as f:
        json.dump({"annotations": out, "skipped": skipped}, f, separators=(",", ":"), allow_nan=False)
        f.write("\n")
    print("%d annotations: %d written (%d polygon, %d RLE), %d skipped -> %s"
          % (len(order), len(out), n_poly, n_rle, len(skipped), dst))


if __name__ == "__main__":
    main()
