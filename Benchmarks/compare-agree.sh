#!/usr/bin/env bash
# Side by side: `annota agree` against the same pipeline in Python (pycocotools IoU and merges,
# scipy's Hungarian, greedy clustering, statsmodels Fleiss, krippendorff, numpy bootstrap), on
# three noisy annotator copies of a COCO-sized synthetic dataset (5,000 images, 36,000 objects).
#
# Rows: the Python pipeline doing what `annota agree` does by default (consensus shapes by pixel
# majority, IoU with the consensus, 1,000 bootstrap resamples, consensus COCO file and report),
# the older "minimal" Python subset (matching, clusters, tiers, kappa, alpha only) for reference,
# and annota with 1 and 2 threads. Each is a whole process under /usr/bin/time (wall clock and
# peak RSS), ROUNDS times, the fastest kept. Then the outputs are cross-checked: same clusters
# and tiers, kappa / alpha / mean IoU / mean Dice, and every consensus mask's RLE string
# identical to pycocotools' merges.
#   Benchmarks/compare-agree.sh [box|mask]     (default mask; ROUNDS=1 by default)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
kind=${1:-mask}
rounds=${ROUNDS:-1}
py=$(../shared/tools/refenv.sh | tail -1)
work=${WORK:-/tmp/annota-agree-bench}
mkdir -p "$work"
if [ ! -f "$work/annotator3.json" ]; then
  "$py" Benchmarks/scripts/make_coco.py "$work/base" >/dev/null
  python3 Tests/scripts/noisy_annotators.py "$work/base/coco.json" "$work"
fi
swift build -c release --product annota >/dev/null
files=("$work/annotator1.json" "$work/annotator2.json" "$work/annotator3.json")
measure() { /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1; }
best() {  # best of $rounds: prints "seconds KiB"
  local s="" kb="" line
  for _ in $(seq "$rounds"); do
    line=$(measure "$@")
    if [ -z "$s" ] || awk -v a="${line% *}" -v b="$s" 'BEGIN { exit !(a < b) }'; then s=${line% *}; kb=${line#* }; fi
  done
  echo "$s $kb"
}
read -r py_s py_kb < <(best "$py" Benchmarks/baselines/pyagree.py "$kind" 0.5 "$work/py" "${files[@]}")
read -r pm_s pm_kb < <(best "$py" Benchmarks/baselines/pyagree.py "$kind" 0.5 "$work/py-minimal" "${files[@]}" --minimal)
read -r a1_s a1_kb < <(best .build/release/annota agree "${files[@]}" --type "$kind" --out "$work/c1.json" --report "$work/r1.json" --quiet --threads 1)
read -r a2_s a2_kb < <(best .build/release/annota agree "${files[@]}" --type "$kind" --out "$work/c2.json" --report "$work/r2.json" --quiet --threads 2)
printf '%-46s %10s %12s\n' "three annotators, --type $kind" "seconds" "peak MiB"
printf '%-46s %10.2f %12.0f\n' "Python pipeline (same computation)" "$py_s" "$((py_kb / 1024))"
printf '%-46s %10.2f %12.0f\n' "Python, minimal subset (no fusion, no CIs)" "$pm_s" "$((pm_kb / 1024))"
printf '%-46s %10.2f %12.0f\n' "annota agree, 1 thread" "$a1_s" "$((a1_kb / 1024))"
printf '%-46s %10.2f %12.0f\n' "annota agree, 2 threads" "$a2_s" "$((a2_kb / 1024))"
"$py" - "$work" "$py_s" "$pm_s" "$a1_s" "$a2_s" "$kind" <<'PY'
import json, os, sys
work = sys.argv[1]
py_s, pm_s, a1, a2 = map(float, sys.argv[2:6])
kind = sys.argv[6]
p = json.load(open(os.path.join(work, "py", "report.json")))
r = json.load(open(os.path.join(work, "r1.json")))
d = r["dataset"]
print(f"speed-up, same computation: 1 thread {py_s / a1:.1f}x, 2 threads {py_s / a2:.1f}x "
      f"(target >= 20x on one core: {'ok' if py_s / a1 >= 20 else 'MISS'})")
print(f"speed-up over the minimal Python subset: 1 thread {pm_s / a1:.1f}x")
ok = True
print(f"clusters: python {len(p['clusters'])}, annota {d['objects']}")
ok &= len(p["clusters"]) == d["objects"]
for k in ["fleissKappa", "krippendorffAlpha", "meanIoU", "meanDice"]:
    diff = abs(p[k] - d[k])
    print(f"{k}: python {p[k]!r}, annota {d[k]!r}, |diff| {diff:.1e}")
    ok &= diff < 1e-9
print(f"tiers: python {p['tiers']}, annota {d['tiers']}")
ok &= p["tiers"] == d["tiers"]
for k in ["meanIoU", "fleissKappa", "krippendorffAlpha"]:
    print(f"95% interval {k}: python {[round(v, 4) for v in p['confidence95'][k]]}, "
          f"annota {[round(v, 4) for v in d['confidence95'][k]]} (different resamples)")
def key(members):
    return tuple(sorted((os.path.basename(f), v) for f, v in members.items() if v is not None))
if kind == "mask":
    pc = json.load(open(os.path.join(work, "py", "consensus.json")))["annotations"]
    ac = json.load(open(os.path.join(work, "c1.json")))["annotations"]
    a_by = {key(a["members"]): a for a in ac}
    same = sum(1 for a in pc if key(a["members"]) in a_by
               and a_by[key(a["members"])]["segmentation"]["counts"] == a["segmentation"]["counts"]
               and a_by[key(a["members"])]["category_id"] == a["category_id"])
    print(f"consensus masks identical to pycocotools' merges (RLE string and label): {same} of {len(pc)}")
    ok &= same == len(pc) == len(ac)
same_threads = open(os.path.join(work, "c1.json"), "rb").read() == open(os.path.join(work, "c2.json"), "rb").read()
print(f"consensus file identical at 1 and 2 threads: {same_threads}")
ok &= same_threads
print("cross-check:", "ok" if ok else "MISMATCH")
sys.exit(0 if ok else 1)
PY
