#!/usr/bin/env bash
# Builds and runs the libFuzzer harness for the PNG and JPEG decoders (AnnotaFuzzDecode).
#
#   Tests/Fuzz/run-fuzz.sh                # 1,200,000 executions (override with RUNS=N)
#   MAX_TIME=180 Tests/Fuzz/run-fuzz.sh   # run for 180 s instead of a fixed number of runs
#   Tests/Fuzz/run-fuzz.sh -timeout=10    # extra arguments are passed to libFuzzer
#
# The corpus lives in fuzz-corpus-decode/ (gitignored) and is seeded with every file under
# testdata/images/ (including bad/). Crash, leak and timeout artifacts go to .build-fuzz/artifacts/
# (gitignored). Exits non-zero if libFuzzer reports a crash, leak, ASan error or timeout.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

swift build --product AnnotaFuzzDecode --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address \
  -Xcc -fsanitize=address --scratch-path .build-fuzz

corpus=fuzz-corpus-decode
artifacts=.build-fuzz/artifacts
mkdir -p "$corpus" "$artifacts"
# Flatten testdata/images/** into the corpus: testdata/images/bad/x.png -> bad_x.png.
while IFS= read -r -d '' file; do
  rel=${file#testdata/images/}
  cp -f "$file" "$corpus/${rel//\//_}"
done < <(find testdata/images -type f -print0)

if [[ -n "${MAX_TIME:-}" ]]; then
  limit=(-max_total_time="$MAX_TIME")
else
  limit=(-runs="${RUNS:-1200000}")
fi

log=.build-fuzz/fuzz-decode.log
status=0
./.build-fuzz/debug/AnnotaFuzzDecode "$corpus" "${limit[@]}" -rss_limit_mb=2048 -max_len=65536 \
  -print_final_stats=1 -artifact_prefix="$artifacts/" "$@" 2>&1 | tee "$log" || status=$?

echo "----"
# Last status line (cov/ft/corp/exec/s) and the final stats.
grep -E '^#[0-9]+' "$log" | tail -n 1 || true
grep -E '^stat::' "$log" || true
if [[ $status -ne 0 ]] || grep -qE '^(==[0-9]+==ERROR|SUMMARY: (Address|Leak|libFuzzer))' "$log"; then
  echo "run-fuzz.sh: libFuzzer found a problem (exit $status); see $log and $artifacts/" >&2
  exit $((status == 0 ? 1 : status))
fi
echo "run-fuzz.sh: clean"
