"""Gather a model's per-fold predictions into its OOF and test files, with CV scores.

OOF file (``results/oof/{model}.parquet``): ``id, fold, <target>, prob_<class>...``,
one row per training row in training-table order (each fold at its selected
epoch; the last epoch's predictions, which the fold files also carry, are only
scored: ``cv_last_epoch`` in the scores). Test file
(``results/test/{model}.parquet``): ``id, prob_<class>...``, the mean over folds.
Both carry the SHA-256 of ``folds.pkl`` and of the model's config in their
parquet metadata.

A model with test-time augmentation also writes its plain (identity view)
probabilities in its fold files, as ``plain_prob_<class>`` columns: the gather
scores them as ``cv_no_tta`` (the leaderboard's column of the same name) and
leaves them out of the model's OOF file, whose columns stay the public contract.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from foldwise.errors import FoldwiseError
from foldwise.io import read_json, read_parquet_metadata, sha256_file, write_json, write_parquet
from foldwise.metrics import get_metric
from foldwise.tasks import get_task

log = logging.getLogger(__name__)


PLAIN = "plain_"  # prefix of the probability columns without test-time augmentation, in fold files


def prob_columns(df: pd.DataFrame) -> list[str]:
    """The ``prob_<class>`` columns of a prediction table, in order."""
    return [c for c in df.columns if c.startswith("prob_")]


def plain_scores(oof: pd.DataFrame, target_col: str, classes: list[str], metric_name: str, task: str) -> dict:
    """``cv_no_tta`` and ``folds_no_tta``: the scores of the ``plain_prob_`` columns (of ``prob_`` without them)."""
    plain = [f"{PLAIN}{c}" for c in prob_columns(oof)]
    view = oof
    if all(c in oof.columns for c in plain):
        view = oof[["fold", target_col]].join(oof[plain].rename(columns=lambda c: c.removeprefix(PLAIN)))
    scores = fold_scores(view, target_col, classes, metric_name, task)
    return {"cv_no_tta": scores["cv"], "folds_no_tta": scores["folds"]}


def fold_scores(
    oof: pd.DataFrame, target_col: str, classes: list[str], metric_name: str, task: str = "multiclass"
) -> dict:
    """Overall and per-fold score of an OOF table."""
    metric = get_metric(metric_name, task)
    y = get_task(task).encode(oof[target_col], classes)
    probs = oof[prob_columns(oof)].to_numpy()
    folds = oof["fold"].to_numpy()
    per_fold = [metric(y[folds == k], probs[folds == k]) for k in np.unique(folds)]
    return {"metric": metric_name, "task": task, "cv": metric(y, probs), "folds": per_fold}


# select_epoch -> where the model's honest CV comes from (see foldwise.leaderboard.HONEST_BY)
HONEST_BY = {"best": "last_epoch", "last": "fixed_epochs", "inner": "inner_split"}
LAST_PREFIX = "last_epoch_"  # the fold files' columns of the last epoch's probabilities


def _last_epoch_scores(oof, target_col, classes, metric, task) -> dict:
    """``cv_last_epoch`` and ``folds_last_epoch``: the scores of each fold's last epoch (empty without them)."""
    last_cols = [c for c in oof.columns if c.startswith(LAST_PREFIX)]
    if not last_cols:  # fold files written before the last epoch was recorded
        return {}
    last = oof.drop(columns=prob_columns(oof)).rename(columns={c: "prob_" + c[len(LAST_PREFIX):] for c in last_cols})
    at_last = fold_scores(last, target_col, classes, metric, task)
    return {"cv_last_epoch": at_last["cv"], "folds_last_epoch": at_last["folds"]}


def _check_files(name: str, paths: list[str], folds_sha: str) -> list[dict]:
    """The metadata of a model's fold (or refit) files, checked for one folds.pkl and one config."""
    metas = [read_parquet_metadata(p) for p in paths]
    stale = [p for p, m in zip(paths, metas) if m.get("folds_sha256") != folds_sha]
    if stale:
        raise FoldwiseError(f"{stale[0]} was trained on a different folds.pkl; re-run its train job")
    if len({m.get("config_sha256") for m in metas}) != 1:
        raise FoldwiseError(f"the fold files of model '{name}' come from different configs; re-run its train jobs")
    return metas


def _seed_oof(name: str, fold_oofs: list[str], n_train: int) -> pd.DataFrame:
    """One seed's OOF table from its fold files, in training-table order (the ``row`` column dropped)."""
    oof = pd.concat([pd.read_parquet(p) for p in fold_oofs], ignore_index=True)
    counts = np.bincount(oof["row"].to_numpy(), minlength=n_train)
    if len(counts) != n_train or (counts != 1).any():
        raise FoldwiseError(
            f"model '{name}': {(counts == 0).sum()} training row(s) have no OOF prediction and "
            f"{(counts > 1).sum()} have several; every row must be predicted exactly once"
        )
    return oof.sort_values("row").drop(columns="row").reset_index(drop=True)


