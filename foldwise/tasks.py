"""Competition types. Targets, output activations, default losses and metric sets dispatch here.

A task turns the canonical ``label`` column of ``results/data/train.parquet``
(and of OOF files) into the target array the loss and the metrics expect:

- ``multiclass``: one class per row. Shape ``(N,)`` int64 class indices.
- ``multilabel``: any set of labels per row, stored as label names joined by
  tabs (``"3\t7"``; an empty string for none), so that label names may hold
  spaces (``No Finding``). Shape ``(N, L)`` float32 0/1. Competition files
  separate labels by spaces: :func:`labels_from_text` converts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from foldwise.errors import FoldwiseError


LABEL_SEP = "\t"  # between the label names of a multilabel row, in tables and OOF files


def labels_from_text(values: pd.Series, task: str) -> pd.Series:
    """Labels as a competition file writes them -> the canonical form :func:`Task.encode` reads.

    Multiclass labels are stripped; multilabel cells hold space-separated names.
    """
    values = values.fillna("").astype(str).str.strip()
    return values.str.split().str.join(LABEL_SEP) if task == "multilabel" else values


def _encode_multiclass(labels: pd.Series, classes: list[str]) -> np.ndarray:
    code = {c: i for i, c in enumerate(classes)}
    y = labels.astype(str).map(code)
    if y.isna().any():
        raise FoldwiseError(f"label '{labels[y.isna()].iloc[0]}' is not one of the classes {classes}")
    return y.to_numpy(dtype=np.int64)


def _encode_multilabel(labels: pd.Series, classes: list[str]) -> np.ndarray:
    code = {c: i for i, c in enumerate(classes)}
    y = np.zeros((len(labels), len(classes)), dtype=np.float32)
    for row, text in enumerate(labels.fillna("").astype(str)):
        for name in filter(None, text.split(LABEL_SEP)):
            if name not in code:
                raise FoldwiseError(f"label '{name}' is not one of the labels {classes}")
            y[row, code[name]] = 1.0
    return y


@dataclass(frozen=True)
class Task:
    """How one competition type is trained, scored and submitted.

    Args:
        name: the config's ``task`` value.
        encode: canonical label strings + class names -> target array.
        activation: ``softmax`` (classes exclude each other) or ``sigmoid`` (independent labels).
        default_loss: the loss used when a model's ``loss`` is ``auto``.
        default_metric: the metric used when the config's ``metric`` is ``auto``.
        losses: the loss names that fit the task.
    """

    name: str
    encode: Callable[[pd.Series, list[str]], np.ndarray]
    activation: str
    default_loss: str
    default_metric: str
    losses: tuple[str, ...]


TASKS: dict[str, Task] = {
    t.name: t
    for t in [
        Task("multiclass", _encode_multiclass, "softmax", "cross_entropy", "accuracy", ("cross_entropy", "focal")),
        Task("multilabel", _encode_multilabel, "sigmoid", "bce", "micro_f1", ("bce",)),
    ]
}


def get_task(name: str) -> Task:
    """Look a task up by name.

    Raises:
        KeyError: listing the valid names.
    """
    try:
        return TASKS[name]
    except KeyError:
        raise KeyError(f"unknown task '{name}'; valid: {', '.join(sorted(TASKS))}") from None
