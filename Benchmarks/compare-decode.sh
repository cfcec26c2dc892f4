#!/usr/bin/env bash
# Side-by-side decode timings on the same fixture files, single thread, bytes already in memory:
#   raw C   — libjpeg-turbo / libpng called directly (baselines/rawdecode.c, the floor)
#   Annota  — ImageDecoder.decode (annota-decode-bench, release build)
#   Pillow  — Image.open(BytesIO(b)).load(), draft() for DCT scaling
#   OpenCV  — cv2.imdecode, IMREAD_REDUCED_COLOR_2/4/8 for DCT scaling, cv2.setNumThreads(1)
# Each timer does WARMUP untimed and ITERS timed decodes and reports the median; the whole set runs
# ROUNDS times and each timer keeps its lowest median (robust to load bursts). Then the issue's
# targets are checked: full JPEG within 5% of raw libjpeg-turbo and >= 1.25x Pillow's speed; a 10%
# centred region >= 2x faster than a full decode, region + 1/4 >= 3x; PNG within 5% of raw libpng.
#
#   usage: Benchmarks/compare-decode.sh            (ITERS=50 WARMUP=5 ROUNDS=3 by default)
# Needs the fixtures (Benchmarks/make-fixtures.sh), cc, pkg-config, libjpeg-dev and libpng-dev.
# Exit status: 0 even when a target is missed (this is a report, not a gate); 1 on errors.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
fixtures=${ANNOTA_FIXTURES:-$here/.fixtures}
iters=${ITERS:-50}
warmup=${WARMUP:-5}
rounds=${ROUNDS:-3}

for name in photo-640x480.jpg photo-640x480.png photo-1920x1080.jpg photo-1920x1080.png; do
  if [ ! -f "$fixtures/$name" ]; then
    echo "compare-decode: $fixtures/$name is missing; run Benchmarks/make-fixtures.sh first" >&2
    exit 1
  fi
done

echo "building the timers..." >&2
mkdir -p "$here/.build"
raw="$here/.build/rawdecode"
# shellcheck disable=SC2046  # pkg-config output must split into words
cc -O2 -Wall -Wextra -o "$raw" "$here/baselines/rawdecode.c" $(pkg-config --cflags --libs libjpeg libpng)
swift build -c release --package-path "$here" --product annota-decode-bench >&2
annota="$(swift build -c release --package-path "$here" --show-bin-path)/annota-decode-bench"
python=$("$root/../shared/tools/refenv.sh" | tail -1)

# A centred box covering 10% of the area, in full-resolution pixels: "x,y,w,h".
roi() {
  awk -v W="$1" -v H="$2" 'BEGIN {
    s = sqrt(0.1); w = int(W * s + 0.5); h = int(H * s + 0.5)
    printf "%d,%d,%d,%d", int((W - w) / 2), int((H - h) / 2), w, h }'
}
roi_large=$(roi 1920 1080)
roi_small=$(roi 640 480)

# name | file | timer arguments
cases=(
  "JPEG 1080p full|photo-1920x1080.jpg|"
  "JPEG 1080p ROI 10%|photo-1920x1080.jpg|--region $roi_large"
  "JPEG 1080p ROI 10% + 1/4|photo-1920x1080.jpg|--region $roi_large --scale 4"
  "JPEG 1080p 1/2|photo-1920x1080.jpg|--scale 2"
  "JPEG 1080p 1/4|photo-1920x1080.jpg|--scale 4"
  "JPEG 1080p 1/8|photo-1920x1080.jpg|--scale 8"
  "JPEG 640x480 full|photo-640x480.jpg|"
  "JPEG 640x480 ROI 10%|photo-640x480.jpg|--region $roi_small"
  "PNG 1080p|photo-1920x1080.png|"
  "PNG 640x480|photo-640x480.png|"
)

field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

lower() { awk -v a="$1" -v b="$2" 'BEGIN { print (b == "" || a + 0 < b + 0) ? a : b }'; }

