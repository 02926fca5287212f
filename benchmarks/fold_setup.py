"""The inputs of one training job (tables, classes, folds, caches) written without Snakemake."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd


def write_fold_inputs(root: Path, train_cache: str, test_cache: str, y: np.ndarray, folds) -> "TrainPaths":
    """Write train/test tables, classes.json and folds.pkl beside existing caches; return the job's paths."""
    from foldwise.io import open_cache
    from foldwise.folds import save_folds
    from foldwise.io import write_json, write_parquet
    from foldwise.jobs.paths import TrainPaths

    root.mkdir(parents=True, exist_ok=True)
    n_test = len(open_cache(test_cache))
    classes = [str(c) for c in range(int(y.max()) + 1)]
    ids = [f"r{i}" for i in range(len(y))]
    write_parquet(pd.DataFrame({"row": np.arange(len(y)), "id": ids, "label": [classes[t] for t in y], "target": y}), root / "train.parquet")
    write_parquet(pd.DataFrame({"row": np.arange(n_test), "id": [f"t{i}" for i in range(n_test)]}), root / "test.parquet")
    write_json(root / "classes.json", {"classes": classes})
    save_folds(folds, str(root / "folds.pkl"))
    out = root / "out"
    return TrainPaths(
        train_table=str(root / "train.parquet"), classes=str(root / "classes.json"),
        folds=str(root / "folds.pkl"), train_cache=train_cache,
        oof=str(out / "oof.parquet"), history=str(out / "history.csv"),
        weights=str(out / "best.pt"), checkpoint_dir=str(root / "ckpt"),
    )


def reset_outputs(paths) -> None:
    """Remove a job's outputs and checkpoints so that the next run trains from scratch."""
    shutil.rmtree(paths.checkpoint_dir, ignore_errors=True)
    shutil.rmtree(Path(paths.oof).parent, ignore_errors=True)
