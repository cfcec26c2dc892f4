"""scikit-learn baseline of compare-classifier.sh.

  gen OUT_DIR          15,000 x 128 features, 10 classes (make_classification, seed 0), a
                       stratified 80/20 split (train.csv, test.csv), and a 1,000,000 x 128 pool
                       (pool.npy) for scoring throughput.
  time OUT_DIR REPEATS StandardScaler + LogisticRegression(lbfgs, C=1) fit (median of REPEATS),
                       accuracy, predict_proba on the test rows, and entropy of predict_proba on
                       the pool; one JSON line, the same fields as annota-classifier-bench.
"""
import json
import sys
import time

import numpy as np


def read_labels(path):
    d = np.loadtxt(path, delimiter=",", skiprows=1, dtype=str)
    return d[:, 0].astype(int), d[:, 1]


def main():
    cmd, out = sys.argv[1], sys.argv[2]
    if cmd == "gen":
        from sklearn.datasets import make_classification
        from sklearn.model_selection import train_test_split

        x, y = make_classification(
            n_samples=15000, n_features=128, n_informative=64, n_redundant=32, n_classes=10,
            n_clusters_per_class=1, class_sep=1.5, random_state=0)
        np.save(f"{out}/features.npy", x.astype(np.float32))
        rows = np.arange(len(y))
        tr, te = train_test_split(rows, test_size=0.2, stratify=y, random_state=0)
        for name, part in (("train", np.sort(tr)), ("test", np.sort(te))):
            with open(f"{out}/{name}.csv", "w") as f:
                f.write("index,label\n")
                f.writelines(f"{i},{y[i]}\n" for i in part)
        rng = np.random.default_rng(1)
        np.save(f"{out}/pool.npy", rng.standard_normal((1_000_000, 128), dtype=np.float32))
        return
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    repeats = int(sys.argv[3])
    x = np.load(f"{out}/features.npy")
    tr, ytr = read_labels(f"{out}/train.csv")
    te, yte = read_labels(f"{out}/test.csv")
    fits = []
    for _ in range(repeats):
        start = time.perf_counter()
        scaler = StandardScaler().fit(x[tr])
        model = LogisticRegression(C=1.0, max_iter=1000).fit(scaler.transform(x[tr]), ytr)
        fits.append(time.perf_counter() - start)
    xte = x[te]
    predicts = []
    for _ in range(repeats):
        start = time.perf_counter()
        pred = model.predict(scaler.transform(xte))
        predicts.append(time.perf_counter() - start)
    pool = np.load(f"{out}/pool.npy")
    scores = []
    for _ in range(max(1, repeats // 2)):
        start = time.perf_counter()
        total = 0.0
        for r0 in range(0, len(pool), 65536):
            p = model.predict_proba(scaler.transform(pool[r0:r0 + 65536]))
            h = -(p * np.log(np.clip(p, 1e-300, None))).sum(1) / np.log(p.shape[1])
            total += float(h.sum())
        scores.append(time.perf_counter() - start)
    print(json.dumps({
        "fitSeconds": float(np.median(fits)), "iterations": int(model.n_iter_[0]),
        "accuracy": float((pred == yte).mean()), "predictSeconds": float(np.median(predicts)),
        "scoreRowsPerSecond": len(pool) / float(np.median(scores)), "scoreChecksum": total,
    }))


if __name__ == "__main__":
    main()