# ROUNDS passes over all cases, each timer once per case per pass; a timer's result is the lowest
# of its per-pass medians, so that a burst of load from other processes on a shared machine
# spoils one pass, not the comparison.
declare -A raw_ms annota_ms pillow_ms opencv_ms same_pixels
for round in $(seq "$rounds"); do
  echo "pass $round of $rounds..." >&2
  for entry in "${cases[@]}"; do
    IFS='|' read -r name file args <<<"$entry"
    path="$fixtures/$file"
    # shellcheck disable=SC2086  # $args holds several words
    {
      c_line=$("$raw" "$path" $args --iters "$iters" --warmup "$warmup")
      a_line=$("$annota" "$path" $args --iters "$iters" --warmup "$warmup")
      py_lines=$("$python" "$here/baselines/pydecode.py" "$path" $args --iters "$iters" --warmup "$warmup")
    }
    p_line=$(grep '^pillow' <<<"$py_lines")
    o_line=$(grep '^opencv' <<<"$py_lines")
    raw_ms[$name]=$(lower "$(field median_ms "$c_line")" "${raw_ms[$name]:-}")
    annota_ms[$name]=$(lower "$(field median_ms "$a_line")" "${annota_ms[$name]:-}")
    pillow_ms[$name]=$(lower "$(field median_ms "$p_line")" "${pillow_ms[$name]:-}")
    opencv_ms[$name]=$(lower "$(field median_ms "$o_line")" "${opencv_ms[$name]:-}")
    same=""
    a_sum=$(field checksum "$a_line")
    [ "$(field checksum "$c_line")" = "$a_sum" ] && same+="C "
    [ "$(field checksum "$p_line")" = "$a_sum" ] && same+="Pillow "
    [ "$(field checksum "$o_line")" = "$a_sum" ] && same+="OpenCV "
    note=$(field note "$p_line")
    [ -n "$note" ] && same+="(Pillow/OpenCV: $note)"
    same_pixels[$name]=$same
  done
done

printf '\nsingle thread, bytes in memory; per timer the lowest of %s pass medians (%s decodes after %s\n' \
  "$rounds" "$iters" "$warmup"
printf 'warm-up each); %s cores, load %s; times in ms\n' "$(nproc)" "$(cut -d' ' -f1 /proc/loadavg)"
printf '%-26s %8s %8s %8s %8s %9s %14s  %s\n' case "raw C" Annota Pillow OpenCV \
  "Annota/C" "Pillow/Annota" "same pixels as Annota"
for entry in "${cases[@]}"; do
  IFS='|' read -r name _ _ <<<"$entry"
  c=${raw_ms[$name]}; a=${annota_ms[$name]}; p=${pillow_ms[$name]}; o=${opencv_ms[$name]}
  printf '%-26s %8.2f %8.2f %8.2f %8.2f %9s %14s  %s\n' "$name" "$c" "$a" "$p" "$o" \
    "$(ratio "$a" "$c")" "$(ratio "$p" "$a")" "${same_pixels[$name]}"
done

check() {  # label, value, op (le|ge), bound
  local verdict
  verdict=$(awk -v v="$2" -v op="$3" -v b="$4" 'BEGIN {
    ok = (op == "le") ? (v <= b) : (v >= b); print ok ? "ok  " : "MISS" }')
  printf '  %s %-52s %6.2f (%s %s)\n' "$verdict" "$1" "$2" "$([ "$3" = le ] && echo '<=' || echo '>=')" "$4"
}

echo
echo "targets:"
for size in 1080p 640x480; do
  full="JPEG $size full"
  check "$full: Annota / raw libjpeg-turbo" "$(ratio "${annota_ms[$full]}" "${raw_ms[$full]}")" le 1.05
  check "$full: Pillow / Annota (speed-up)" "$(ratio "${pillow_ms[$full]}" "${annota_ms[$full]}")" ge 1.25
  check "JPEG $size: full / ROI 10% (Annota)" "$(ratio "${annota_ms[$full]}" "${annota_ms[JPEG $size ROI 10%]}")" ge 2
done
check "JPEG 1080p: full / ROI 10% + 1/4 (Annota)" \
  "$(ratio "${annota_ms[JPEG 1080p full]}" "${annota_ms[JPEG 1080p ROI 10% + 1/4]}")" ge 3
for size in 1080p 640x480; do
  check "PNG $size: Annota / raw libpng" "$(ratio "${annota_ms[PNG $size]}" "${raw_ms[PNG $size]}")" le 1.05
done
