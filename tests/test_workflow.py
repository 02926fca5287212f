"""Runs the real Snakefile end to end on a tiny config and checks every contract output."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from foldwise.folds import load_folds
from foldwise.io import sha256_file

from .conftest import REPO

pytestmark = pytest.mark.workflow


def test_contract_outputs(tiny_run, digits_dir):
    res = tiny_run.work / "results"
    train = pd.read_csv(digits_dir / "train.csv")
    sample = pd.read_csv(digits_dir / "sample_submission.csv")

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
        assert list(test["id"]) == list(sample["id"])
        history = pd.read_csv(res / "models" / name / "fold0" / "history.csv")
        assert list(history["epoch"]) == [1]
        manifest = json.loads((res / "models" / name / "manifest.json").read_text())
        assert manifest["settings"]["model"] == name
        assert manifest["versions"]["torch"] and manifest["folds"][0]["device"] == "cpu"

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
    assert {"name", "kind", "metric", "cv", "cv_honest", "fold_0", "fold_1", "holdout"} <= set(board.columns)
    assert board["cv_honest"].is_monotonic_decreasing  # ranked by the honest CV
    assert board["holdout"].between(0, 1).all()
    assert (board["folds_sha256"] == sha256_file(res / "folds" / "folds.pkl")[:12]).all()
    assert board["config_sha256"].str.fullmatch(r"[0-9a-f]{12}").all()
    assert board["config_sha256"].nunique() == 4


def test_lint_passes(digits_dir):
    # The plan-time checks need the config's data: point data.dir at the test folder.
    cmd = [sys.executable, "-m", "snakemake", "--lint", "--config", f"data={{dir: {digits_dir}}}"]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_snakefmt_check_passes():
    snakefmt = os.path.join(os.path.dirname(sys.executable), "snakefmt")
    proc = subprocess.run([snakefmt, "--check", "."], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_make_lint_runs_the_makefiles_snakemake_command():
    """`make lint` uses the same $(SNAKEMAKE) command line as `make demo`."""
    prefix = os.path.dirname(os.path.dirname(sys.executable))
    proc = subprocess.run(
        ["make", f"VENV={prefix}", "-o", f"{prefix}/.installed", "lint"], cwd=REPO, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
