"""select_epoch: best (optimistic), last (a fixed epoch count) and inner (the epoch picked on an inner split);
each fold records its last epoch too, and gather reports the CV at the selected and at the last epoch."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from foldwise.folds import save_folds
from foldwise.io import read_parquet_metadata, write_json, write_parquet
from foldwise.jobs.paths import TrainPaths
from foldwise.metrics import get_metric
from foldwise.models.sequence import SEQUENCE_MODELS
from foldwise.oof import gather_model
from foldwise.train import fold as fold_module
from foldwise.train.fold import train_fold
from foldwise.train.inputs import create_inputs
from foldwise.train.selection import inner_split
from foldwise.train.settings import TrainConfig

from .test_training import _MeanLinear

torch.set_num_threads(1)
CLASSES = ["c0", "c1", "c2"]


@pytest.fixture(autouse=True)
def mean_linear(monkeypatch):
    monkeypatch.setitem(SEQUENCE_MODELS, "mean_linear", _MeanLinear)


def _data(root, n=120, signal=0.0, seed=0):
    """A job's inputs as the pipeline lays them out; 2 folds. ``signal`` 0: labels unrelated to the series."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    x = (rng.normal(size=(3, 4))[y][:, None, :] * signal + rng.normal(size=(n, 5, 4))).astype(np.float32)
    folds = [(np.flatnonzero(np.arange(n) % 2 == 1), np.flatnonzero(np.arange(n) % 2 == 0)),
             (np.flatnonzero(np.arange(n) % 2 == 0), np.flatnonzero(np.arange(n) % 2 == 1))]
    root.mkdir(parents=True, exist_ok=True)
    write_parquet(pd.DataFrame({"row": np.arange(n), "id": [f"r{i}" for i in range(n)],
                                "label": [CLASSES[v] for v in y]}), root / "train.parquet")
    write_json(root / "classes.json", {"classes": CLASSES})
    save_folds(folds, str(root / "folds.pkl"))
    np.save(root / "train.npy", x)
    return x, y, folds


def _paths(root, fold=0) -> TrainPaths:
    out = root / f"fold{fold}"
    return TrainPaths(
        train_table=str(root / "train.parquet"), classes=str(root / "classes.json"), folds=str(root / "folds.pkl"),
        train_cache=str(root / "train.npy"), oof=str(out / "oof.parquet"), history=str(out / "history.csv"),
        weights=str(out / "best.pt"), checkpoint_dir=str(root / "ckpt" / f"fold{fold}"),
    )


def _cfg(**kw) -> TrainConfig:
    base = dict(model="m", backbone="mean_linear", epochs=12, batch_size=8, lr=0.3, warmup_epochs=0,
                weight_decay=0.0, kind="timeseries", augment={"scale": 0.0}, metric="accuracy")
    return TrainConfig(**{**base, **kw})


def _probs(df, prefix="prob_"):
    return df[[f"{prefix}{c}" for c in CLASSES]].to_numpy()


def _gather(root, cfg, n=120):
    """Train both folds and gather them; returns the model's scores."""
    tests = []
    for k in (0, 1):
        train_fold(cfg, _paths(root, k), k, "label")
        meta = read_parquet_metadata(_paths(root, k).oof)
        test = pd.DataFrame({"id": ["t0"], **{f"prob_{c}": [1 / 3] for c in CLASSES}})
        write_parquet(test, root / f"test{k}.parquet", {m: meta[m] for m in ("folds_sha256", "config_sha256")})
        tests.append(str(root / f"test{k}.parquet"))
    out = root / "gathered"
    return gather_model("m", [_paths(root, k).oof for k in (0, 1)], tests, str(root / "folds.pkl"), n, CLASSES,
                        "label", "accuracy", str(out / "oof.parquet"), str(out / "test.parquet"), str(out / "scores.json"))


def test_picking_the_best_epoch_on_the_validation_rows_is_optimistic_and_the_leaderboard_shows_it(tmp_path):
    # Labels unrelated to the series, 40 validation rows per fold: every honest CV is chance (1/3);
    # the best of 20 epochs, picked on the rows it is scored on, is not.
    cfg = _cfg(epochs=20, lr=0.5)
    _data(tmp_path / "best", n=80)
    picked = _gather(tmp_path / "best", cfg, n=80)
    assert picked["select_epoch"] == "best" and picked["honest_by"] == "last_epoch"
    assert picked["cv"] > picked["cv_last_epoch"] + 0.05  # the optimism of picking epochs on the scored rows
    assert picked["cv_honest"] == picked["cv_last_epoch"] and abs(picked["cv_last_epoch"] - 1 / 3) < 0.06
    _data(tmp_path / "inner", n=80)
    inner = _gather(tmp_path / "inner", replace(cfg, select_epoch="inner"), n=80)
    assert inner["honest_by"] == "inner_split" and inner["cv_honest"] == inner["cv"]
    assert abs(inner["cv"] - 1 / 3) < 0.06 and picked["cv"] > inner["cv"] + 0.05
    _data(tmp_path / "last", n=80)
    last = _gather(tmp_path / "last", replace(cfg, select_epoch="last"), n=80)
    assert last["honest_by"] == "fixed_epochs" and last["cv"] == last["cv_last_epoch"] == last["cv_honest"]
    oof = pd.read_parquet(tmp_path / "last" / "gathered" / "oof.parquet")
    assert list(oof.columns) == ["id", "fold", "label", *[f"prob_{c}" for c in CLASSES]]  # the public file is unchanged


