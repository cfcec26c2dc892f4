#!/usr/bin/env bash
# Side-by-side edge-detection timings on the same grey pixels, single thread:
#   Annota  — AnnotaEdges (annota-edges-bench, release build)
#   OpenCV  — cv2.Canny / cv2.Sobel / cv2.GaussianBlur (baselines/pyedges.py, cv2.setNumThreads(1))
# The fixture photos are decoded by Annota and converted to grey (and, for the colour rows, RGB)
# once; that image is written as a PNG (into .fixtures/edges/) and both timers read it, so
# decoding cannot make a difference.
# Each timer does WARMUP untimed and ITERS timed calls and reports the median; the whole set runs
# ROUNDS times and each timer keeps its lowest median (robust to load bursts). Both sides print a
# checksum of their output, so the table also says whether the results are identical. Then the
# issue's target is checked: Canny on 640x480 at most 1.5x OpenCV's time.
#
#   usage: Benchmarks/compare-edges.sh            (ITERS=100 WARMUP=10 ROUNDS=3 by default)
# Needs the fixtures (Benchmarks/make-fixtures.sh) and the reference venv
# (../shared/tools/refenv.sh, for opencv-python-headless).
# Exit status: 0 even when the target is missed (this is a report, not a gate); 1 on errors.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
fixtures=${ANNOTA_FIXTURES:-$here/.fixtures}
iters=${ITERS:-100}
warmup=${WARMUP:-10}
rounds=${ROUNDS:-3}

for name in photo-640x480.jpg photo-1920x1080.jpg; do
  if [ ! -f "$fixtures/$name" ]; then
    echo "compare-edges: $fixtures/$name is missing; run Benchmarks/make-fixtures.sh first" >&2
    exit 1
  fi
done

echo "building the timer (release)..." >&2
swift build -c release --package-path "$here" --product annota-edges-bench >&2
annota="$(swift build -c release --package-path "$here" --show-bin-path)/annota-edges-bench"
python=$("$root/../shared/tools/refenv.sh" | tail -1)

mkdir -p "$fixtures/edges"
for size in 640x480 1920x1080; do
  "$annota" "$fixtures/photo-$size.jpg" --write-input "$fixtures/edges/photo-$size-gray.png"
  "$annota" "$fixtures/photo-$size.jpg" --colour --write-input "$fixtures/edges/photo-$size-rgb.png"
done

# name | size | operation arguments (the same for both timers; canny-auto is Annota only;
# --colour reads the RGB file)
cases=(
  "canny L1 50/150|640x480|--op canny --low 50 --high 150"
  "canny L2 50/150|640x480|--op canny --low 50 --high 150 --l2"
  "canny L1 100/200|640x480|--op canny --low 100 --high 200"
  "canny auto L1|640x480|--op canny-auto"
  "canny L1 50/150 RGB|640x480|--op canny --low 50 --high 150 --colour"
  "sobel gx+gy|640x480|--op sobel"
  "gaussian sigma 1.4|640x480|--op gaussian --sigma 1.4"
  "canny L1 50/150|1920x1080|--op canny --low 50 --high 150"
  "canny L2 50/150|1920x1080|--op canny --low 50 --high 150 --l2"
  "canny auto L1|1920x1080|--op canny-auto"
  "sobel gx+gy|1920x1080|--op sobel"
  "gaussian sigma 1.4|1920x1080|--op gaussian --sigma 1.4"
)

field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$2"; }
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "") print "-"; else printf "%.2f", a / b }'
}
lower() { awk -v a="$1" -v b="$2" 'BEGIN { print (b == "" || a + 0 < b + 0) ? a : b }'; }

declare -A annota_ms opencv_ms same
load_start=$(cut -d' ' -f1 /proc/loadavg)
for round in $(seq "$rounds"); do
  echo "pass $round of $rounds..." >&2
  for entry in "${cases[@]}"; do
    IFS='|' read -r name size args <<<"$entry"
    key="$name $size"
    input="$fixtures/edges/photo-$size-gray.png"
    py_args=$args
    if [[ "$args" == *--colour* ]]; then
      input="$fixtures/edges/photo-$size-rgb.png"
      py_args=${args/--colour/}  # pyedges.py takes the channels from the file
    fi
    # shellcheck disable=SC2086  # $args holds several words
    a_line=$("$annota" "$input" $args --iters "$iters" --warmup "$warmup")
    annota_ms[$key]=$(lower "$(field median_ms "$a_line")" "${annota_ms[$key]:-}")
    if [[ "$args" == *canny-auto* ]]; then
      same[$key]=$(printf '(no OpenCV equivalent; low %.2f, high %.2f)' \
        "$(field low "$a_line")" "$(field high "$a_line")")
      continue
    fi
    # shellcheck disable=SC2086
    o_line=$("$python" "$here/baselines/pyedges.py" "$input" $py_args --iters "$iters" \
      --warmup "$warmup")
    opencv_ms[$key]=$(lower "$(field median_ms "$o_line")" "${opencv_ms[$key]:-}")
    if [ "$(field checksum "$a_line")" = "$(field checksum "$o_line")" ]; then
      same[$key]=yes
    else
      same[$key]=NO
    fi
  done
done

printf '\nsingle thread, same pixels; per timer the lowest of %s pass medians (%s calls after\n' \
  "$rounds" "$iters"
printf '%s warm-up each); %s cores, load %s at start, %s at end; times in ms\n' \
  "$warmup" "$(nproc)" "$load_start" "$(cut -d' ' -f1 /proc/loadavg)"
printf '%-24s %-10s %9s %9s %13s  %s\n' case size Annota OpenCV "Annota/OpenCV" "same output"
for entry in "${cases[@]}"; do
  IFS='|' read -r name size _ <<<"$entry"
  key="$name $size"
  a=${annota_ms[$key]}
  o=${opencv_ms[$key]:-}
  printf '%-24s %-10s %9.3f %9s %13s  %s\n' "$name" "$size" "$a" "${o:--}" "$(ratio "$a" "$o")" \
    "${same[$key]}"
done

check() {  # label, value, op (le|ge), bound
  local verdict
  verdict=$(awk -v v="$2" -v op="$3" -v b="$4" 'BEGIN {
    ok = (op == "le") ? (v <= b) : (v >= b); print ok ? "ok  " : "MISS" }')
  printf '  %s %-52s %6.2f (%s %s)\n' "$verdict" "$1" "$2" \
    "$([ "$3" = le ] && echo '<=' || echo '>=')" "$4"
}

echo
echo "target:"
key="canny L1 50/150 640x480"
check "Canny 640x480: Annota / OpenCV time" \
  "$(ratio "${annota_ms[$key]}" "${opencv_ms[$key]}")" le 1.5
load_end=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load_end" -v n="$(nproc)" 'BEGIN { exit !(l > n * 0.75) }'; then
  echo "warning: load average $load_end on $(nproc) cores: other processes competed for the CPU" >&2
fi
