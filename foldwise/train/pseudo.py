"""Pseudo-labelling: a teacher's confident test predictions as extra training rows of a student.

A model whose config names a ``teacher`` (a model or an ensemble) reads the
teacher's test file (``results/test/{teacher}.parquet`` or
``results/ensembles/{teacher}/test.parquet``), keeps the rows the teacher is
sure of, and adds them to the training part of every fold. Validation rows are
never pseudo-labelled: they are the fold's own rows of ``folds.pkl``, so the
student's OOF predictions cover the same rows as the teacher's and compare with them.

Rows live in one index space: ``0..n_train-1`` are the train cache's rows,
``n_train + i`` is row ``i`` of the test cache (:class:`StackedCache`).

Config (``models.<name>``): ``teacher`` and ``pseudo: {threshold, top_fraction, labels}``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from foldwise.errors import FoldwiseError
from foldwise.io import open_cache


@dataclass(frozen=True)
class PseudoConfig:
    """Which teacher predictions become labels; see the schema for each field."""

    threshold: float = 0.9
    top_fraction: float | None = None
    labels: str = "hard"


@dataclass(frozen=True)
class PseudoRows:
    """The selected test rows and their targets.

    Shape:
        rows ``(P,)`` int64 indices into the test cache; targets ``(P, K)`` float32 class weights
        (one-hot or the teacher's probabilities; multilabel: 0/1 or probabilities per label).
    """

    rows: np.ndarray
    targets: np.ndarray


def confidence(probs: np.ndarray, multilabel: bool) -> np.ndarray:
    """How sure the teacher is of each row: the top class's probability, or (multilabel) the least
    certain label's ``max(p, 1 - p)``.

    Shape:
        probs ``(N, K)`` -> ``(N,)``.
    """
    if multilabel:
        return np.maximum(probs, 1 - probs).min(1)
    return probs.max(1)


def select_pseudo(probs: np.ndarray, cfg: PseudoConfig, multilabel: bool = False) -> PseudoRows:
    """Keep the rows whose confidence reaches ``cfg.threshold``; with ``top_fraction``, at most that
    fraction of each predicted class's rows (the most confident; multilabel: of all rows).

    Args:
        probs: the teacher's test probabilities, ``(N, K)``.
        cfg: the settings.
        multilabel: independent labels (sigmoid) rather than one class per row.

    Returns:
        The kept rows in increasing order and their targets (``hard``: one-hot, or 0/1 at 0.5;
        ``soft``: the teacher's probabilities).
    """
    probs = np.asarray(probs, dtype=np.float64)
    conf = confidence(probs, multilabel)
    keep = conf >= cfg.threshold
    if cfg.top_fraction is not None:
        groups = np.zeros(len(probs), dtype=np.int64) if multilabel else probs.argmax(1)
        chosen = np.zeros(len(probs), dtype=bool)
        for g in np.unique(groups):
            members = np.flatnonzero(groups == g)
            quota = math.ceil(cfg.top_fraction * len(members))
            candidates = members[keep[members]]
            order = np.lexsort((candidates, -conf[candidates]))  # most confident first; ties: lower row
            chosen[candidates[order[:quota]]] = True
        keep = chosen
    rows = np.flatnonzero(keep).astype(np.int64)
    p = probs[rows]
    if cfg.labels == "soft":
        targets = p if multilabel else p / np.maximum(p.sum(1, keepdims=True), 1e-12)
    elif multilabel:
        targets = (p >= 0.5).astype(np.float64)
    else:
        targets = np.eye(probs.shape[1])[p.argmax(1)] if len(p) else np.zeros((0, probs.shape[1]))
    return PseudoRows(rows, targets.astype(np.float32))


def read_teacher(path: str, test_table: str, classes: list[str]) -> np.ndarray:
    """The teacher's test probabilities in test-cache row order.

    Raises:
        FoldwiseError: the file's ids or classes differ from the test table's and the competition's.
    """
    teacher = pd.read_parquet(path)
    ids = pd.read_parquet(test_table, columns=["id"])["id"]
    want = [f"prob_{c}" for c in classes]
    if [c for c in teacher.columns if c.startswith("prob_")] != want:
        raise FoldwiseError(f"teacher predictions {path} do not have the columns {', '.join(want)}")
    if len(teacher) != len(ids) or not teacher["id"].astype(str).reset_index(drop=True).equals(ids.astype(str)):
        raise FoldwiseError(f"teacher predictions {path} list other test ids than {test_table}; re-run the teacher")
    return teacher[want].to_numpy(dtype=np.float64)


class StackedCache:
    """The train cache followed by the test cache, indexed as one array (read-only, lazily).

    Args:
        first: the train cache (memmap) ``(N1, ...)``.
        second: the test cache ``(N2, ...)`` with the same trailing shape.

    Shape:
        ``(N1 + N2, ...)``; ``self[rows]`` reads each row from the cache it lives in.
    """

    def __init__(self, first: np.ndarray, second: np.ndarray):
        if first.shape[1:] != second.shape[1:] or first.dtype != second.dtype:
            raise FoldwiseError(f"train and test caches differ in shape: {first.shape} vs {second.shape}")
        self.first, self.second, self.split = first, second, len(first)
        self.shape = (len(first) + len(second), *first.shape[1:])
        self.dtype = first.dtype

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        out = np.empty((len(rows), *self.shape[1:]), dtype=self.dtype)
        low = rows < self.split
        out[low] = self.first[rows[low]]
        out[~low] = self.second[rows[~low] - self.split]
        return out


def stack_targets(y: np.ndarray, n_classes: int, n_test: int, pseudo: PseudoRows, dense: bool) -> np.ndarray:
    """Targets over the stacked index space: the training rows' labels, then the pseudo-labels.

    Args:
        y: ``(N,)`` classes or ``(N, K)`` 0/1 labels of the train cache's rows.
        n_classes: K.
        n_test: rows of the test cache.
        pseudo: the selected test rows.
        dense: return ``(N + n_test, K)`` float class weights (soft labels, multilabel); otherwise
            ``(N + n_test,)`` class indices (hard multiclass labels), -1 on unselected test rows.
    """
    n = len(y)
    if dense:
        out = np.zeros((n + n_test, n_classes), dtype=np.float32)
        out[:n] = np.eye(n_classes, dtype=np.float32)[y] if y.ndim == 1 else y
        out[n + pseudo.rows] = pseudo.targets
        return out
    out = np.full(n + n_test, -1, dtype=np.int64)
    out[:n] = y
    out[n + pseudo.rows] = pseudo.targets.argmax(1)
    return out


def with_pseudo_labels(cfg, paths, data, y, tr_idx, classes, task):
    """The training data, targets and rows, with the teacher's confident test rows added for a student.

    Returns:
        ``(data, targets, training rows, pseudo-labelled row count)``; without a teacher, the
        train cache, ``y``, ``tr_idx`` and 0.
    """
    if not cfg.teacher:
        return data, y, tr_idx, 0
    test = open_cache(paths.test_cache)
    probs = read_teacher(paths.teacher, paths.test_table, classes)
    if len(probs) != len(test):
        raise ValueError(f"{paths.test_cache} has {len(test)} rows but the teacher predicted {len(probs)}")
    pcfg = PseudoConfig(**cfg.pseudo)
    pseudo = select_pseudo(probs, pcfg, multilabel=task.activation == "sigmoid")
    dense = y.ndim == 2 or pcfg.labels == "soft"
    targets = stack_targets(y, len(classes), len(test), pseudo, dense)
    return StackedCache(data, test), targets, np.concatenate([tr_idx, len(y) + pseudo.rows]), len(pseudo.rows)
