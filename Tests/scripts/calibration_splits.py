"""Calibration of `annota rank` on scikit-learn's digits, measured on independent rows.

  python calibration_splits.py ANNOTA [--model linear|mlp] [--splits 20] [--reference]
                               [--work DIR] [-- EXTRA RANK ARGS]

Protocol "splits": for seed s in 0..splits-1, a stratified 50/25/25 split of the 1,797 digits
(train / calibrate / evaluate, `train_test_split(random_state=s)`). `annota rank` trains on the
first half, fits the temperature on the calibration quarter (`--calibrate-on`) and reports
accuracy and ECE on the evaluation quarter (`--evaluate-on`), rows it never saw. The ECE is
also recomputed here from `--predictions` (15 equal-width bins on the top-class confidence,
Guo et al. 2017), as an independent check of annota's figure.

Protocol "fixed": the fixed 75/25 split of classifier_reference.py. Reported two ways: the
temperature fitted on the 25% and measured there (in-sample for the temperature; what the
DigitsTests suite does), and cross-fitted (the 25% cut into two stratified halves; the
temperature fitted on each half is applied to the other; ECE of the pooled 450 rows).

With --reference, scikit-learn's model of the same kind on the same rows (LogisticRegression(C),
or MLPClassifier(hidden, alpha=1/C, solver="lbfgs", max_iter=200)), with a temperature fitted by
NLL on the same calibration rows: accuracy, ECE and fit seconds side by side.

With --maps (needs --reference), two richer calibration maps fitted on the same calibration rows
to scikit-learn's log-probabilities, for comparison with the one temperature: vector scaling
(a per-class scale and offset, 2K parameters) and matrix scaling with off-diagonal L2 (Dirichlet
calibration's ODIR, K² + K parameters, lambda 1), each fitted by L-BFGS on the NLL.

Prints a table of means and standard deviations; exits 1 if annota's ECE and the one recomputed
here differ by more than 1e-3 on any split (the predictions file rounds to 6 decimals).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np


def ece(confidence, correct, bins=15):
    """Expected calibration error: equal-width bins (lo, hi] on the top-class confidence."""
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (confidence > lo) & (confidence <= hi)
        if m.any():
            total += m.mean() * abs(correct[m].mean() - confidence[m].mean())
    return total


def write_labels(path, rows, labels):
    with open(path, "w") as f:
        f.write("index,label\n")
        for i in sorted(rows):
            f.write(f"{i},{labels[i]}\n")


def read_predictions(path):
    out = {}
    with open(path) as f:
        next(f)
        for line in f:
            i, label, confidence, _ = line.strip().split(",")
            out[int(i)] = (label, float(confidence))
    return out


def rank(annota, work, train, calib, evaluate, extra):
    pred = os.path.join(work, "pred.csv")
    args = [annota, "rank", "--features", os.path.join(work, "digits.npy"), "--labels", train,
            "--calibrate-on", calib, "--out", os.path.join(work, "next.csv"),
            "--predictions", pred, "--batch", "1"] + extra
    if evaluate:
        args += ["--evaluate-on", evaluate]
    start = time.perf_counter()
    run = subprocess.run(args, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if run.returncode != 0:
        sys.exit(f"annota rank failed ({run.returncode}):\n{run.stderr}")
    hold = re.search(r"accuracy ([0-9.]+), ECE ([0-9.]+) → ([0-9.]+) after temperature ([0-9.]+)",
                     run.stderr)
    ev = re.search(r"evaluation \(.*\): accuracy ([0-9.]+), ECE ([0-9.]+) uncalibrated, ([0-9.]+)",
                   run.stderr)
    return hold, ev, read_predictions(pred), seconds


def temperature(logits, y):
    """The temperature minimising NLL (golden-section on 1/T over [0.05, 20], as annota does)."""
    from scipy.special import logsumexp

    def nll(beta):
        z = logits * beta
        return np.sum(logsumexp(z, axis=1) - z[np.arange(len(y)), y])

    lo, hi = 1 / 20, 1 / 0.05
    r = (5 ** 0.5 - 1) / 2
    a, b = hi - r * (hi - lo), lo + r * (hi - lo)
    fa, fb = nll(a), nll(b)
    for _ in range(60):
        if fa <= fb:
            hi, b, fb = b, a, fa
            a = hi - r * (hi - lo)
            fa = nll(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + r * (hi - lo)
            fb = nll(b)
    return 1 / ((lo + hi) / 2)


def fit_map(logits, y, kind, lam=1.0):
    """Vector scaling (`a * z + b`) or ODIR matrix scaling (`z @ W.T + b`) by L-BFGS on the NLL;
    returns the map as a function of logits."""
    from scipy.optimize import minimize
    from scipy.special import softmax

    n, k = logits.shape
    onehot = np.eye(k)[y]

    def unpack(p):
        if kind == "vector":
            return np.diag(p[:k]), p[k:]
        return p[:k * k].reshape(k, k), p[k * k:]

    def objective(p):
        w, b = unpack(p)
        z = logits @ w.T + b
        pr = softmax(z, axis=1)
        value = -np.mean(np.log(np.clip(pr[np.arange(n), y], 1e-300, 1)))
        r = (pr - onehot) / n
        gw, gb = r.T @ logits, r.sum(0)
        if kind == "vector":
            return value, np.r_[np.diag(gw), gb]
        off = w - np.diag(np.diag(w))
        value += lam * np.sum(off ** 2) / (k * (k - 1))
        gw = gw + 2 * lam * off / (k * (k - 1))
        return value, np.r_[gw.ravel(), gb]

    start = np.r_[np.ones(k), np.zeros(k)] if kind == "vector" else np.r_[np.eye(k).ravel(), np.zeros(k)]
    p = minimize(objective, start, jac=True, method="L-BFGS-B").x
    w, b = unpack(p)
    return lambda z: softmax(z @ w.T + b, axis=1)


def reference(kind, c, hidden, x, y, train, calib, evaluate, seed, maps=False):
    """scikit-learn's model of the same kind: accuracy and ECE (raw, temperature) on `evaluate`."""
    from scipy.special import softmax
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x[train])
    start = time.perf_counter()
    if kind == "linear":
        model = LogisticRegression(C=c, max_iter=1000)
    else:
        model = MLPClassifier(hidden_layer_sizes=(hidden,), alpha=1 / c, solver="lbfgs",
                              max_iter=200, random_state=seed)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(scaler.transform(x[train]), y[train])
    seconds = time.perf_counter() - start

    def logits(rows):
        return np.log(np.clip(model.predict_proba(scaler.transform(x[rows])), 1e-300, 1))

    t = temperature(logits(calib), y[calib])
    z = logits(evaluate)
    p0, p1 = softmax(z, axis=1), softmax(z / t, axis=1)
    right = p0.argmax(1) == y[evaluate]
    out = [right.mean(), ece(p0.max(1), right), ece(p1.max(1), right), t, seconds]
    if maps:
        for kind in ["vector", "matrix"]:
            p = fit_map(logits(calib), y[calib], kind)(z)
            # These maps can change the predicted class: ECE against the new argmax.
            out.append(ece(p.max(1), p.argmax(1) == y[evaluate]))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("annota")
    ap.add_argument("--model", default="linear", choices=["linear", "mlp"])
    ap.add_argument("--splits", type=int, default=20)
    ap.add_argument("--C", default="1")
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--reference", action="store_true")
    ap.add_argument("--maps", action="store_true")
    ap.add_argument("--work")
    ap.add_argument("extra", nargs="*", help="more `annota rank` arguments (after --)")
    a = ap.parse_args()
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    work = a.work or tempfile.mkdtemp(prefix="annota-calibration-")
    d = load_digits()
    x, y = d.data.astype(np.float32), d.target
    np.save(os.path.join(work, "digits.npy"), x)
    names = [str(v) for v in y]
    extra = ["--model", a.model, "--C", a.C] + (["--hidden", str(a.hidden)] if a.model == "mlp" else [])
    extra += a.extra
    rows = np.arange(len(y))
    path = lambda name: os.path.join(work, name)
    worst = 0.0

    # Fixed 75/25 split (classifier_reference.py's): in-sample and cross-fitted temperature.
    tr, te = train_test_split(rows, test_size=0.25, stratify=y, random_state=0)
    h1, h2 = train_test_split(te, test_size=0.5, stratify=y[te], random_state=0)
    write_labels(path("train.csv"), tr, names)
    write_labels(path("test.csv"), te, names)
    write_labels(path("half1.csv"), h1, names)
    write_labels(path("half2.csv"), h2, names)
    hold, _, pred, seconds = rank(a.annota, work, path("train.csv"), path("test.csv"), None, extra)
    conf = np.array([pred[r][1] for r in sorted(te)])
    right = np.array([pred[r][0] == names[r] for r in sorted(te)])
    worst = max(worst, abs(ece(conf, right) - float(hold.group(3))))
    print(f"fixed 75/25 split ({a.model}, C {a.C}): accuracy {hold.group(1)}; temperature fitted on "
          f"the 25% and measured there: ECE {hold.group(2)} -> {hold.group(3)} (T = {hold.group(4)}); "
          f"rank took {seconds:.3f} s")
    pooled_conf, pooled_right, temps = [], [], []
    for fit_on, measure_on, rows_m in [("half1.csv", "half2.csv", h2), ("half2.csv", "half1.csv", h1)]:
        hold, ev, pred, _ = rank(a.annota, work, path("train.csv"), path(fit_on), path(measure_on), extra)
        temps.append(float(hold.group(4)))
        pooled_conf += [pred[r][1] for r in sorted(rows_m)]
        pooled_right += [pred[r][0] == names[r] for r in sorted(rows_m)]
    print(f"  cross-fitted temperature (fit on one half of the 25%, measured on the other, pooled): "
          f"ECE {ece(np.array(pooled_conf), np.array(pooled_right)):.4f} "
          f"(T = {temps[0]:.3f}, {temps[1]:.3f})")
    if a.reference:
        acc, e0, e1, t, secs = reference(a.model, float(a.C), a.hidden, x, y, tr, te, te, 0)
        print(f"  scikit-learn on the same split: accuracy {acc:.4f}, ECE {e0:.4f} -> {e1:.4f} "
              f"(T = {t:.3f}, in-sample), fit {secs:.3f} s")

    # Random 50/25/25 splits.
    table = []
    for s in range(a.splits):
        train, rest = train_test_split(rows, test_size=0.5, stratify=y, random_state=s)
        calib, evaluate = train_test_split(rest, test_size=0.5, stratify=y[rest], random_state=s)
        write_labels(path("train.csv"), train, names)
        write_labels(path("calib.csv"), calib, names)
        write_labels(path("eval.csv"), evaluate, names)
        hold, ev, pred, seconds = rank(
            a.annota, work, path("train.csv"), path("calib.csv"), path("eval.csv"), extra)
        conf = np.array([pred[r][1] for r in sorted(evaluate)])
        right = np.array([pred[r][0] == names[r] for r in sorted(evaluate)])
        mine = ece(conf, right)
        worst = max(worst, abs(mine - float(ev.group(3))))
        row = [float(ev.group(1)), float(ev.group(2)), float(ev.group(3)), float(hold.group(4)), seconds]
        if a.reference:
            row += list(reference(a.model, float(a.C), a.hidden, x, y, train, calib, evaluate, s,
                                  a.maps))
        table.append(row)
    t = np.array(table)
    m, sd = t.mean(0), t.std(0, ddof=1)
    print(f"{a.splits} random 50/25/25 splits ({a.model}, C {a.C}): accuracy {m[0]:.4f} (sd {sd[0]:.4f}), "
          f"ECE uncalibrated {m[1]:.4f} (sd {sd[1]:.4f}), with the temperature {m[2]:.4f} (sd {sd[2]:.4f}), "
          f"mean T {m[3]:.3f}, splits with ECE <= 0.02: {int((t[:, 2] <= 0.02).sum())}/{a.splits}, "
          f"rank {m[4]:.3f} s per split")
    if a.reference:
        print(f"  scikit-learn on the same splits: accuracy {m[5]:.4f}, ECE uncalibrated {m[6]:.4f}, "
              f"with the temperature {m[7]:.4f} (sd {sd[7]:.4f}), mean T {m[8]:.3f}, fit {m[9]:.3f} s")
        if a.maps:
            print(f"  scikit-learn's model, other maps on the same calibration rows: vector scaling "
                  f"{m[10]:.4f} (sd {sd[10]:.4f}), matrix scaling with ODIR {m[11]:.4f} (sd {sd[11]:.4f})")
    print(f"largest difference between annota's ECE and the one recomputed here: {worst:.5f}")
    if worst > 1e-3:
        sys.exit(1)


if __name__ == "__main__":
    main()
