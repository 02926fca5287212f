"""The torch-free job layer shared by nets and classic families: paths, seeds, inputs, writers, standardisation."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import FrozenInstanceError

import numpy as np
import pandas as pd
import pytest

from foldwise.folds import save_folds
from foldwise.io import read_parquet_metadata, write_json, write_parquet
from foldwise.jobs.data import fold_split, read_labelled
from foldwise.jobs.paths import PredictPaths, TrainPaths
from foldwise.jobs.scaling import CHANNELS, Standardiser
from foldwise.jobs.seeds import derive_seed, job_seed
from foldwise.jobs.writers import job_meta, write_oof, write_test
from foldwise.tasks import get_task

from .pipeline import REPO


def test_importing_the_job_layer_leaves_torch_out():
    code = ("import sys, foldwise.jobs.paths, foldwise.jobs.seeds, foldwise.jobs.data, foldwise.jobs.writers, "
            "foldwise.jobs.scaling, foldwise.classic.fit, foldwise.classic.refit; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "False"


# ----- paths -----


def test_one_train_paths_shape_serves_fold_jobs_and_refits():
    fold = TrainPaths("t.parquet", "c.json", "f.pkl", "x.npy", "oof.parquet", "h.csv", "best.pt", "ckpt")
    assert fold.checkpoint_dir == "ckpt" and fold.teacher is None and fold.test is None and fold.fold_runs == ()
    refit = TrainPaths(train_table="t.parquet", classes="c.json", folds="f.pkl", train_cache="x.npy", oof=None,
                       history=None, weights="best.pt", test_cache="y.npy", test_table="test.parquet",
                       test="refit.parquet", fold_runs=("m0.json", "m1.json"))
    assert refit.oof is None and refit.fold_runs == ("m0.json", "m1.json")
    with pytest.raises(FrozenInstanceError):
        fold.oof = "other"  # type: ignore[misc]


def test_predict_paths_read_the_training_cache_only_for_nets():
    classic = PredictPaths(weights="w", classes="c", folds="f", test_cache="y", test_table="t", test="o")
    assert classic.train_cache is None and classic.train_table is None
    net = PredictPaths(weights="w", classes="c", folds="f", test_cache="y", test_table="t", test="o", train_cache="x")
    assert net.train_cache == "x"


# ----- seeds -----


def test_derive_seed_is_stable_and_31_bit():
    assert derive_seed(1, "rocket", 0) == 479416313  # pinned: a change would re-seed every saved run
    assert derive_seed(1, "rocket", 0) != derive_seed(1, "rocket", 1)
    assert all(0 <= derive_seed(s, "m", f) < 2**31 for s in range(20) for f in range(5))


def test_job_seed_adds_the_replica_only_beyond_zero():
    assert job_seed(1, "m", 0) == job_seed(1, "m", 0, 0) == derive_seed(1, "m", 0)
    assert job_seed(1, "m", 0, 2) == derive_seed(1, "m", 0, 2)
    assert job_seed(1, "m", "refit") == derive_seed(1, "m", "refit")


# ----- inputs -----


@pytest.fixture
def labelled(tmp_path):
    table = pd.DataFrame({"id": [f"r{i}" for i in range(6)], "label": list("abcabc")})
    write_parquet(table, tmp_path / "train.parquet")
    write_json(tmp_path / "classes.json", {"classes": ["a", "b", "c"]})
    np.save(tmp_path / "train.npy", np.arange(6 * 4, dtype=np.float32).reshape(6, 4))
    save_folds([(np.array([0, 1, 2, 3]), np.array([4, 5])), (np.array([2, 3, 4, 5]), np.array([0, 1]))],
               str(tmp_path / "folds.pkl"))
    return TrainPaths(str(tmp_path / "train.parquet"), str(tmp_path / "classes.json"), str(tmp_path / "folds.pkl"),
                      str(tmp_path / "train.npy"), str(tmp_path / "oof.parquet"), None, str(tmp_path / "best.pt"))


def test_read_labelled_and_fold_split(labelled, tmp_path):
    classes, table, y, data = read_labelled(labelled, get_task("multiclass"))
    assert classes == ["a", "b", "c"] and list(y) == [0, 1, 2, 0, 1, 2] and data.shape == (6, 4)
    tr, va = fold_split(labelled.folds, 1)
    assert list(va) == [0, 1]
    with pytest.raises(IndexError, match="fold 2 does not exist"):
        fold_split(labelled.folds, 2)
    np.save(tmp_path / "train.npy", np.zeros((5, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="5 rows but the table has 6"):
        read_labelled(labelled, get_task("multiclass"))


# ----- writers -----


def test_job_meta_keeps_its_order_and_writes_a_replica_only_beyond_zero():
    assert list(job_meta("f", "c", "m", 0, select_epoch="best")) == [
        "folds_sha256", "config_sha256", "model", "fold", "select_epoch"]
    assert job_meta("f", "c", "m", "refit", replica=2) == {
        "folds_sha256": "f", "config_sha256": "c", "model": "m", "fold": "refit", "replica": "2"}


def test_write_oof_columns_and_metadata(labelled, tmp_path):
    table = pd.read_parquet(labelled.train_table)
    va = np.array([4, 5])
    probs = np.array([[0.2, 0.7, 0.1], [0.1, 0.1, 0.8]], dtype=np.float32)
    meta = job_meta("f", "c", "m", 0, select_epoch="best")
    write_oof(labelled.oof, table, va, 0, "label", ["a", "b", "c"], probs, meta, probs * 0 + 1 / 3, plain=probs)
    oof = pd.read_parquet(labelled.oof)
    assert list(oof.columns[:4]) == ["row", "id", "fold", "label"]
    assert list(oof["id"]) == ["r4", "r5"] and list(oof["label"]) == ["b", "c"]
    assert [c for c in oof.columns if c.startswith("plain_prob_")] == ["plain_prob_a", "plain_prob_b", "plain_prob_c"]
    np.testing.assert_array_equal(oof[["prob_a", "prob_b", "prob_c"]].to_numpy(), probs)
    assert read_parquet_metadata(labelled.oof) == meta
    write_oof(labelled.oof, table, va, 0, "label", ["a", "b", "c"], probs, meta, probs)
    assert not any(c.startswith("plain_prob_") for c in pd.read_parquet(labelled.oof).columns)


def test_write_test_in_table_order_and_refuses_a_length_mismatch(tmp_path):
    write_parquet(pd.DataFrame({"id": ["t1", "t0"]}), tmp_path / "test.parquet")
    probs = np.array([[0.9, 0.1], [0.3, 0.7]])
    out = write_test(str(tmp_path / "p.parquet"), probs, ["a", "b"], str(tmp_path / "test.parquet"), "test.npy",
                     {"model": "m"})
    back = pd.read_parquet(tmp_path / "p.parquet")
    assert list(back.columns) == ["id", "prob_a", "prob_b"] and list(back["id"]) == ["t1", "t0"]
    pd.testing.assert_frame_equal(back, out)
    with pytest.raises(ValueError, match="test.npy has 1 rows but the test table has 2"):
        write_test(str(tmp_path / "q.parquet"), probs[:1], ["a", "b"], str(tmp_path / "test.parquet"), "test.npy", {})


# ----- standardisation -----


def test_standardiser_learns_per_column_statistics_in_float64(rng):
    x = rng.normal(3.0, 2.0, size=(50, 4)).astype(np.float32)
    x[:, 2] = 5.0  # constant: centred only
    s = Standardiser().fit(x)
    assert s.mean_.dtype == np.float64 and s.scale_.dtype == np.float64
    np.testing.assert_array_equal(s.mean_, x.astype(np.float64).mean(0))
    assert s.scale_[2] == 1.0
    out = s.transform(x)
    assert out.dtype == np.float32 and out.shape == x.shape
    np.testing.assert_allclose(out[:, [0, 1, 3]].mean(0), 0, atol=1e-6)
    np.testing.assert_allclose(out[:, [0, 1, 3]].std(0), 1, atol=1e-5)


def test_series_statistics_pool_every_step_of_a_channel(rng):
    x = rng.normal(size=(6, 20, 3)).astype(np.float32)
    s = Standardiser(**CHANNELS).fit(x)
    pooled = x.astype(np.float64).reshape(-1, 3)
    np.testing.assert_array_equal(s.mean_, pooled.mean(0))
    np.testing.assert_array_equal(s.scale_, pooled.std(0))
    assert s.transform(x).shape == (6, 20, 3)
    assert set(s.arrays()) == {"mean", "std"}  # the key classic states have always saved


@pytest.mark.parametrize("params", [{}, CHANNELS])
def test_standardiser_round_trip(rng, params):
    x = rng.normal(size=(30, 5))
    s = Standardiser(**params).fit(x)
    back = Standardiser.restore({k: v.copy() for k, v in s.arrays().items()}, **params)
    np.testing.assert_array_equal(back.transform(x), s.transform(x))
    assert back.arrays().keys() == s.arrays().keys()


def test_thresholds_differ_as_before():
    x = np.array([[0.0], [2e-9]])  # std 1e-9: above the features' 1e-12, below the channels' 1e-8
    assert Standardiser().fit(x).scale_[0] == pytest.approx(1e-9)
    assert Standardiser(**CHANNELS).fit(x).scale_[0] == 1.0
