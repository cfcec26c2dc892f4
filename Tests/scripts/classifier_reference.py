"""scikit-learn references for Annota's classifier tests and benchmarks.

  digits OUT_DIR [mlp]           scikit-learn's handwritten digits (1797 x 64, real scans) as
                                 digits.npy + all.csv, a fixed stratified 75/25 split
                                 (train.csv, test.csv), and reference.json with the accuracy and
                                 test probabilities of StandardScaler + LogisticRegression(C=1).
                                 With "mlp", also mlp.json: MLPClassifier on the same split (as the
                                 mlp command below, with HIDDEN 64 and C 1).
  fit FEATURES TRAIN TEST OUT    the same reference model on any split (JSON: accuracy, probs,
                                 iterations, fit seconds).
  mlp FEATURES TRAIN TEST OUT [HIDDEN] [C]
                                 MLPClassifier(hidden_layer_sizes=(HIDDEN,), alpha=1/C,
                                 solver="lbfgs", max_iter=200), the objective of
                                 `annota rank --model mlp`, on standardised features, for init
                                 seeds 0-2 (JSON: accuracy per seed and mean, median fit seconds).
  blobs N D K SEED OUT_DIR       a synthetic K-class problem (make_classification) as .npy + csv.
"""
import json
import os
import sys
import time

# One BLAS thread: on 2 cores, numpy's threads fight the test runner and the fits run 5-10x
# slower (and the timings mean nothing).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np


def read_labels(path):
    rows, labels = [], []
    with open(path) as f:
        next(f)
        for line in f:
            i, l = line.strip().split(",")
            rows.append(int(i))
            labels.append(l)
    return np.array(rows), np.array(labels)


def write_labels(path, rows, labels):
    with open(path, "w") as f:
        f.write("index,label\n")
        for i, l in zip(rows, labels):
            f.write(f"{i},{l}\n")


def reference_fit(x, train_rows, train_labels, test_rows, test_labels, c=1.0):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x[train_rows])
    xs_train = scaler.transform(x[train_rows])
    xs_test = scaler.transform(x[test_rows])
    start = time.perf_counter()
    model = LogisticRegression(C=c, max_iter=1000).fit(xs_train, train_labels)
    seconds = time.perf_counter() - start
    probs = model.predict_proba(xs_test)
    accuracy = float((model.predict(xs_test) == test_labels).mean())
    return {
        "accuracy": accuracy,
        "classes": [str(c) for c in model.classes_],
        "probabilities": probs.tolist(),
        "iterations": int(model.n_iter_[0]),
        "fitSeconds": seconds,
        "testRows": [int(r) for r in test_rows],
    }


def mlp_reference(x, train_rows, train_labels, test_rows, test_labels, hidden=64, c=1.0):
    import warnings

    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x[train_rows])
    accuracies, seconds = [], []
    for seed in range(3):
        model = MLPClassifier(hidden_layer_sizes=(hidden,), alpha=1 / c, solver="lbfgs",
                              max_iter=200, random_state=seed)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning at the 200-iteration cap
            model.fit(scaler.transform(x[train_rows]), train_labels)
        seconds.append(time.perf_counter() - start)
        predicted = model.predict(scaler.transform(x[test_rows]))
        accuracies.append(float((predicted == test_labels).mean()))
    return {"accuracies": accuracies, "accuracy": float(np.mean(accuracies)),
            "fitSeconds": float(np.median(seconds))}


def main():
    cmd = sys.argv[1]
    if cmd == "digits":
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

        out = sys.argv[2]
        d = load_digits()
        x = d.data.astype(np.float32)
        y = d.target.astype(str)
        np.save(f"{out}/digits.npy", x)
        rows = np.arange(len(y))
        write_labels(f"{out}/all.csv", rows, y)
        tr, te = train_test_split(rows, test_size=0.25, stratify=y, random_state=0)
        tr.sort()
        te.sort()
        write_labels(f"{out}/train.csv", tr, y[tr])
        write_labels(f"{out}/test.csv", te, y[te])
        ref = reference_fit(x, tr, y[tr], te, y[te])
        json.dump(ref, open(f"{out}/reference.json", "w"))
        if sys.argv[3:] == ["mlp"]:
            json.dump(mlp_reference(x, tr, y[tr], te, y[te]), open(f"{out}/mlp.json", "w"))
        print(json.dumps({"accuracy": ref["accuracy"], "iterations": ref["iterations"]}))
    elif cmd == "fit":
        x = np.load(sys.argv[2]).astype(np.float64)
        tr, ytr = read_labels(sys.argv[3])
        te, yte = read_labels(sys.argv[4])
        ref = reference_fit(x, tr, ytr, te, yte)
        json.dump(ref, open(sys.argv[5], "w"))
    elif cmd == "mlp":
        x = np.load(sys.argv[2]).astype(np.float64)
        tr, ytr = read_labels(sys.argv[3])
        te, yte = read_labels(sys.argv[4])
        hidden = int(sys.argv[6]) if len(sys.argv) > 6 else 64
        c = float(sys.argv[7]) if len(sys.argv) > 7 else 1.0
        ref = mlp_reference(x, tr, ytr, te, yte, hidden, c)
        json.dump(ref, open(sys.argv[5], "w"))
        print(json.dumps({"accuracy": ref["accuracy"], "fitSeconds": ref["fitSeconds"]}))
    elif cmd == "blobs":
        from sklearn.datasets import make_classification

        n, dim, k, seed = (int(v) for v in sys.argv[2:6])
        out = sys.argv[6]
        x, y = make_classification(
            n_samples=n, n_features=dim, n_informative=dim // 2, n_redundant=dim // 4,
            n_classes=k, n_clusters_per_class=1, class_sep=1.5, random_state=seed)
        np.save(f"{out}/blobs.npy", x.astype(np.float32))
        write_labels(f"{out}/all.csv", np.arange(n), y)
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
