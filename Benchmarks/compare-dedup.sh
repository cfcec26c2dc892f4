#!/usr/bin/env bash
# Side-by-side hashing speed: `annota dedup` (grey DCT-scaled decode + dHash + pHash + XXH64 of
# the bytes) vs Python imagehash (PIL full decode + dhash + phash), one thread each, on the same
# photos (default: the COCO sample's 80 JPEGs, each hashed REPEATS times).
#
# Reports per image: decode, hash, and decode + hash. Annota's figures are its own thread-time
# counters (printed by `annota dedup` on stderr) and, as a check, the process's wall time over
# all images (startup, search and the JSON report included). Then the 1M-hash search.
#
#   usage: Benchmarks/compare-dedup.sh [IMAGES_DIR]      (REPEATS=5 by default)
# Needs the reference venv with imagehash and a release build of annota (built here).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
images=${1:-$root/../shared/data/coco-val-mini/images}
repeats=${REPEATS:-5}
python=${ANNOTA_PYTHON:-/root/.cache/annota-refenv/bin/python}
(cd "$root" && swift build -c release --product annota >&2)
annota="$root/.build/release/annota"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The same files REPEATS times (as separate paths, so nothing is cached between them).
for r in $(seq 1 "$repeats"); do
  mkdir -p "$work/r$r"
  for f in "$images"/*; do ln -s "$f" "$work/r$r/$(basename "$f")"; done
done
start=$(date +%s.%N)
"$annota" dedup "$work" --out "$work/groups.json" --threads 1 2>"$work/annota.log"
end=$(date +%s.%N)
"$python" - "$work" "$work/annota.log" "$start" "$end" <<'PY'
import glob, json, os, re, sys, time
from PIL import Image
import imagehash
work, log, start, end = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
files = sorted(glob.glob(os.path.join(work, "r*", "*")))
dec = dh = ph = 0.0
for f in files:
    t0 = time.perf_counter(); im = Image.open(f); im.load(); t1 = time.perf_counter()
    imagehash.dhash(im); t2 = time.perf_counter()
    imagehash.phash(im); t3 = time.perf_counter()
    dec += t1 - t0; dh += t2 - t1; ph += t3 - t2
n = len(files)
text = open(log).read()
m = re.search(r"per image ([\d.]+) ms \(decode ([\d.]+) ms, hash ([\d.]+) ms", text)
a_total, a_dec, a_hash = map(float, m.groups())
wall = (end - start) * 1000 / n
py_hash = (dh + ph) * 1000 / n
py_total = dec * 1000 / n + py_hash
print(f"{n} images, one thread, ms per image")
print(f"{'':34}{'imagehash':>10}{'annota':>10}{'ratio':>8}")
print(f"{'decode':34}{dec*1000/n:10.3f}{a_dec:10.3f}{dec*1000/n/a_dec:7.2f}x")
print(f"{'hash (dhash + phash)':34}{py_hash:10.3f}{a_hash:10.3f}{py_hash/a_hash:7.2f}x")
print(f"{'  of which phash':34}{ph*1000/n:10.3f}")
print(f"{'decode + hash':34}{py_total:10.3f}{a_total:10.3f}{py_total/a_total:7.2f}x")
print(f"{'annota dedup wall time / image':34}{'':10}{wall:10.3f}{py_total/wall:7.2f}x")
PY
echo
"$annota" dedup --synthetic 1000000 --distance 10 --threads 2