def _mean_over_seeds(name: str, oofs: list[pd.DataFrame]) -> pd.DataFrame:
    """The seeds' OOF tables averaged: every probability column (selected, last epoch, plain) is the mean."""
    first = oofs[0]
    for o in oofs[1:]:
        if list(o.columns) != list(first.columns) or not o["id"].equals(first["id"]) or not o["fold"].equals(first["fold"]):
            raise FoldwiseError(f"model '{name}': its seeds' OOF files list other rows, folds or columns")
    cols = [c for c in first.columns if c.startswith(("prob_", LAST_PREFIX, PLAIN))]
    out = first.copy()
    out[cols] = np.mean([o[cols].to_numpy(dtype=np.float64) for o in oofs], axis=0).astype(first[cols[0]].dtype)
    return out


def _oof_scores(oof: pd.DataFrame, select_epoch: str, target_col, classes, metric, task) -> tuple[pd.DataFrame, dict]:
    """The public OOF table (probabilities of the selected epoch, with TTA) and its scores."""
    last_scores = _last_epoch_scores(oof, target_col, classes, metric, task)
    oof = oof.drop(columns=[c for c in oof.columns if c.startswith(LAST_PREFIX)])
    no_tta = plain_scores(oof, target_col, classes, metric, task)
    oof = oof.drop(columns=[c for c in oof.columns if c.startswith(PLAIN)])
    scores = {**fold_scores(oof, target_col, classes, metric, task), **no_tta, **last_scores}
    scores.update(select_epoch=select_epoch, honest_by=HONEST_BY[select_epoch])
    scores["cv_honest"] = scores.get("cv_last_epoch") if select_epoch == "best" else scores["cv"]
    return oof, scores


def mean_test(name: str, paths: list[str]) -> pd.DataFrame:
    """The mean of test prediction files (``id, prob_<class>...``), float32 probabilities."""
    tests = [pd.read_parquet(p) for p in paths]
    for t in tests[1:]:
        if not t["id"].equals(tests[0]["id"]):
            raise FoldwiseError(f"model '{name}': the folds' test predictions list different ids")
    cols = prob_columns(tests[0])
    test = tests[0][["id"]].copy()
    test[cols] = np.mean([t[cols].to_numpy(dtype=np.float64) for t in tests], axis=0).astype(np.float32)
    return test


# models.<name>.refit -> the test predictions a model submits (the leaderboard's test_from)
TEST_FROM = {"none": "folds", "full": "refit", "blend": "folds+refit"}


def _submitted_test(name: str, fold_tests: list[str], refit_tests: list[str], refit: str) -> pd.DataFrame:
    """The model's test predictions: the folds' mean, the refits' mean (full) or half each (blend)."""
    folds = mean_test(name, fold_tests)
    if refit == "none":
        return folds
    if len(refit_tests) == 0:
        raise FoldwiseError(f"model '{name}': refit {refit} but no refit test predictions were given")
    refits = mean_test(name, refit_tests)
    if not refits["id"].equals(folds["id"]):
        raise FoldwiseError(f"model '{name}': the refit's test predictions list other ids than the folds'")
    if refit == "full":
        return refits
    cols = prob_columns(folds)
    blend = (folds[cols].to_numpy(dtype=np.float64) + refits[cols].to_numpy(dtype=np.float64)) / 2
    folds[cols] = blend.astype(np.float32)
    return folds


def _seed_spread(per_seed: list[dict]) -> dict:
    """Per-seed CVs and the spread of the honest CV over the seeds (sample standard deviation)."""
    honest = [s["cv_honest"] for s in per_seed]
    return {"seeds": len(per_seed), "cv_seeds": [s["cv"] for s in per_seed], "cv_honest_seeds": honest,
            "folds_seeds": [s["folds"] for s in per_seed],
            "cv_seed_std": float(np.std(honest, ddof=1)) if len(honest) > 1 else 0.0}


