#!/usr/bin/env bash
# Side by side: `annota agree` against the same pipeline in Python (pycocotools IoU, scipy's
# Hungarian, greedy clustering, statsmodels Fleiss, krippendorff), on three noisy annotator copies
# of a COCO-sized synthetic dataset (5,000 images, 36,000 objects). Prints times, peak memory and
# the ratio, and checks that both found the same clusters and statistics.
#   Benchmarks/compare-agree.sh [box|mask]     (default mask)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
kind=${1:-mask}
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
read -r py_s py_kb < <(measure "$py" Benchmarks/baselines/pyagree.py "$kind" 0.5 "$work/py.json" "${files[@]}")
read -r a1_s a1_kb < <(measure .build/release/annota agree "${files[@]}" --type "$kind" --out "$work/c.json" --report "$work/r1.json" --quiet --threads 1)
read -r a2_s a2_kb < <(measure .build/release/annota agree "${files[@]}" --type "$kind" --out "$work/c.json" --report "$work/r2.json" --quiet --threads 2)
printf '%-34s %10s %12s\n' "three annotators, --type $kind" "seconds" "peak MiB"
printf '%-34s %10.2f %12.0f\n' "Python pipeline" "$py_s" "$((py_kb / 1024))"
printf '%-34s %10.2f %12.0f\n' "annota agree, 1 thread" "$a1_s" "$((a1_kb / 1024))"
printf '%-34s %10.2f %12.0f\n' "annota agree, 2 threads" "$a2_s" "$((a2_kb / 1024))"
"$py" - "$work/py.json" "$work/r1.json" "$py_s" "$a1_s" "$a2_s" <<'PY'
import json, sys
p, r = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
d = r["dataset"]
py_s, a1, a2 = map(float, sys.argv[3:6])
print(f"speed-up 1 thread {py_s / a1:.1f}x, 2 threads {py_s / a2:.1f}x (target >= 20x on one core: {'ok' if py_s / a1 >= 20 else 'MISS'})")
print(f"clusters: python {len(p['clusters'])}, annota {d['objects']}")
for k in ["fleissKappa", "krippendorffAlpha", "meanIoU"]:
    print(f"{k}: python {p[k]!r}, annota {d[k]!r}, |diff| {abs(p[k] - d[k]):.1e}")
PY