def test_last_keeps_the_last_epoch_and_records_it(tmp_path):
    x, y, folds = _data(tmp_path, signal=1.0)
    paths = _paths(tmp_path)
    summary = train_fold(_cfg(select_epoch="last", epochs=5), paths, 0, "label")
    hist = pd.read_csv(paths.history)
    assert summary["best_epoch"] == 5 and summary["select_epoch"] == "last" and len(hist) == 5
    oof = pd.read_parquet(paths.oof)
    np.testing.assert_array_equal(_probs(oof), _probs(oof, "last_epoch_"))
    y_va = y[folds[0][1]]
    assert get_metric("log_loss")(y_va, _probs(oof)) == pytest.approx(hist["valid_loss"].iloc[-1], rel=1e-6)
    last = torch.load(tmp_path / "ckpt" / "fold0" / "last.pt", weights_only=True)["model"]
    best = torch.load(paths.weights, weights_only=True)
    assert all(torch.equal(last[k], best[k]) for k in last)


def test_best_records_the_last_epoch_beside_the_selected_one(tmp_path):
    x, y, folds = _data(tmp_path)
    paths = _paths(tmp_path)
    summary = train_fold(_cfg(), paths, 0, "label")
    hist = pd.read_csv(paths.history)
    assert summary["best_epoch"] < 12  # noise: an early epoch happened to score best
    oof, y_va, ll = pd.read_parquet(paths.oof), y[folds[0][1]], get_metric("log_loss")
    assert ll(y_va, _probs(oof)) == pytest.approx(hist["valid_loss"].iloc[summary["best_epoch"] - 1], rel=1e-6)
    assert ll(y_va, _probs(oof, "last_epoch_")) == pytest.approx(hist["valid_loss"].iloc[-1], rel=1e-6)


def test_inner_picks_the_epoch_on_held_out_training_rows_and_predicts_the_validation_rows_once(tmp_path, monkeypatch):
    x, y, folds = _data(tmp_path, signal=0.5)
    tr, va = folds[0]
    predicted, trained = [], []
    real_views, real_epoch = fold_module.predict_views, fold_module.train_one_epoch
    monkeypatch.setattr(fold_module, "predict_views", lambda net, inputs, rows, *a: predicted.append(np.asarray(rows))
                        or real_views(net, inputs, rows, *a))
    monkeypatch.setattr(fold_module, "train_one_epoch", lambda net, inputs, batches, *a, **k: trained.extend(batches)
                        or real_epoch(net, inputs, batches, *a, **k))
    paths = _paths(tmp_path)
    cfg = _cfg(select_epoch="inner", inner_fraction=0.25, patience=3, epochs=30)
    summary = train_fold(cfg, paths, 0, "label")
    held = predicted[0]
    assert all(np.array_equal(p, held) for p in predicted[:-2])  # every epoch is judged on the same rows
    assert len(predicted) == summary["epochs_run"] + 2  # then the validation rows: at the last and the chosen epoch
    assert np.array_equal(predicted[-1], va) and np.array_equal(predicted[-2], va)
    assert set(held) <= set(tr) and len(held) == 15  # a quarter of the 60 training rows ...
    assert np.bincount(y[held], minlength=3).tolist() == [5, 5, 5]  # ... stratified by class
    assert not set(np.concatenate(trained)) & set(held)  # and never trained on
    assert summary["epochs_run"] < 30  # early stopping on the inner rows
    # the OOF is the chosen epoch's weights on the validation rows
    model = _MeanLinear(4, 3)
    model.load_state_dict(torch.load(paths.weights, weights_only=True))
    inputs = create_inputs("timeseries", np.load(tmp_path / "train.npy"), model, torch.device("cpu"), {"scale": 0.0}, tr)
    oof = pd.read_parquet(paths.oof)
    np.testing.assert_allclose(_probs(oof), real_views(model, inputs, va, 256)[0], rtol=1e-5)
    assert (oof["row"].to_numpy() == va).all()
    # a finished job run again (e.g. --forcerun) resumes from its last checkpoint and writes the same OOF
    monkeypatch.setattr(fold_module, "predict_views", real_views)
    train_fold(cfg, paths, 0, "label")
    pd.testing.assert_frame_equal(pd.read_parquet(paths.oof), oof)


def test_inner_split_is_seeded_stratified_and_respects_groups():
    y = np.repeat([0, 1, 2], 20)
    rows = np.arange(60)
    a = inner_split(y, rows, 0.2, seed=1)
    assert np.array_equal(a[0], inner_split(y, rows, 0.2, seed=1)[0])
    assert not np.array_equal(a[1], inner_split(y, rows, 0.2, seed=2)[1])
    assert np.bincount(y[a[1]]).tolist() == [4, 4, 4] and sorted(np.concatenate(a)) == list(rows)
    groups = rows // 6
    fit, held = inner_split(y, rows, 0.3, seed=0, groups=groups)
    assert not set(groups[fit]) & set(groups[held])
    ml = (np.random.default_rng(0).random((60, 4)) < 0.4).astype(np.float32)
    fit, held = inner_split(ml, rows, 0.25, seed=0)
    assert len(held) == 15 and abs(ml[held].mean(0) - ml.mean(0)).max() < 0.1
    single = np.array([0] * 19 + [1])  # a class with one row: a plain shuffle
    assert len(inner_split(single, np.arange(20), 0.2, seed=0)[1]) == 4
