"""A job's labelled rows and its fold's split, read the same way by every family."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from foldwise.folds import load_folds
from foldwise.io import load_classes, open_cache


class Labelled(NamedTuple):
    """The training table, its classes, encoded targets and cache.

    Shape:
        y: ``(N,)`` class indices or ``(N, L)`` label matrix; data: the cache, ``N`` rows.
    """

    classes: list
    table: pd.DataFrame
    y: np.ndarray
    data: np.ndarray


def read_labelled(paths, task) -> Labelled:
    """The labelled rows of ``paths`` (a :class:`~foldwise.jobs.paths.TrainPaths`), targets encoded by ``task``.

    Raises:
        ValueError: the cache and the table disagree on the number of rows.
    """
    classes = load_classes(paths.classes)
    table = pd.read_parquet(paths.train_table)
    y = task.encode(table["label"], classes)
    data = open_cache(paths.train_cache)
    if len(data) != len(table):
        raise ValueError(f"{paths.train_cache} has {len(data)} rows but the table has {len(table)}")
    return Labelled(classes, table, y, data)


def fold_split(folds_path: str, fold: int) -> tuple[np.ndarray, np.ndarray]:
    """``(training rows, validation rows)`` of one fold of ``folds.pkl``.

    Raises:
        IndexError: no such fold.
    """
    folds = load_folds(folds_path)
    if not 0 <= fold < len(folds):
        raise IndexError(f"fold {fold} does not exist: folds.pkl has {len(folds)} folds")
    return folds[fold]
