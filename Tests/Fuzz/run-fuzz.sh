#!/usr/bin/env bash
# Builds and runs one of the libFuzzer harnesses.
#
#   Tests/Fuzz/run-fuzz.sh [TARGET] [libFuzzer args...]
#
# TARGET is one of
#   decode (default)  AnnotaFuzzDecode: the PNG and JPEG decoders
#   rle               AnnotaFuzzRLE: compressed RLE strings and the RLE operations (incl. polygons)
#   coco              AnnotaFuzzCOCO: JSONReader, serialization round trip, COCODataset, masks
#
#   Tests/Fuzz/run-fuzz.sh rle                # 1,200,000 executions (override with RUNS=N)
#   MAX_TIME=180 Tests/Fuzz/run-fuzz.sh coco  # run for 180 s instead of a fixed number of runs
#   Tests/Fuzz/run-fuzz.sh -timeout=10        # extra arguments are passed to libFuzzer
#
# The corpus lives in fuzz-corpus-TARGET/ (gitignored) and is seeded on every run:
#   decode  every file under testdata/images/ (including bad/)
#   rle     every compressed string in testdata/golden/masks.json, prefixed with the two size
#           bytes the harness reads (h % 64, w % 64 of the golden case)
#   coco    the small COCO documents (valid and malformed) in the heredoc below; the run also
#           uses the JSON/COCO token dictionary Tests/Fuzz/json.dict
# Crash, leak and timeout artifacts go to .build-fuzz/artifacts/ (gitignored); the log is
# .build-fuzz/fuzz-TARGET.log. Exits non-zero if libFuzzer reports a crash, leak, ASan error or
# timeout.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

target=decode
if [[ $# -gt 0 && $1 != -* ]]; then
  target=$1
  shift
fi
case "$target" in
  decode) product=AnnotaFuzzDecode; max_len=65536 ;;
  rle) product=AnnotaFuzzRLE; max_len=4096 ;;
  coco) product=AnnotaFuzzCOCO; max_len=16384 ;;
  *)
    echo "run-fuzz.sh: unknown target '$target' (expected decode, rle or coco)" >&2
    exit 2
    ;;
esac

swift build --product "$product" --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address \
  -Xcc -fsanitize=address --scratch-path .build-fuzz

corpus=fuzz-corpus-$target
artifacts=.build-fuzz/artifacts
mkdir -p "$corpus" "$artifacts"
extra=()

