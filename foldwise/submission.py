"""Submission files in exactly the shape of ``sample_submission.csv``.

The format is read from the sample's columns and dispatched through
:data:`WRITERS`, keyed by (task, format):

- one column beside the id -> ``label``: the arg-max class (multiclass) or the
  space-separated names of the labels above their thresholds (multilabel);
- one column per class -> ``proba`` (multiclass), or for multilabel ``binary``
  (0/1 decisions) or ``proba`` as the config's ``multilabel.submit`` says.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from foldwise.io import read_csv
from foldwise.errors import FoldwiseError
from foldwise.io import write_csv
from foldwise.metrics import get_metric, tune_thresholds
from foldwise.oof import prob_columns
from foldwise.tasks import get_task, labels_from_text

log = logging.getLogger(__name__)


def _argmax_label(p, classes, thr):
    return np.asarray(classes, dtype=object)[p.argmax(1)]


def _label_set(p, classes, thr):
    names = np.asarray(classes, dtype=object)
    return np.array([" ".join(names[row >= thr]) for row in p], dtype=object)


def _binary(p, classes, thr):
    return (p >= thr).astype(np.int64)


def _proba(p, classes, thr):
    return p


# (task, format) -> writer(probs (N, K), classes, thresholds (K,)) -> one column (N,) or columns (N, K)
WRITERS: dict[tuple[str, str], Callable] = {
    ("multiclass", "label"): _argmax_label,
    ("multiclass", "proba"): _proba,
    ("multilabel", "label"): _label_set,
    ("multilabel", "binary"): _binary,
    ("multilabel", "proba"): _proba,
}


def submission_format(
    sample: pd.DataFrame, id_col: str, classes: list[str], task: str = "multiclass", per_column: str = "binary"
) -> str:
    """``label``, ``proba`` or ``binary``, from the sample submission's columns.

    Args:
        per_column: multilabel only: what a one-column-per-label sample gets (``binary`` or ``proba``).

    Raises:
        FoldwiseError: when the columns fit no format.
    """
    if id_col not in sample.columns:
        raise FoldwiseError(f"sample submission has no id column '{id_col}' (data.id_col)")
    other = [c for c in sample.columns if c != id_col]
    if len(other) > 1 and set(map(str, other)) == set(classes):
        return "proba" if task == "multiclass" else per_column
    if len(other) == 1:
        return "label"
    raise FoldwiseError(
        f"cannot tell the submission format: sample columns {list(sample.columns)}; expected '{id_col}' plus "
        f"one label column or one column per class ({', '.join(classes)})"
    )


def build_submission(
    test: pd.DataFrame,
    sample: pd.DataFrame,
    id_col: str,
    classes: list[str],
    task: str = "multiclass",
    thresholds: np.ndarray | None = None,
    per_column: str = "binary",
) -> pd.DataFrame:
    """Turn test probabilities into a submission frame ordered like ``sample``.

    Args:
        test: ``id, prob_<class>...`` table.
        sample: the sample submission (text columns).
        id_col: id column name.
        classes: class (label) names in probability-column order.
        task: ``multiclass`` or ``multilabel``.
        thresholds: ``(K,)`` multilabel decision thresholds (default 0.5).
        per_column: multilabel: ``binary`` or ``proba`` for one column per label.

    Returns:
        A frame with exactly the sample's columns and id order.
    """
    fmt = submission_format(sample, id_col, classes, task, per_column)
    probs = test.set_index(test["id"].astype(str))[[f"prob_{c}" for c in classes]]
    missing = ~sample[id_col].isin(probs.index)
    if missing.any():
        raise FoldwiseError(
            f"{missing.sum()} sample submission id(s) have no prediction, e.g. {sample[id_col][missing].iloc[0]}"
        )
    p = probs.loc[sample[id_col]].to_numpy(dtype=np.float64)
    thr = np.full(len(classes), 0.5) if thresholds is None else np.asarray(thresholds, dtype=np.float64)
    values = WRITERS[(task, fmt)](p, classes, thr)
    sub = pd.DataFrame({id_col: sample[id_col].to_numpy()})
    if values.ndim == 1:
        sub[[c for c in sample.columns if c != id_col][0]] = values
    else:
        by_class = dict(zip(classes, values.T))
        for col in sample.columns:
            if col != id_col:
                sub[col] = by_class[str(col)]
    return sub[list(sample.columns)]


def validate_submission(
    sub: pd.DataFrame, sample: pd.DataFrame, id_col: str, classes: list[str], task: str = "multiclass",
    per_column: str = "binary",
) -> None:
    """Refuse a submission whose columns, ids, order or values do not fit the sample.

    Raises:
        FoldwiseError: naming what differs.
    """
    if list(map(str, sub.columns)) != list(map(str, sample.columns)):
        raise FoldwiseError(f"submission columns {list(sub.columns)} differ from the sample's {list(sample.columns)}")
    if len(sub) != len(sample):
        raise FoldwiseError(f"submission has {len(sub)} rows, the sample {len(sample)}")
    ids, want = sub[id_col].astype(str).to_numpy(), sample[id_col].astype(str).to_numpy()
    if (ids != want).any():
        i = int(np.flatnonzero(ids != want)[0])
        raise FoldwiseError(f"submission id order differs from the sample at row {i + 2}: '{ids[i]}' vs '{want[i]}'")
    values = sub.drop(columns=id_col)
    fmt = submission_format(sample, id_col, classes, task, per_column)
    if fmt == "label":
        column = values.iloc[:, 0].fillna("").astype(str)
        tokens = column.str.split() if task == "multilabel" else column.map(lambda v: [v])
        unknown = [t for row in tokens for t in row if t not in classes]
        if unknown:
            raise FoldwiseError(f"submission has unknown labels, e.g. '{unknown[0]}'")
        return
    if values.isna().any().any():
        raise FoldwiseError("submission has empty values")
    v = values.to_numpy(dtype=np.float64)
    if fmt == "binary" and not np.isin(v, (0, 1)).all():
        raise FoldwiseError("submission must hold 0 or 1 per label")
    if (v < 0).any() or (v > 1).any():
        raise FoldwiseError("submission probabilities must lie in [0, 1]")


def write_submission(
    test_path: str, sample_path: Path, id_col: str, classes: list[str], out: str, task: str = "multiclass",
    thresholds: np.ndarray | None = None, per_column: str = "binary",
) -> pd.DataFrame:
    """Build, validate and atomically write a submission CSV."""
    sample = read_csv(sample_path, "sample submission (data.sample_submission)")
    sub = build_submission(pd.read_parquet(test_path), sample, id_col, classes, task, thresholds, per_column)
    validate_submission(sub, sample, id_col, classes, task, per_column)
    write_csv(sub, out)
    return sub


def submission_probs(sub: pd.DataFrame, id_col: str, classes: list[str], task: str) -> np.ndarray:
    """A submission's content as a ``(N, K)`` matrix: one-hot/0-1 decisions or probabilities."""
    cols = [c for c in sub.columns if c != id_col]
    if len(cols) == 1:
        y = get_task(task).encode(labels_from_text(sub[cols[0]], task), classes)
        return np.eye(len(classes))[y] if y.ndim == 1 else y.astype(np.float64)
    return sub[[str(c) for c in classes]].to_numpy(dtype=np.float64)


