"""Submission files in exactly the shape of ``sample_submission.csv``.

Two formats are recognised from the sample's columns: one label column (the
arg-max class is written) or one column per class (probabilities).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from foldwise.data import read_csv
from foldwise.errors import FoldwiseError
from foldwise.io import write_csv
from foldwise.metrics import get_metric
from foldwise.oof import prob_columns

log = logging.getLogger(__name__)


def submission_format(sample: pd.DataFrame, id_col: str, classes: list[str]) -> str:
    """``"label"`` or ``"proba"``, from the sample submission's columns.

    Raises:
        FoldwiseError: when the columns fit neither format.
    """
    other = [c for c in sample.columns if c != id_col]
    if id_col not in sample.columns:
        raise FoldwiseError(f"sample submission has no id column '{id_col}' (data.id_col)")
    if len(other) > 1 and set(map(str, other)) == set(classes):
        return "proba"
    if len(other) == 1:
        return "label"
    raise FoldwiseError(
        f"cannot tell the submission format: sample columns {list(sample.columns)}; expected '{id_col}' plus "
        f"one label column or one column per class ({', '.join(classes)})"
    )


def build_submission(test: pd.DataFrame, sample: pd.DataFrame, id_col: str, classes: list[str]) -> pd.DataFrame:
    """Turn test probabilities into a submission frame ordered like ``sample``.

    Args:
        test: ``id, prob_<class>...`` table.
        sample: the sample submission (text columns).
        id_col: id column name.
        classes: class labels in probability-column order.

    Returns:
        A frame with exactly the sample's columns and id order.
    """
    fmt = submission_format(sample, id_col, classes)
    probs = test.set_index(test["id"].astype(str))[[f"prob_{c}" for c in classes]]
    missing = ~sample[id_col].isin(probs.index)
    if missing.any():
        raise FoldwiseError(
            f"{missing.sum()} sample submission id(s) have no prediction, e.g. {sample[id_col][missing].iloc[0]}"
        )
    p = probs.loc[sample[id_col]].to_numpy()
    sub = pd.DataFrame({id_col: sample[id_col].to_numpy()})
    if fmt == "label":
        sub[[c for c in sample.columns if c != id_col][0]] = np.asarray(classes, dtype=object)[p.argmax(1)]
    else:
        by_class = dict(zip(classes, p.T))
        for col in sample.columns:
            if col != id_col:
                sub[col] = by_class[str(col)]
    return sub[list(sample.columns)]


def validate_submission(sub: pd.DataFrame, sample: pd.DataFrame, id_col: str, classes: list[str]) -> None:
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
    if values.isna().any().any():
        raise FoldwiseError("submission has empty values")
    if submission_format(sample, id_col, classes) == "label":
        bad = ~values.iloc[:, 0].astype(str).isin(classes)
        if bad.any():
            raise FoldwiseError(f"submission has unknown labels, e.g. '{values.iloc[:, 0][bad].iloc[0]}'")
    else:
        v = values.to_numpy(dtype=np.float64)
        if (v < 0).any() or (v > 1).any():
            raise FoldwiseError("submission probabilities must lie in [0, 1]")


def write_submission(test_path: str, sample_path: Path, id_col: str, classes: list[str], out: str) -> pd.DataFrame:
    """Build, validate and atomically write a submission CSV."""
    sample = read_csv(sample_path, "sample submission (data.sample_submission)")
    sub = build_submission(pd.read_parquet(test_path), sample, id_col, classes)
    validate_submission(sub, sample, id_col, classes)
    write_csv(sub, out)
    return sub


def score_submission(
    sub: pd.DataFrame, solution_path: Path, id_col: str, target_col: str, classes: list[str], metric: str
) -> float:
    """Score a submission frame against a solution file ``id, <target>``.

    Label submissions are scored as one-hot probabilities.

    Raises:
        FoldwiseError: solution ids that differ from the submission's.
    """
    sol = read_csv(solution_path, "solution (data.solution)")
    for col in (id_col, target_col):
        if col not in sol.columns:
            raise FoldwiseError(f"{solution_path}: no column '{col}'")
    sol = sol.set_index(id_col)
    ids = sub[id_col].astype(str)
    if set(ids) != set(sol.index):
        raise FoldwiseError(f"{solution_path}: ids differ from the submission's")
    code = {c: i for i, c in enumerate(classes)}
    y = sol.loc[ids, target_col].astype(str).map(code)
    if y.isna().any():
        raise FoldwiseError(f"{solution_path}: labels that training never saw")
    cols = [c for c in sub.columns if c != id_col]
    if submission_format(sub, id_col, classes) == "label":
        probs = np.eye(len(classes))[sub[cols[0]].astype(str).map(code).to_numpy()]
    else:
        probs = sub[[str(c) for c in classes]].to_numpy(dtype=np.float64)
    return get_metric(metric)(y.to_numpy(dtype=np.int64), probs)
