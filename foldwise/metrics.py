"""Metrics by task and name. Each takes targets and predicted probabilities.

Shape:
    multiclass: y_true ``(N,)`` integer class indices; probs ``(N, K)``, rows summing to 1.
    multilabel: y_true ``(N, L)`` 0/1; probs ``(N, L)`` independent per-label probabilities.

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


def _bce(y, p):
    p = np.clip(p, 1e-15, 1 - 1e-15)
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def _label_auc(y, p):
    """Mean column-wise ROC AUC over labels that have both classes."""
    from sklearn.metrics import roc_auc_score

    cols = [j for j in range(y.shape[1]) if 0 < y[:, j].sum() < len(y)]
    return float(np.mean([roc_auc_score(y[:, j], p[:, j]) for j in cols])) if cols else float("nan")


def _ml_f1(average):
    def fn(y, p):
        from sklearn.metrics import f1_score

        return f1_score(y, (p >= 0.5).astype(int), average=average, zero_division=0)

    return fn


def _subset_accuracy(y, p):
    return np.mean(((p >= 0.5) == (y > 0)).all(1))


def _registry(*metrics: Metric) -> dict[str, Metric]:
    return {m.name: m for m in metrics}


METRICS: dict[str, dict[str, Metric]] = {
    "multiclass": _registry(
        Metric("accuracy", _accuracy, True),
        Metric("balanced_accuracy", _balanced_accuracy, True),
        Metric("macro_f1", _macro_f1, True),
        Metric("log_loss", _log_loss, False),
        Metric("roc_auc", _roc_auc, True),
    ),
    "multilabel": _registry(
        Metric("micro_f1", _ml_f1("micro"), True),
        Metric("macro_f1", _ml_f1("macro"), True),
        Metric("roc_auc", _label_auc, True),
        Metric("log_loss", _bce, False),
        Metric("subset_accuracy", _subset_accuracy, True),
    ),
}


def get_metric(name: str, task: str = "multiclass") -> Metric:
    """Look a metric up by task and name (multilabel F1 scores threshold at 0.5).

    Raises:
        KeyError: listing the valid names for the task.
    """
    try:
        return METRICS[task][name]
    except KeyError:
        valid = ", ".join(sorted(METRICS.get(task, {})))
        raise KeyError(f"unknown metric '{name}' for task '{task}'; valid: {valid}") from None


def _micro_f1_counts(tp, fp, fn):
    denom = 2 * tp + fp + fn
    return np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)


def tune_thresholds(y: np.ndarray, probs: np.ndarray, mode: str = "per_label", passes: int = 2) -> np.ndarray:
    """Multilabel decision thresholds that maximise micro-F1 on (OOF) predictions.

    Args:
        y: ``(N, L)`` 0/1 labels.
        probs: ``(N, L)`` predicted probabilities.
        mode: ``global`` (one threshold) or ``per_label`` (coordinate ascent from the global one).
        passes: coordinate-ascent sweeps over the labels.

    Returns:
        ``(L,)`` thresholds from a grid of 0.05 .. 0.95.
    """
    grid = np.round(np.arange(0.05, 0.951, 0.025), 3)
    y = np.asarray(y) > 0
    above = probs[None, :, :] >= grid[:, None, None]  # (G, N, L)
    tp = (above & y).sum(1).astype(np.float64)  # (G, L)
    fp = (above & ~y).sum(1).astype(np.float64)
    fn = (~above & y).sum(1).astype(np.float64)
    best_global = int(np.argmax(_micro_f1_counts(tp.sum(1), fp.sum(1), fn.sum(1))))
    choice = np.full(y.shape[1], best_global)
    if mode == "per_label":
        cols = np.arange(y.shape[1])
        for _ in range(passes):
            for j in cols:
                rest = cols != j
                t_rest = tp[choice[rest], cols[rest]].sum()
                f_rest = fp[choice[rest], cols[rest]].sum()
                n_rest = fn[choice[rest], cols[rest]].sum()
                choice[j] = int(np.argmax(_micro_f1_counts(t_rest + tp[:, j], f_rest + fp[:, j], n_rest + fn[:, j])))
    elif mode != "global":
        raise KeyError(f"unknown threshold mode '{mode}'; valid: global, per_label")
    return grid[choice]
