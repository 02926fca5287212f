"""Seeds, refits and pseudo-labels through the pipeline on public data with fixed train/test splits.

One run per data set (sktime's bundled ArrowHead, GunPoint): MiniROCKET four ways - the fold average
(``mr``), ``refit: full`` (``mr_full``), ``refit: blend`` (``mr_blend``) and ``seeds: 3`` (``mr3``) - five
stratified folds; held-back accuracy on the official test split and the summed job seconds of each model
(results/benchmarks/*). Writes benchmarks/levers/<dataset>.json and prints the rows of BENCHMARKS.md.

    python -m benchmarks.levers ArrowHead GunPoint
    python -m benchmarks.levers digits

``digits`` (scikit-learn's digits as the demo competition: 1,257 training and 540 held-back images) runs a
net the same four ways (``resnet10t`` at 32², 8 epochs, the best epoch) and two pseudo-labelled students of
the fold-average net: ``stu_fold`` (``pseudo.source: fold``, the default: fold k's student learns from the
teacher's fold-k model only) and ``stu_all`` (``source: all``: from the teacher's mean over every fold model,
which saw fold k's validation rows). A leak shows as a student CV above its held-back score.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
MODELS = {"mr": {}, "mr_full": {"refit": "full"}, "mr_blend": {"refit": "blend"}, "mr3": {"seeds": 3}}


def write_competition(name: str, out: Path) -> int:
    """The data set's official split as a long-CSV series competition; returns the series length."""
    from sktime.datasets import load_UCR_UEA_dataset

    out.mkdir(parents=True, exist_ok=True)
    length = 0
    for split in ("train", "test"):
        x, y = load_UCR_UEA_dataset(name, split=split, return_type="numpy3D")
        n, c, t = x.shape
        length = t
        ids = np.array([f"{split}_{i:04d}" for i in range(n)])
        long = pd.DataFrame(x.transpose(0, 2, 1).reshape(n * t, c), columns=[f"ch{i}" for i in range(c)])
        long.insert(0, "step", np.tile(np.arange(t), n))
        long.insert(0, "id", np.repeat(ids, t))
        long.to_csv(out / f"{split}_features.csv", index=False)
        labels = pd.DataFrame({"id": ids, "label": y})
        if split == "train":
            labels.to_csv(out / "train.csv", index=False)
        else:
            labels[["id"]].to_csv(out / "test.csv", index=False)
            labels.assign(label=y[0]).to_csv(out / "sample_submission.csv", index=False)
            labels.to_csv(out / "solution.csv", index=False)
    return length


def model_seconds(work: Path, model: str) -> float:
    """Summed wall seconds of a model's train, predict and refit jobs (Snakemake's benchmark files)."""
    files = [p for rule in ("train", "predict", "refit") for p in (work / "results/benchmarks" / rule / model).rglob("*.tsv")]
    files += [p for p in (work / "results/benchmarks/refit").glob(f"{model}.tsv")]
    return float(sum(pd.read_csv(p, sep="\t")["s"].sum() for p in files))


NET = {"backbone": "resnet10t", "img_size": 32, "epochs": 8, "batch_size": 64, "lr": 0.003,
       "augment": {"shift": 0.08, "scale": 0.1, "rotate": 10}}
NET_MODELS = {"net": {}, "net_full": {"refit": "full"}, "net_blend": {"refit": "blend"}, "net3": {"seeds": 3},
              "stu_fold": {"teacher": "net"}, "stu_all": {"teacher": "net", "pseudo": {"source": "all"}}}


def digits_config(base: Path) -> tuple[dict, int]:
    """The digits demo competition and the nets' config (4 lever variants, 2 students)."""
    from foldwise.demo import make_digits_competition

    comp = base / "digits" / "comp"
    if not comp.exists():
        make_digits_competition(comp)
    models = {m: {**NET, **extra} for m, extra in NET_MODELS.items()}
    cfg = {"seed": 0, "data": {"dir": str(comp), "train_images": "train_images/{id}.png",
                               "test_images": "test_images/{id}.png", "channels": 1, "solution": "solution.csv"},
           "folds": {"n_splits": 5, "seed": 0}, "models": models, "ensembles": {}}
    return cfg, 0


def series_config(name: str, base: Path) -> tuple[dict, int]:
    length = write_competition(name, base / name / "comp")
    cfg = {"seed": 0, "data": {"kind": "timeseries", "dir": str(base / name / "comp"), "step_col": "step",
                               "series_length": length, "solution": "solution.csv"},
           "folds": {"n_splits": 5, "seed": 0},
           "models": {m: {"family": "minirocket", **extra} for m, extra in MODELS.items()}, "ensembles": {}}
    return cfg, length


def run(name: str, base: Path) -> dict:
    cfg, length = digits_config(base) if name == "digits" else series_config(name, base)
    work = base / name / "work"
    work.mkdir(parents=True, exist_ok=True)
    (work / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    t0 = time.perf_counter()
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "HF_HUB_OFFLINE": "1"}
    subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(work),
                    "--configfile", str(work / "config.yaml"), "--cores", "2", "--resources", "gpu=1"], check=True,
                   capture_output=True, env=env)
    wall = time.perf_counter() - t0
    board = pd.read_csv(work / "results/leaderboard.csv").set_index("name")
    rows = {m: {"cv": float(board.loc[m, "cv"]), "holdout": float(board.loc[m, "holdout"]),
                "test_from": board.loc[m, "test_from"], "seeds": int(board.loc[m, "seeds"]),
                "cv_seed_std": None if pd.isna(board.loc[m, "cv_seed_std"]) else float(board.loc[m, "cv_seed_std"]),
                "pseudo_source": None if "pseudo_source" not in board or pd.isna(board.loc[m, "pseudo_source"])
                else board.loc[m, "pseudo_source"],
                "job_seconds": model_seconds(work, m)} for m in cfg["models"]}
    return {"dataset": name, "series_length": length, "run_wall_seconds": wall, "models": rows}


def main(names: list[str]) -> None:
    base = Path("/tmp/foldwise_bench_levers")
    for name in names:
        out = run(name, base)
        path = REPO / "benchmarks" / "levers" / f"{name}.json"
        path.write_text(json.dumps(out, indent=2) + "\n")
        for m, r in out["models"].items():
            print(f"| {name} | {m} | {r['test_from']} | {r['seeds']} | {r['pseudo_source'] or '-'} | {r['cv']:.4f} | "
                  f"{r['cv_seed_std']} | {r['holdout']:.4f} | {r['job_seconds']:.1f} |")


if __name__ == "__main__":
    main(sys.argv[1:] or ["ArrowHead", "GunPoint"])
