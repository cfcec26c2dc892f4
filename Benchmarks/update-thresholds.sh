#!/usr/bin/env bash
# Re-records Benchmarks/Thresholds/ (the committed p90s that `benchmark thresholds check` compares
# against) and keeps only the deterministic metrics: malloc count and peak resident memory.
# Wall-clock p90s are dropped: on the shared 2-core VM back-to-back runs differed by up to 42%, so
# a time threshold would only flap; compare-decode.sh and compare-masks.sh measure time as
# side-by-side ratios.
#   usage: Benchmarks/update-thresholds.sh [TARGET...]
#          (default: Decode Masks Edges Classifier Agreement Dedup)
# Only the named targets' files (Thresholds/TARGET.*.p90.json) are replaced.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(Decode Masks Edges Classifier Agreement Dedup)
mkdir -p Thresholds
for target in "${targets[@]}"; do
  rm -f Thresholds/"$target".*.p90.json
  swift package --disable-sandbox --allow-writing-to-package-directory \
    benchmark thresholds update --target "$target" --no-progress
  for file in Thresholds/"$target".*.p90.json; do
    python3 - "$file" <<'PY'
import json, sys
path = sys.argv[1]
values = json.load(open(path))
kept = {k: v for k, v in values.items() if k in ("mallocCountTotal", "peakMemoryResident")}
open(path, "w").write(json.dumps(kept, indent=2, sort_keys=True) + "\n")
PY
  done
  swift package --disable-sandbox benchmark thresholds check --target "$target" --no-progress
done