def score_submission(
    sub: pd.DataFrame, solution_path: Path, id_col: str, target_col: str, classes: list[str], metric: str,
    task: str = "multiclass", label_cols: list[str] | None = None,
) -> float:
    """Score a submission frame against a solution file.

    The solution holds ``id`` and the target column (multilabel: space-separated
    labels, or one 0/1 column per label when ``label_cols`` is given).

    Raises:
        FoldwiseError: a missing column or solution ids that differ from the submission's.
    """
    sol = read_csv(solution_path, "solution (data.solution)")
    needed = [id_col, *(label_cols or [target_col])]
    for col in needed:
        if col not in sol.columns:
            raise FoldwiseError(f"{solution_path}: no column '{col}'")
    sol = sol.set_index(id_col)
    ids = sub[id_col].astype(str)
    if set(ids) != set(sol.index):
        raise FoldwiseError(f"{solution_path}: ids differ from the submission's")
    sol = sol.loc[ids]
    if label_cols:
        y = sol[label_cols].to_numpy(dtype=np.float64)
    else:
        y = get_task(task).encode(labels_from_text(sol[target_col], task), classes)
    return get_metric(metric, task)(y, submission_probs(sub, id_col, classes, task))


def decision_thresholds(oof_path: str, target_col: str, classes: list[str], mode: str, fixed: float) -> np.ndarray:
    """Multilabel thresholds: tuned on a model's or ensemble's OOF predictions, or fixed.

    Args:
        oof_path: the OOF parquet (``id, fold, <target>, prob_<label>...``).
        mode: ``per_label``, ``global`` or ``fixed``.
        fixed: the threshold for ``fixed``.

    Returns:
        ``(L,)`` thresholds.
    """
    if mode == "fixed":
        return np.full(len(classes), float(fixed))
    oof = pd.read_parquet(oof_path)
    y = get_task("multilabel").encode(oof[target_col], classes)
    return tune_thresholds(y, oof[prob_columns(oof)].to_numpy(), mode)


def make_submission(name: str, test_path: str, oof_path: str, classes: list[str], settings: dict, out_csv: str) -> dict:
    """Write one model's or ensemble's submission and return its report.

    Args:
        settings: ``id_col, target_col, sample_submission, solution, label_cols, metric, task, multilabel``
            (the ``submission`` rule's params).

    Returns:
        ``{"name", "rows", "metric", "holdout", "thresholds"}``: the held-back score when a solution is set,
        and the multilabel thresholds (tuned on ``oof_path``).
    """
    p, ml = settings, settings["multilabel"]
    thresholds = None
    if p["task"] == "multilabel":
        thresholds = decision_thresholds(oof_path, p["target_col"], classes, ml["threshold"], ml["fixed_threshold"])
    sub = write_submission(
        test_path, p["sample_submission"], p["id_col"], classes, out_csv, p["task"], thresholds, ml["submit"]
    )
    holdout = None
    if p["solution"]:
        holdout = score_submission(
            sub, p["solution"], p["id_col"], p["target_col"], classes, p["metric"], p["task"], p["label_cols"]
        )
    return {"name": name, "rows": len(sub), "metric": p["metric"], "holdout": holdout,
            "thresholds": None if thresholds is None else dict(zip(classes, thresholds.tolist()))}