def gather_model(
    name: str,
    fold_oofs: list[str],
    fold_tests: list[str],
    folds_path: str,
    n_train: int,
    classes: list[str],
    target_col: str,
    metric: str,
    out_oof: str,
    out_test: str,
    out_scores: str,
    task: str = "multiclass",
    weights: str | None = None,
    seeds: int = 1,
    refit: str = "none",
    refit_tests: list[str] = (),
    pseudo_source: str | None = None,
) -> dict:
    """Combine one model's fold outputs (of every seed) and its refits' test predictions.

    Args:
        fold_oofs, fold_tests: seed-major, ``seeds`` x folds files (``models.<name>.seeds``).
        seeds: how many seeds; the OOF and test predictions are their mean, the scores gain each seed's CV.
        refit: ``models.<name>.refit``: which test predictions the model submits (:data:`TEST_FROM`).
        refit_tests: one refit test file per seed (refit full or blend).
        pseudo_source: a student's ``pseudo.source``, recorded in the scores; None for other models.

    ``weights`` (the leaderboard's cell for what the model started from) is copied into the scores.

    Raises:
        FoldwiseError: a fold file made on another split, or rows predicted never or twice.
    """
    folds_sha = sha256_file(folds_path)
    if len(fold_oofs) % seeds or len(fold_tests) != len(fold_oofs):
        raise FoldwiseError(f"model '{name}': {len(fold_oofs)} OOF and {len(fold_tests)} test files for {seeds} seeds")
    metas = _check_files(name, [*fold_oofs, *fold_tests, *refit_tests], folds_sha)
    n_folds = len(fold_oofs) // seeds
    select_epoch = metas[0].get("select_epoch", "best")
    seed_oofs = [_seed_oof(name, fold_oofs[s * n_folds : (s + 1) * n_folds], n_train) for s in range(seeds)]
    oof = seed_oofs[0] if seeds == 1 else _mean_over_seeds(name, seed_oofs)
    oof, oof_scores = _oof_scores(oof, select_epoch, target_col, classes, metric, task)
    test = _submitted_test(name, fold_tests, list(refit_tests), refit)
    meta = {"folds_sha256": folds_sha, "config_sha256": metas[0].get("config_sha256"), "model": name}
    write_parquet(oof, out_oof, meta)
    write_parquet(test, out_test, {**meta, **({"test_from": TEST_FROM[refit]} if refit != "none" else {})})
    scores = {"name": name, "kind": "model", **oof_scores, **meta}
    if seeds > 1:
        scores.update(_seed_spread([_oof_scores(o, select_epoch, target_col, classes, metric, task)[1]
                                    for o in seed_oofs]))
    if refit != "none":
        scores["test_from"] = TEST_FROM[refit]
    if pseudo_source is not None:
        scores["pseudo_source"] = pseudo_source
    if weights is not None:
        scores["weights"] = weights
    write_json(out_scores, scores)
    log.info("%s: CV %s %.5f (folds: %s; without TTA %.5f); at the last epoch %s%s; test from %s", name, metric,
             scores["cv"], ", ".join(f"{s:.4f}" for s in scores["folds"]), scores["cv_no_tta"],
             scores.get("cv_last_epoch"), f"; {seeds} seeds, honest CV std {scores['cv_seed_std']:.5f}"
             if seeds > 1 else "", TEST_FROM[refit])
    return scores


RUN_KEYS = ("device", "select_epoch", "best_epoch", "best_score", "epochs_run", "train_seconds", "wall_seconds",
            "samples_per_second", "peak_gpu_memory_mb")


def write_model_manifest(run_files: list[str], out: str, seeds: int = 1, refit_files: list[str] = ()) -> dict:
    """Merge the folds' run records into the model's manifest.

    The manifest holds the resolved settings, package versions, git commit, the weights the model
    started from (:func:`foldwise.runtime.weights.weights_record`) and,
    per fold, the device, epochs run, best epoch and training speed; with several
    seeds, ``seed_folds`` holds the same for seeds 1.. (seed-major ``run_files``);
    with refits, ``refits`` their summaries (rows, seconds, the epochs derived from the folds).
    """
    runs = [read_json(p) for p in run_files]
    n_folds = len(runs) // seeds
    extra = {}
    if seeds > 1:
        extra["seed_folds"] = [[{k: r.get(k) for k in RUN_KEYS} for r in runs[s * n_folds : (s + 1) * n_folds]]
                               for s in range(1, seeds)]
    if refit_files:
        extra["refits"] = [{k: v for k, v in read_json(p).items() if k != "manifest"} for p in refit_files]
    runs = runs[:n_folds]
    first = runs[0]["manifest"]
    manifest = {
        "settings": first["settings"],
        "versions": first["versions"],
        "git_commit": first["git_commit"],
        "platform": first["platform"],
        **({"weights": first["weights"]} if "weights" in first else {}),  # nets only
        "folds": [{k: r.get(k) for k in RUN_KEYS} for r in runs],
        **extra,
    }
    write_json(out, manifest)
    return manifest
