#!/usr/bin/env bash
# Every side-by-side script in one run, and ONE ratio table: operation, reference tool, reference
# time, Annota time, ratio (reference time / Annota time: above 1, Annota is faster).
#
#   usage: Benchmarks/compare.sh [--quick|--full] [--only decode,masks,agree,edges,classifier,dedup]
#          Benchmarks/compare.sh --table DIR     (only print the table of an earlier run's outputs)
#
#   --quick (default, a few minutes): each compare-*.sh with fewer iterations and one pass
#     (decode ITERS=10 ROUNDS=1; edges ITERS=20 ROUNDS=1; masks ITERS=3 ROUNDS=1 WHOLE_ROUNDS=1;
#     classifier REPEATS=1; dedup REPEATS=1), and the agreement pipeline on 1,000 images
#     (7,200 objects, three annotators, masks) instead of 5,000.
#   --full: each script with its own defaults (compare-masks.sh alone takes about 8 minutes).
#
# Each script's whole output goes to $OUT (default: a new folder under /tmp, printed at the
# end); a script that fails leaves its rows out and is named under the table. Needs the fixtures
# (make-fixtures.sh, run here when missing) and the reference venv (../shared/tools/refenv.sh,
# or ANNOTA_PYTHON). Times are single thread on both sides unless the row says otherwise.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
mode=quick
table_only=
only=decode,masks,agree,edges,classifier,dedup
while [ $# -gt 0 ]; do
  case $1 in
    --quick) mode=quick ;;
    --full) mode=full ;;
    --only) only=$2; shift ;;
    --table) table_only=$2; shift ;;
    -h | --help) sed -n '2,18p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "compare.sh: unknown argument '$1' (expected --quick, --full, --only LIST or --table DIR)" >&2; exit 64 ;;
  esac
  shift
