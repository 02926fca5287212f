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
) -> dict:
    """Combine one model's fold outputs.

    ``weights`` (the leaderboard's cell for what the model started from) is copied into the scores.

    Raises:
        FoldwiseError: a fold file made on another split, or rows predicted never or twice.
    """
    folds_sha = sha256_file(folds_path)
    metas = [read_parquet_metadata(p) for p in fold_oofs + fold_tests]
    stale = [p for p, m in zip(fold_oofs + fold_tests, metas) if m.get("folds_sha256") != folds_sha]
    if stale:
        raise FoldwiseError(f"{stale[0]} was trained on a different folds.pkl; re-run its train job")
    config_shas = {m.get("config_sha256") for m in metas}
    if len(config_shas) != 1:
        raise FoldwiseError(f"the fold files of model '{name}' come from different configs; re-run its train jobs")
    oof = pd.concat([pd.read_parquet(p) for p in fold_oofs], ignore_index=True)
    counts = np.bincount(oof["row"].to_numpy(), minlength=n_train)
    if len(counts) != n_train or (counts != 1).any():
        raise FoldwiseError(
            f"model '{name}': {(counts == 0).sum()} training row(s) have no OOF prediction and "
            f"{(counts > 1).sum()} have several; every row must be predicted exactly once"
        )
    oof = oof.sort_values("row").drop(columns="row").reset_index(drop=True)
    select_epoch = metas[0].get("select_epoch", "best")
    last_scores = _last_epoch_scores(oof, target_col, classes, metric, task)
    oof = oof.drop(columns=[c for c in oof.columns if c.startswith(LAST_PREFIX)])
    no_tta = plain_scores(oof, target_col, classes, metric, task)
    oof = oof.drop(columns=[c for c in oof.columns if c.startswith(PLAIN)])
    tests = [pd.read_parquet(p) for p in fold_tests]
    for t in tests[1:]:
        if not t["id"].equals(tests[0]["id"]):
            raise FoldwiseError(f"model '{name}': the folds' test predictions list different ids")
    cols = prob_columns(tests[0])
    test = tests[0][["id"]].copy()
    test[cols] = np.mean([t[cols].to_numpy(dtype=np.float64) for t in tests], axis=0).astype(np.float32)
    meta = {"folds_sha256": folds_sha, "config_sha256": config_shas.pop(), "model": name}
    write_parquet(oof, out_oof, meta)
    write_parquet(test, out_test, meta)
    scores = {"name": name, "kind": "model", **fold_scores(oof, target_col, classes, metric, task), **no_tta, **meta}
    scores.update(last_scores, select_epoch=select_epoch, honest_by=HONEST_BY[select_epoch])
    scores["cv_honest"] = scores.get("cv_last_epoch") if select_epoch == "best" else scores["cv"]
    if weights is not None:
        scores["weights"] = weights
    write_json(out_scores, scores)
    log.info("%s: CV %s %.5f (folds: %s; without TTA %.5f); at the last epoch %s", name, metric, scores["cv"],
             ", ".join(f"{s:.4f}" for s in scores["folds"]), scores["cv_no_tta"], scores.get("cv_last_epoch"))
    return scores


def write_model_manifest(run_files: list[str], out: str) -> dict:
    """Merge the folds' run records into the model's manifest.

    The manifest holds the resolved settings, package versions, git commit, the weights the model
    started from (:func:`foldwise.runtime.weights.weights_record`) and,
    per fold, the device, epochs run, best epoch and training speed.
    """
    runs = [read_json(p) for p in run_files]
    first = runs[0]["manifest"]
    manifest = {
        "settings": first["settings"],
        "versions": first["versions"],
        "git_commit": first["git_commit"],
        "platform": first["platform"],
        **({"weights": first["weights"]} if "weights" in first else {}),  # nets only
        "folds": [
            {
                k: r.get(k)
                for k in ("device", "select_epoch", "best_epoch", "best_score", "epochs_run", "train_seconds",
                          "wall_seconds", "samples_per_second", "peak_gpu_memory_mb")
            }
            for r in runs
        ],
    }
    write_json(out, manifest)
    return manifest
