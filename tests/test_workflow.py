"""Runs the real Snakefile end to end on a tiny config and checks every contract output."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from foldwise.folds import load_folds

from .conftest import REPO

pytestmark = pytest.mark.workflow

TINY = {
    "seed": 1,
    "metric": "accuracy",
    "data": {"solution": "solution.csv", "channels": 1},
    "folds": {"scheme": "stratified", "n_splits": 2, "seed": 0},
    "models": {
        "res": {"backbone": "resnet10t", "img_size": 16, "epochs": 1, "batch_size": 32, "lr": 0.003},
        "cnx": {"backbone": "test_convnext", "img_size": 32, "epochs": 1, "batch_size": 32, "lr": 0.003},
    },
    "ensembles": {"blend": {"method": "optimize"}, "hill": {"method": "hill_climb", "members": ["res", "cnx"]}},
}


def snakemake(workdir, *args, check=True):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_WAIT_POLICY": "PASSIVE"}
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(workdir / "config.yaml"), "--cores", "2", "--resources", "gpu=1", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
    return proc


@pytest.fixture(scope="module")
def finished_run(digits_dir, tmp_path_factory):
    work = tmp_path_factory.mktemp("run")
    cfg = {**TINY, "data": {**TINY["data"], "dir": str(digits_dir)}}
    (work / "config.yaml").write_text(yaml.safe_dump(cfg))
    snakemake(work)
    return work, digits_dir


def test_contract_outputs(finished_run):
    work, comp = finished_run
    res = work / "results"
    train = pd.read_csv(comp / "train.csv")
    sample = pd.read_csv(comp / "sample_submission.csv")

    folds = load_folds(res / "folds" / "folds.pkl")
    assert len(folds) == 2

    prob_cols = [f"prob_{c}" for c in range(10)]
    for name in ("res", "cnx"):
        oof = pd.read_parquet(res / "oof" / f"{name}.parquet")
        assert list(oof.columns) == ["id", "fold", "label", *prob_cols]
        assert list(oof["id"]) == list(train["id"])  # every train row exactly once, in order
        assert list(oof["label"].astype(int)) == list(train["label"])
        np.testing.assert_allclose(oof[prob_cols].sum(axis=1), 1, atol=1e-4)
        for k, (_, va) in enumerate(folds):
            assert (oof["fold"].to_numpy()[va] == k).all()
        test = pd.read_parquet(res / "test" / f"{name}.parquet")
        assert list(test.columns) == ["id", *prob_cols]
        assert set(test["id"]) == set(sample["id"])
        history = pd.read_csv(res / "models" / name / "fold0" / "history.csv")
        assert list(history["epoch"]) == [1]

    for ens in ("blend", "hill"):
        d = res / "ensembles" / ens
        weights = json.loads((d / "weights.json").read_text())
        assert set(weights["weights"]) == {"res", "cnx"}
        assert sum(weights["weights"].values()) == pytest.approx(1.0)
        assert len(pd.read_parquet(d / "oof.parquet")) == len(train)
        assert len(pd.read_parquet(d / "test.parquet")) == len(sample)

    for name in ("res", "cnx", "blend", "hill"):
        sub = pd.read_csv(res / "submissions" / f"{name}.csv")
        assert list(sub.columns) == list(sample.columns)
        assert list(sub["id"]) == list(sample["id"])
        assert sub["label"].between(0, 9).all()

    board = pd.read_csv(res / "leaderboard.csv")
    assert set(board["name"]) == {"res", "cnx", "blend", "hill"}
    assert {"name", "kind", "metric", "cv", "fold_0", "fold_1", "holdout"} <= set(board.columns)
    assert board["cv"].is_monotonic_decreasing
    assert board["holdout"].between(0, 1).all()


def test_nothing_to_do_after_a_finished_run(finished_run):
    work, _ = finished_run
    proc = snakemake(work, "-n")
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_lint_passes():
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--lint"], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_snakefmt_check_passes():
    snakefmt = os.path.join(os.path.dirname(sys.executable), "snakefmt")
    proc = subprocess.run([snakefmt, "--check", "."], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
