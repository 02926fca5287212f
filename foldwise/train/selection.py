"""Which epoch's weights a fold keeps (a model's ``select_epoch``), and the rows that choose it.

- ``best``: the epoch with the best score on the fold's validation rows, which
  are then reported as its OOF predictions. The CV is optimistic: the epoch was
  picked on the rows it is scored on.
- ``last``: the last epoch (a fixed epoch count); the validation rows choose nothing.
- ``inner``: a seeded, stratified slice of the fold's training rows is held
  out (and not trained on); the best epoch and early stopping are decided on
  it; the validation rows are predicted once, at that epoch.

Every fold also records its validation predictions at the last epoch run, so
``gather`` reports the CV at the last epoch beside the CV at the selected one.
"""

from __future__ import annotations

import numpy as np

SELECT_EPOCH = ("best", "last", "inner")


def inner_split(
    y: np.ndarray, rows: np.ndarray, fraction: float, seed: int, groups: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Split a fold's training rows into (rows to train on, rows to pick the epoch on).

    Stratified by class (multilabel: iterative stratification), by group when
    ``groups`` is given (no group on both sides); a plain shuffle when a class has
    a single row.

    Shape:
        y: ``(N,)`` or ``(N, L)`` targets of all rows; rows: the fold's training rows. Returns two sorted
        row arrays that partition ``rows``.
    """
    from sklearn.model_selection import GroupShuffleSplit, ShuffleSplit, StratifiedShuffleSplit

    rows = np.asarray(rows)
    x = np.zeros((len(rows), 1))
    if groups is not None:
        split = GroupShuffleSplit(n_splits=1, test_size=fraction, random_state=seed).split(x, None, groups[rows])
    elif y.ndim == 2:
        from iterstrat.ml_stratifiers import MultilabelStratifiedShuffleSplit

        split = MultilabelStratifiedShuffleSplit(n_splits=1, test_size=fraction, random_state=seed).split(x, y[rows])
    else:
        try:
            split = StratifiedShuffleSplit(n_splits=1, test_size=fraction, random_state=seed).split(x, y[rows])
            split = [next(split)]
        except ValueError:  # a class with one row, or fewer held-out rows than classes
            split = ShuffleSplit(n_splits=1, test_size=fraction, random_state=seed).split(x)
    fit, held = next(iter(split))
    if len(fit) == 0 or len(held) == 0:
        raise ValueError(f"inner_fraction {fraction} leaves no rows to train on or to pick the epoch with")
    return np.sort(rows[fit]), np.sort(rows[held])


def selection_rows(select_epoch: str, y, tr_idx, va_idx, fraction: float, seed: int, groups=None):
    """(training rows, rows that pick the epoch) of a fold.

    Raises:
        KeyError: an unknown ``select_epoch``, listing the valid ones.
    """
    if select_epoch not in SELECT_EPOCH:
        raise KeyError(f"unknown select_epoch '{select_epoch}'; valid: {', '.join(SELECT_EPOCH)}")
    if select_epoch == "inner":
        return inner_split(y, tr_idx, fraction, seed, groups)
    return tr_idx, va_idx

