"""The same DAG for multilabel images and sensor time series: tiny end-to-end runs of both demos."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from foldwise.demo import make_basicmotions_competition, make_multilabel_digits_competition
from foldwise.folds import load_folds

from .pipeline import Pipeline

pytestmark = pytest.mark.workflow

MULTILABEL = {
    "seed": 1,
    "task": "multilabel",
    "data": {"target_col": "labels", "solution": "solution.csv", "channels": 1},
    "folds": {"n_splits": 2, "seed": 0},
    "models": {"res": {"backbone": "resnet10t", "img_size": 32, "epochs": 1, "batch_size": 32, "lr": 0.003}},
    "ensembles": {"blend": {"method": "equal", "members": ["res"]}},
}

SENSOR = {
    "seed": 1,
    "data": {"kind": "timeseries", "solution": "solution.csv", "step_col": "step", "series_length": 90,
             "derived_channels": ["diff", "cumsum"]},
    "folds": {"n_splits": 2, "seed": 0},
    "models": {
        "r1d": {"backbone": "resnet1d", "epochs": 2, "batch_size": 8, "model_kwargs": {"width": 16},
                "augment": {"roll": 0.1, "noise": 0.05, "shift": 0, "rotate": 0}},
        "inc": {"backbone": "inception_time", "epochs": 2, "batch_size": 8, "model_kwargs": {"filters": 8, "depth": 3},
                "oversample": True},
    },
    "ensembles": {"blend": {"method": "hill_climb"}},
}


def test_multilabel_images_end_to_end(tiny_run, tmp_path):
    comp = tmp_path / "comp"
    make_multilabel_digits_competition(comp, n_train=160, n_test=40)
    pipe = Pipeline(tiny_run.code, tmp_path / "work", {**MULTILABEL, "data": {**MULTILABEL["data"], "dir": str(comp)}})
    pipe.snakemake()
    res = pipe.work / "results"
    train = pd.read_csv(comp / "train.csv", keep_default_na=False)
    oof = pd.read_parquet(res / "oof" / "res.parquet")
    assert list(oof.columns) == ["id", "fold", "labels", *[f"prob_{d}" for d in range(10)]]
    assert list(oof["labels"].str.replace("\t", " ")) == list(train["labels"])  # tab-joined in OOF files
    probs = oof[[f"prob_{d}" for d in range(10)]].to_numpy()
    assert ((probs >= 0) & (probs <= 1)).all() and not np.allclose(probs.sum(1), 1)  # sigmoid, not softmax
    assert len(load_folds(res / "folds" / "folds.pkl")) == 2
    sample = pd.read_csv(comp / "sample_submission.csv")
    for name in ("res", "blend"):
        sub = pd.read_csv(res / "submissions" / f"{name}.csv")
        assert list(sub.columns) == list(sample.columns) and list(sub["id"]) == list(sample["id"])
        assert set(np.unique(sub.drop(columns="id").to_numpy())) <= {0, 1}
        report = json.loads((res / "submissions" / f"{name}.json").read_text())
        assert set(report["thresholds"]) == {str(d) for d in range(10)}
        assert 0 <= report["holdout"] <= 1
    board = pd.read_csv(res / "leaderboard.csv")
    assert set(board["metric"]) == {"micro_f1"}


def test_sensor_long_csv_end_to_end(tiny_run, tmp_path):
    comp = tmp_path / "comp"
    make_basicmotions_competition(comp, lengths_jitter=True)
    pipe = Pipeline(tiny_run.code, tmp_path / "work", {**SENSOR, "data": {**SENSOR["data"], "dir": str(comp)}})
    pipe.snakemake()
    res = pipe.work / "results"
    cache = np.load(res / "cache" / "90" / "train.npy")
    assert cache.shape == (40, 90, 18) and cache.dtype == np.float32  # 6 raw + 6 diff + 6 cumsum channels
    raw = pd.read_csv(comp / "train_features.csv")
    first = raw[raw["id"] == "train_000"].sort_values("step")
    np.testing.assert_allclose(cache[0, : min(90, len(first)), 0], first["acc_x"].to_numpy()[:90], rtol=1e-6)
    oof = pd.read_parquet(res / "oof" / "r1d.parquet")
    assert list(oof.columns[:3]) == ["id", "fold", "label"] and len(oof) == 40
    sub = pd.read_csv(res / "submissions" / "blend.csv")
    assert set(sub["label"]) <= {"Badminton", "Running", "Standing", "Walking"}
    board = pd.read_csv(res / "leaderboard.csv")
    assert set(board["name"]) == {"r1d", "inc", "blend"}
