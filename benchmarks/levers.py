"""Seeds and refits through the pipeline on public series sets with official train/test splits.

One run per data set (sktime's bundled ArrowHead, GunPoint): MiniROCKET four ways - the fold average
(``mr``), ``refit: full`` (``mr_full``), ``refit: blend`` (``mr_blend``) and ``seeds: 3`` (``mr3``) - five
stratified folds; held-back accuracy on the official test split and the summed job seconds of each model
(results/benchmarks/*). Writes benchmarks/levers/<dataset>.json and prints the rows of BENCHMARKS.md.

    flock /work/heavy.lock python -m benchmarks.levers ArrowHead GunPoint
"""

from __future__ import annotations

import json
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


def run(name: str, base: Path) -> dict:
    length = write_competition(name, base / name / "comp")
    work = base / name / "work"
    work.mkdir(parents=True, exist_ok=True)
    cfg = {"seed": 0, "data": {"kind": "timeseries", "dir": str(base / name / "comp"), "step_col": "step",
                               "series_length": length, "solution": "solution.csv"},
           "folds": {"n_splits": 5, "seed": 0},
           "models": {m: {"family": "minirocket", **extra} for m, extra in MODELS.items()}, "ensembles": {}}
    (work / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(work),
                    "--configfile", str(work / "config.yaml"), "--cores", "2"], check=True, capture_output=True)
    wall = time.perf_counter() - t0
    board = pd.read_csv(work / "results/leaderboard.csv").set_index("name")
    rows = {m: {"cv": float(board.loc[m, "cv"]), "holdout": float(board.loc[m, "holdout"]),
                "test_from": board.loc[m, "test_from"], "seeds": int(board.loc[m, "seeds"]),
                "cv_seed_std": None if pd.isna(board.loc[m, "cv_seed_std"]) else float(board.loc[m, "cv_seed_std"]),
                "job_seconds": model_seconds(work, m)} for m in MODELS}
    return {"dataset": name, "series_length": length, "run_wall_seconds": wall, "models": rows}


def main(names: list[str]) -> None:
    base = Path("/tmp/foldwise_bench_levers")
    for name in names:
        out = run(name, base)
        path = REPO / "benchmarks" / "levers" / f"{name}.json"
        path.write_text(json.dumps(out, indent=2) + "\n")
        for m, r in out["models"].items():
            print(f"| {name} | {m} | {r['test_from']} | {r['seeds']} | {r['cv']:.4f} | {r['cv_seed_std']} | "
                  f"{r['holdout']:.4f} | {r['job_seconds']:.1f} |")


if __name__ == "__main__":
    main(sys.argv[1:] or ["ArrowHead", "GunPoint"])