seed_decode() {
  # Flatten testdata/images/** into the corpus: testdata/images/bad/x.png -> bad_x.png.
  while IFS= read -r -d '' file; do
    rel=${file#testdata/images/}
    cp -f "$file" "$corpus/${rel//\//_}"
  done < <(find testdata/images -type f -print0)
}

seed_rle() {
  # One file per golden compressed string: [h % 64, w % 64] + the string.
  python3 - "$corpus" <<'PY'
import json, sys
out = sys.argv[1]
golden = json.load(open("testdata/golden/masks.json"))
seen = set()
for key in ("encode", "strings", "polygons", "boxes", "merges", "ious"):
    for case in golden.get(key, []):
        if "h" not in case or "w" not in case:
            continue
        strings = []
        for field in ("string", "union", "intersection"):
            if isinstance(case.get(field), str):
                strings.append(case[field])
        for field in ("rles", "dt", "gt"):
            strings += [s for s in case.get(field, []) if isinstance(s, str)]
        for s in strings:
            data = bytes([case["h"] % 64, case["w"] % 64]) + s.encode()
            if data in seen:
                continue
            seen.add(data)
            with open(f"{out}/golden_{len(seen):04d}", "wb") as f:
                f.write(data)
PY
}

seed_coco() {
  # Seeds are separated by "=== NAME" lines.
  local name="" body=""
  flush() { if [[ -n $name ]]; then printf '%s' "$body" >"$corpus/seed_$name.json"; fi; }
  while IFS= read -r line; do
    if [[ $line == "=== "* ]]; then
      flush
      name=${line#=== }
      body=""
    else
      body+="$line"$'\n'
    fi
  done <<'JSON'
=== valid
{"info": {"description": "seed"}, "licenses": [],
 "images": [{"id": 1, "width": 8, "height": 6, "file_name": "a.png"},
            {"id": 2, "width": 4, "height": 3, "file_name": "b.jpg"}],
 "annotations": [
  {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 4, 3], "area": 12, "iscrowd": 0,
   "segmentation": [[1.0, 1.0, 5.0, 1.0, 5.0, 4.0, 1.0, 4.0]]},
  {"id": 2, "image_id": 1, "category_id": 2, "iscrowd": 0, "score": 0.75,
   "segmentation": {"size": [6, 8], "counts": "=33000a0"}},
  {"id": 3, "image_id": 2, "category_id": 1, "iscrowd": 1, "area": 5,
   "segmentation": {"size": [3, 4], "counts": [2, 1, 1, 3, 2, 1, 2]}},
  {"id": 4, "image_id": 2, "category_id": 2, "bbox": [0.5, 0.25, 2.5, 1.75], "iscrowd": 0,
   "segmentation": [[0, 0, 3.5, 0, 3.5, 2.5], [1e0, 1, 2, 1, 2, 2]]}],
 "categories": [{"id": 1, "name": "cat", "supercategory": "animal"},
                {"id": 2, "name": "dog", "supercategory": "animal", "keypoints": []}]}
=== results
{"images": [{"id": 7, "width": 3, "height": 3}], "categories": [{"id": 1, "name": "x"}],
 "annotations": [{"id": 1, "image_id": 7, "category_id": 1, "score": -1.5e-3,
   "segmentation": {"size": [3, 3], "counts": "414"}, "bbox": [0, 0, 3, 3]},
  {"id": 2, "image_id": 7, "category_id": 1, "segmentation": {"size": [3, 3], "counts": [9]}}]}
=== minimal
{"images": [], "annotations": [], "categories": []}
=== digits
{"images": [{"id": 1, "width": 9, "height": 7}], "categories": [{"id": 1}],
 "annotations": [{"id": 1, "image_id": 1, "category_id": 1,
   "segmentation": [[0.30000000000000004, 1.1, 7.123456789012345, 0.5, 2.0999999999999996, 6.49999999999999],
                    [-0.25, 3.3, 12.100000000000001, 4.7, 5.9, 0.0000000001, 1.5e0, 2]]}]}
=== strings
{"images": [{"id": 1, "width": 2, "height": 2, "file_name": "d\u00e9j\u00e0 \"vu\"\\\/\b\f\n\r\t\ud83d\ude00"}],
 "annotations": [{"id": 9223372036854775807, "image_id": 1, "segmentation": [[0, 0, 2, 0, 2, 2]],
   "iscrowd": false, "extra": [null, true, false, -0, 0.1, 1E+2, 12345678901234567890]}],
 "categories": [{"id": -1, "name": ""}]}
=== bad_counts
{"images": [{"id": 1, "width": 4, "height": 4}],
 "annotations": [{"id": 1, "image_id": 1, "segmentation": {"size": [4, 4], "counts": "zz"}},
  {"id": 2, "image_id": 1, "segmentation": {"size": [4, 4], "counts": [-1, 17]}},
  {"id": 3, "image_id": 1, "segmentation": {"size": [5, 4], "counts": [16]}},
  {"id": 4, "image_id": 1, "segmentation": [[0, 0, 1]]},
  {"id": 5, "image_id": 2, "segmentation": [[0, 0, NaN, 1, Infinity, -Infinity]]}]}
=== bad_types
{"images": [{"id": 1, "width": "8", "height": 6}, {"id": 2.5, "width": 4, "height": 4},
            {"id": 3, "width": 4, "height": -4}, {"id": 4, "width": 3, "height": 3}, {"id": 4}, 7],
 "annotations": [{"id": "1", "image_id": 4}, {"id": 2, "image_id": null}, [], 3,
  {"id": 5, "image_id": 4, "bbox": [0, 0, -1]}, {"id": 6, "image_id": 4, "iscrowd": 2},
  {"id": 7, "image_id": 4, "segmentation": "x"}, {"id": 8, "image_id": 4, "segmentation": [1, 2, 3]},
  {"id": 9, "image_id": 4, "segmentation": [[0, 0, 2, -Infinity, 2, 2]]},
  {"id": 10, "image_id": 4, "segmentation": {"size": [3], "counts": "03"}},
  {"id": 11, "image_id": 4, "segmentation": {"size": [3, 3], "counts": [1.5, 7.5]}},
  {"id": 11, "image_id": 4, "segmentation": {"size": [3, 3]}}],
 "categories": [{"id": 1}, {"id": 1, "name": 2}, {"name": "x"}]}
=== bad_toplevel
{"images": {"id": 1}, "annotations": [{"id": 1, "image_id": 1}], "categories": null}
=== truncated
{"images": [{"id": 1, "width": 8, "height": 6}], "annotations": [{"id": 1, "image_id": 1, "segmentation": [[1, 2, 3
=== not_object
[1, 2.5, "three", [{"four": 4}], true, null]
JSON
  flush
  extra+=(-dict=Tests/Fuzz/json.dict)
}

"seed_$target"

if [[ -n "${MAX_TIME:-}" ]]; then
  limit=(-max_total_time="$MAX_TIME")
else
  limit=(-runs="${RUNS:-1200000}")
fi

log=.build-fuzz/fuzz-$target.log
status=0
./.build-fuzz/debug/"$product" "$corpus" "${limit[@]}" -rss_limit_mb=2048 -max_len="$max_len" \
  -print_final_stats=1 -artifact_prefix="$artifacts/" ${extra[@]+"${extra[@]}"} "$@" 2>&1 \
  | tee "$log" || status=$?

echo "----"
# Last status line (cov/ft/corp/exec/s) and the final stats.
grep -E '^#[0-9]+' "$log" | tail -n 1 || true
grep -E '^stat::' "$log" || true
if [[ $status -ne 0 ]] || grep -qE '^(==[0-9]+==ERROR|SUMMARY: (Address|Leak|libFuzzer))' "$log"; then
  echo "run-fuzz.sh: libFuzzer found a problem (exit $status); see $log and $artifacts/" >&2
  exit $((status == 0 ? 1 : status))
fi
echo "run-fuzz.sh: clean"