done
for name in ${only//,/ }; do
  [ -x "$here/compare-$name.sh" ] || { echo "compare.sh: no script compare-$name.sh (in --only)" >&2; exit 64; }
done
if [ -n "$table_only" ]; then
  [ -d "$table_only" ] || { echo "compare.sh: --table: $table_only is not a folder" >&2; exit 64; }
  out=$table_only
  # The mode the outputs were made in (it names the agreement dataset's size).
  mode=$(cat "$out/mode" 2>/dev/null || echo quick)
else
  out=${OUT:-$(mktemp -d /tmp/annota-compare-XXXXXX)}
  mkdir -p "$out"
  echo "$mode" >"$out/mode"
fi
if [ -n "${ANNOTA_PYTHON:-}" ]; then python=$ANNOTA_PYTHON
elif [ -z "$table_only" ]; then python=$("$root/../shared/tools/refenv.sh" | tail -1); fi
[ -n "${python:-}" ] && export ANNOTA_PYTHON=$python
start=$(date +%s)
load_start=$(cut -d' ' -f1 /proc/loadavg)

if [ -z "$table_only" ] && [ ! -f "$here/.fixtures/photo-1920x1080.png" ]; then
  echo "compare.sh: writing the fixtures (make-fixtures.sh)..." >&2
  "$here/make-fixtures.sh" >&2
fi

failed=()
run() {  # name, env assignments... ; runs compare-NAME.sh with them, output in $out/NAME.txt
  local name=$1; shift
  [[ ",$only," == *",$name,"* ]] || return 0
  echo "compare.sh: compare-$name.sh ($mode)..." >&2
  local t0; t0=$(date +%s)
  if ! env "$@" "$here/compare-$name.sh" ${ARGS[$name]:-} >"$out/$name.txt" 2>"$out/$name.err"; then
    failed+=("$name (see $out/$name.err)")
  fi
  echo "compare.sh: compare-$name.sh took $(( $(date +%s) - t0 )) s" >&2
}
declare -A ARGS
if [ -n "$table_only" ]; then
  :
elif [ "$mode" = quick ]; then
  agree_work=${AGREE_WORK:-/tmp/annota-agree-bench-quick}
  if [[ ",$only," == *",agree,"* ]] && [ ! -f "$agree_work/annotator3.json" ]; then
    echo "compare.sh: generating the 1,000-image agreement dataset..." >&2
    mkdir -p "$agree_work"
    "$python" "$here/scripts/make_coco.py" "$agree_work/base" --images 1000 --objects 7200 >/dev/null
    python3 "$root/Tests/scripts/noisy_annotators.py" "$agree_work/base/coco.json" "$agree_work" >/dev/null
  fi
  run decode ITERS=10 WARMUP=2 ROUNDS=1
  run edges ITERS=20 WARMUP=3 ROUNDS=1
  run masks ITERS=3 WARMUP=1 ROUNDS=1 WHOLE_ROUNDS=1
  run agree WORK="$agree_work"
  run classifier REPEATS=1
  run dedup REPEATS=1
else
  run decode
  run edges
  run masks
  run agree
  run classifier
  run dedup
fi

# ---- one table ----
rows=()
add() {  # operation, reference, reference time, Annota time, unit, [higher-is-better]
  [ -z "$3" ] || [ -z "$4" ] || [ "$3" = - ] || [ "$4" = - ] && return 0
  local ratio
  if [ "${6:-}" = rate ]; then
    ratio=$(awk -v r="$3" -v a="$4" 'BEGIN { printf "%.2f", a / r }')
  else
    ratio=$(awk -v r="$3" -v a="$4" 'BEGIN { printf "%.2f", r / a }')
  fi
  rows+=("| $1 | $2 | $3 $5 | $4 $5 | ${ratio}x |")
}
# A fixed-width row of a script's table: the numeric fields after the first `width` characters.
cols() {  # file, label (start of the line), width
  [ -f "$1" ] || return 0
  grep -F -- "$2" "$1" | awk -v w="$3" -v label="$2" 'index($0, label) == 1 && !done { print substr($0, w + 1); done = 1 }'
}
f() { awk -v n="$1" '{ print $n }'; }

if [ -s "$out/decode.txt" ]; then
  for c in "JPEG 1080p full" "JPEG 640x480 full" "JPEG 1080p ROI 10% + 1/4" "PNG 1080p"; do
    line=$(cols "$out/decode.txt" "$c " 26)
    [ -n "$line" ] || continue
    add "decode $c" Pillow "$(f 3 <<<"$line")" "$(f 2 <<<"$line")" ms
    [ "$c" = "JPEG 1080p full" ] && add "decode $c" OpenCV "$(f 4 <<<"$line")" "$(f 2 <<<"$line")" ms
    [ "$c" = "JPEG 1080p full" ] && add "decode $c" "libjpeg-turbo called from C" "$(f 1 <<<"$line")" "$(f 2 <<<"$line")" ms
    [ "$c" = "PNG 1080p" ] && add "decode $c" "libpng called from C" "$(f 1 <<<"$line")" "$(f 2 <<<"$line")" ms
  done
fi
if [ -s "$out/edges.txt" ]; then
  while IFS='|' read -r pattern size name; do
    line=$(grep -E "^$pattern +$size " "$out/edges.txt" | head -1 | sed -E "s#^$pattern +$size +##")
    [ -n "$line" ] || continue
    add "$name $size" OpenCV "$(f 2 <<<"$line")" "$(f 1 <<<"$line")" ms
  done <<'EOF'
canny L1 50/150|640x480|Canny L1 50/150
canny L1 50/150|1920x1080|Canny L1 50/150
sobel gx\+gy|1920x1080|Sobel gx + gy
gaussian sigma 1\.4|1920x1080|Gaussian blur sigma 1.4
EOF
fi
if [ -s "$out/masks.txt" ]; then
  for op in encode-100 decode-100 polygons-1000 rle-iou-1000 box-iou-1000; do
    line=$(cols "$out/masks.txt" "$op " 20)
    [ -n "$line" ] || continue
    add "masks $op" pycocotools "$(f 1 <<<"$line")" "$(f 3 <<<"$line")" ms
    [ "$op" = rle-iou-1000 ] && add "masks $op" faster-coco-eval "$(f 2 <<<"$line")" "$(f 3 <<<"$line")" ms
  done
  for op in "dataset: masks" "dataset: iou mask"; do
    line=$(cols "$out/masks.txt" "$op " 20)
    name="annota masks"; [ "$op" = "dataset: iou mask" ] && name="annota iou --type mask"
    [ -n "$line" ] && add "\`$name\`, 5,000 images" "pycocotools loop" "$(f 1 <<<"$line")" "$(f 3 <<<"$line")" ms
  done
fi
if [ -s "$out/agree.txt" ]; then
  py=$(cols "$out/agree.txt" "Python pipeline (same computation)" 46 | f 1)
  a1=$(cols "$out/agree.txt" "annota agree, 1 thread" 46 | f 1)
  images=5,000; [ "$mode" = quick ] && images=1,000
  add "\`annota agree\` masks, 3 annotators, $images images" "Python pipeline (pycocotools, scipy, statsmodels, krippendorff, numpy)" "$py" "$a1" s
fi
if [ -s "$out/classifier.txt" ]; then
  line=$(cols "$out/classifier.txt" "fit (s)" 28)
  [ -n "$line" ] && add "classifier fit 12,000 x 128, 10 classes" "scikit-learn LogisticRegression" "$(f 1 <<<"$line")" "$(f 2 <<<"$line")" s
  line=$(cols "$out/classifier.txt" "predict 3,000 rows (ms)" 28)
  [ -n "$line" ] && add "classifier predict 3,000 rows" "scikit-learn" "$(f 1 <<<"$line")" "$(f 2 <<<"$line")" ms
  line=$(cols "$out/classifier.txt" "score 1M x 128 (rows/s)" 28)
  [ -n "$line" ] && add "classifier score 1M x 128 (rows/s, ratio Annota/reference)" "scikit-learn" "$(f 1 <<<"$line")" "$(f 2 <<<"$line")" "rows/s" rate
fi
if [ -s "$out/dedup.txt" ]; then
  for c in "decode" "hash (dhash + phash)" "decode + hash"; do
    line=$(cols "$out/dedup.txt" "$c " 34)
    # "decode" must not pick up "decode + hash".
    [ "$c" = decode ] && line=$(grep -E '^decode {20,}' "$out/dedup.txt" | head -1 | cut -c35-)
    [ -n "$line" ] && add "dedup $c, per image" "imagehash (Pillow)" "$(f 1 <<<"$line")" "$(f 2 <<<"$line")" ms
  done
fi

if [ -z "$table_only" ]; then
  echo "Annota vs reference tools ($mode mode; $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $load_start at start, $(cut -d' ' -f1 /proc/loadavg) at end; $(( $(date +%s) - start )) s)" >"$out/header"
fi
echo
cat "$out/header" 2>/dev/null || echo "Annota vs reference tools ($mode mode)"
echo "ratio = reference time / Annota time (above 1: Annota faster); one thread on both sides"
echo
echo "| operation | reference | reference time | Annota time | ratio |"
echo "|---|---|---|---|---|"
for r in "${rows[@]}"; do echo "$r"; done
echo
echo "full outputs: $out"
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed (rows left out): ${failed[*]}"
  exit 1
fi
