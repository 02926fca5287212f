"""Metrics by name. Each takes integer targets and class probabilities.

Shape:
    y_true: ``(N,)`` integer class indices.
    probs: ``(N, K)`` probabilities, rows summing to 1.

scikit-learn is imported inside the functions so that the Snakefile, which
reads :data:`METRICS` to validate the config, stays fast to load.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Metric:
    """A named score and whether higher is better."""

    name: str
    fn: Callable[[np.ndarray, np.ndarray], float]
    greater_is_better: bool

    def __call__(self, y_true: np.ndarray, probs: np.ndarray) -> float:
        return float(self.fn(np.asarray(y_true), np.asarray(probs, dtype=np.float64)))

    def better(self, a: float, b: float) -> bool:
        """True if score ``a`` is strictly better than ``b``."""
        return a > b if self.greater_is_better else a < b

    def loss(self, y_true: np.ndarray, probs: np.ndarray) -> float:
        """The score as a quantity to minimise."""
        value = self(y_true, probs)
        return -value if self.greater_is_better else value


def _accuracy(y, p):
    return np.mean(p.argmax(1) == y)


def _balanced_accuracy(y, p):
    from sklearn.metrics import balanced_accuracy_score

    return balanced_accuracy_score(y, p.argmax(1))


def _macro_f1(y, p):
    from sklearn.metrics import f1_score

    return f1_score(y, p.argmax(1), average="macro", labels=np.arange(p.shape[1]), zero_division=0)


def _log_loss(y, p):
    p = np.clip(p, 1e-15, 1.0)
    p = p / p.sum(1, keepdims=True)
    return -np.mean(np.log(p[np.arange(len(y)), y]))


def _roc_auc(y, p):
    from sklearn.metrics import roc_auc_score

    if p.shape[1] == 2:
        return roc_auc_score(y, p[:, 1])
    return roc_auc_score(y, p, multi_class="ovr", labels=np.arange(p.shape[1]))


METRICS: dict[str, Metric] = {
    m.name: m
    for m in [
        Metric("accuracy", _accuracy, True),
        Metric("balanced_accuracy", _balanced_accuracy, True),
        Metric("macro_f1", _macro_f1, True),
        Metric("log_loss", _log_loss, False),
        Metric("roc_auc", _roc_auc, True),
    ]
}


def get_metric(name: str) -> Metric:
    """Look a metric up by name.

    Raises:
        KeyError: listing the valid names.
    """
    try:
        return METRICS[name]
    except KeyError:
        raise KeyError(f"unknown metric '{name}'; valid: {', '.join(sorted(METRICS))}") from None
