"""Fold splits: computed once, pickled, and read back through a restricted unpickler.

``folds.pkl`` holds a list of ``(train_idx, valid_idx)`` int64 numpy arrays, one
pair per fold, indexing the rows of ``results/data/train.parquet``.
"""

from __future__ import annotations

import io
import pickle
from typing import Callable

import numpy as np

from foldwise.errors import FoldwiseError
from foldwise.io import atomic_path

Folds = list[tuple[np.ndarray, np.ndarray]]


def _kfold(n_splits, seed):
    from sklearn.model_selection import KFold

    return KFold(n_splits=n_splits, shuffle=True, random_state=seed)


def _stratified(n_splits, seed):
    from sklearn.model_selection import StratifiedKFold

    return StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)


def _multilabel_stratified(n_splits, seed):
    from iterstrat.ml_stratifiers import MultilabelStratifiedKFold

    return MultilabelStratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)


def _group(n_splits, seed):
    from sklearn.model_selection import GroupKFold

    try:
        return GroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    except TypeError:  # scikit-learn < 1.6 has no shuffling GroupKFold
        return GroupKFold(n_splits=n_splits)


def _stratified_group(n_splits, seed):
    from sklearn.model_selection import StratifiedGroupKFold

    return StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)


SCHEMES: dict[str, Callable] = {
    "kfold": _kfold,
    "stratified": _stratified,
    "group": _group,
    "stratified_group": _stratified_group,
}


def make_folds(
    y: np.ndarray, scheme: str, n_splits: int, seed: int, groups: np.ndarray | None = None,
    classes: list[str] | None = None,
) -> Folds:
    """Split rows into folds.

    Args:
        y: ``(N,)`` integer targets, or ``(N, L)`` 0/1 labels (multilabel: ``stratified``
            then means iterative stratification, Sechidis et al. 2011).
        scheme: one of :data:`SCHEMES`.
        n_splits: number of folds.
        seed: shuffle seed.
        groups: ``(N,)`` group labels, required by the group schemes.
        classes: the class names of ``y``'s indices, to name a class in messages.

    Returns:
        ``n_splits`` pairs of sorted int64 index arrays; every row is in exactly one valid set.

    Raises:
        KeyError: unknown scheme (lists the valid ones).
        FoldwiseError: too few rows, classes or groups for ``n_splits``.
    """
    if scheme not in SCHEMES:
        raise KeyError(f"unknown fold scheme '{scheme}'; valid: {', '.join(sorted(SCHEMES))}")
    y = np.asarray(y)
    n = len(y)
    if n < n_splits:
        raise FoldwiseError(f"folds.n_splits={n_splits} but the training table has only {n} rows")
    needs_groups = scheme in ("group", "stratified_group")
    if needs_groups:
        if groups is None:
            raise FoldwiseError(f"folds.scheme '{scheme}' needs data.group_col")
        n_groups = len(np.unique(groups))
        if n_groups < n_splits:
            raise FoldwiseError(
                f"folds.n_splits={n_splits} but column data.group_col has only {n_groups} distinct groups"
            )
    if scheme == "stratified_group" and y.ndim == 2:
        raise FoldwiseError("folds.scheme 'stratified_group' is not available for multilabel targets; use group")
    if scheme == "stratified" and y.ndim == 1:
        counts = np.bincount(y)
        counts = counts[counts > 0]
        if counts.min() < n_splits:
            rare = int(np.flatnonzero(np.bincount(y) == counts.min())[0])
            name = f"class '{classes[rare]}'" if classes is not None else f"class index {rare}"
            raise FoldwiseError(
                f"folds.n_splits={n_splits} but {name} has only {counts.min()} rows; "
                "lower folds.n_splits or use folds.scheme kfold"
            )
    make = _multilabel_stratified if (scheme == "stratified" and y.ndim == 2) else SCHEMES[scheme]
    split = make(n_splits, seed).split(np.zeros((n, 1)), y, groups if needs_groups else None)
    return [(np.sort(tr).astype(np.int64), np.sort(va).astype(np.int64)) for tr, va in split]


def save_folds(folds: Folds, path: str) -> None:
    """Pickle folds atomically (protocol 4, plain lists/tuples/int64 arrays)."""
    clean = [(np.ascontiguousarray(tr, dtype=np.int64), np.ascontiguousarray(va, dtype=np.int64)) for tr, va in folds]
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            pickle.dump(clean, fh, protocol=4)


class _RestrictedUnpickler(pickle.Unpickler):
    """Admits only what :func:`save_folds` writes: numpy arrays of integers."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refused to load global {module}.{name}")


def load_folds(path: str) -> Folds:
    """Read ``folds.pkl`` safely.

    Raises:
        FoldwiseError: if the file holds anything but a list of (int array, int array) pairs.
    """
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        folds = _RestrictedUnpickler(io.BytesIO(data)).load()
    except Exception as exc:  # noqa: BLE001 - any failure means the file is not ours
        raise FoldwiseError(f"{path} is not a foldwise folds file ({exc}); delete it and re-run") from None
    ok = isinstance(folds, list) and all(
        isinstance(f, tuple)
        and len(f) == 2
        and all(isinstance(a, np.ndarray) and a.dtype.kind in "iu" and a.ndim == 1 for a in f)
        for f in folds
    )
    if not ok:
        raise FoldwiseError(f"{path} is not a list of (train_idx, valid_idx) integer arrays; delete it and re-run")
    return folds


def fold_of_rows(folds: Folds, n_rows: int) -> np.ndarray:
    """``(n_rows,)`` array giving the fold in which each row is validated.

    Raises:
        FoldwiseError: if a row is validated never or more than once.
    """
    owner = np.full(n_rows, -1, dtype=np.int64)
    for k, (_, va) in enumerate(folds):
        if (owner[va] != -1).any():
            raise FoldwiseError("folds.pkl validates some row in more than one fold")
        owner[va] = k
    if (owner == -1).any():
        raise FoldwiseError(f"folds.pkl never validates {(owner == -1).sum()} row(s)")
    return owner
