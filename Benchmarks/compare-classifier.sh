#!/usr/bin/env bash
# Side-by-side classifier timings: Annota (OpenBLAS sgemm + L-BFGS) vs scikit-learn
# (StandardScaler + LogisticRegression, lbfgs), on the same files in one run.
#
# Data (baselines/pyclassifier.py gen, deterministic): 15,000 x 128 features, 10 classes, an
# 80/20 stratified split, and a 1,000,000 x 128 pool for scoring throughput. Both sides: fit on
# the training rows (standardisation included; median of REPEATS), accuracy on the test rows,
# probabilities of the test rows, and entropy of every pool row. One thread for both
# (OMP_NUM_THREADS=1, OPENBLAS_NUM_THREADS=1), then Annota with 2 BLAS threads.
#
#   usage: Benchmarks/compare-classifier.sh      (REPEATS=5 by default)
# Needs the reference venv (/work/shared/tools/refenv.sh). Writes inputs to
# Benchmarks/.fixtures/classifier (gitignored). Exit 0 even when a target is missed.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
fixtures=${ANNOTA_FIXTURES:-$here/.fixtures}/classifier
repeats=${REPEATS:-5}
python=$("$root/../shared/tools/refenv.sh" | tail -1)
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
mkdir -p "$fixtures"
if [ ! -f "$fixtures/pool.npy" ]; then
  echo "generating inputs..." >&2
  "$python" "$here/baselines/pyclassifier.py" gen "$fixtures"
fi
(cd "$here" && swift build -c release --product annota-classifier-bench >&2)
bench="$here/.build/release/annota-classifier-bench"
py=$("$python" "$here/baselines/pyclassifier.py" time "$fixtures" "$repeats")
a1=$("$bench" "$fixtures/features.npy" "$fixtures/train.csv" "$fixtures/test.csv" "$fixtures/pool.npy" "$repeats" 1)
a2=$("$bench" "$fixtures/features.npy" "$fixtures/train.csv" "$fixtures/test.csv" "$fixtures/pool.npy" "$repeats" 2)
"$python" - "$py" "$a1" "$a2" <<'PY'
import json, sys
py, a1, a2 = (json.loads(s) for s in sys.argv[1:4])
print(f"{'':28}{'scikit-learn':>14}{'annota 1t':>12}{'annota 2t':>12}{'ratio 1t':>10}")
print(f"{'fit (s)':28}{py['fitSeconds']:14.4f}{a1['fitSeconds']:12.4f}{a2['fitSeconds']:12.4f}{py['fitSeconds']/a1['fitSeconds']:9.2f}x")
print(f"{'  iterations':28}{py['iterations']:14d}{a1['iterations']:12d}{a2['iterations']:12d}")
print(f"{'test accuracy':28}{py['accuracy']:14.4f}{a1['accuracy']:12.4f}{a2['accuracy']:12.4f}")
print(f"{'predict 3,000 rows (ms)':28}{1e3*py['predictSeconds']:14.2f}{1e3*a1['predictSeconds']:12.2f}{1e3*a2['predictSeconds']:12.2f}{py['predictSeconds']/a1['predictSeconds']:9.2f}x")
print(f"{'score 1M x 128 (rows/s)':28}{py['scoreRowsPerSecond']:14.0f}{a1['scoreRowsPerSecond']:12.0f}{a2['scoreRowsPerSecond']:12.0f}{a1['scoreRowsPerSecond']/py['scoreRowsPerSecond']:9.2f}x")
ok = a1['fitSeconds'] <= py['fitSeconds'] and abs(a1['accuracy'] - py['accuracy']) <= 0.01
print(f"target (fit time at most scikit-learn's, same accuracy within 1 point): {'met' if ok else 'MISSED'}")
PY
