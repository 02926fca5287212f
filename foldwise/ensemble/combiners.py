"""How a weighted blend pools its members: the combiners, by name.

A combiner maps member probabilities into a space where the blend is a
weighted mean (:meth:`Combiner.prepare`), and that mean back to predictions
(:meth:`Combiner.output`):

- ``mean``: the arithmetic mean of the probabilities (soft voting).
- ``geometric``: the weighted mean of log-probabilities, renormalised by a
  softmax (multiclass), or of log-odds through the sigmoid (multilabel): the
  logarithmic opinion pool. A member that is sure a class is wrong vetoes it.
- ``power``: ``(sum_i w_i p_i^a)^(1/a)``, rows renormalised (multiclass); ``a = 1``
  is the mean, ``a -> 0`` the geometric mean, ``a > 1`` leans on confident members.
- ``rank``: the weighted mean of each class's (label's) ranks among the rows
  predicted together, scaled to (0, 1]; multiclass rows are renormalised to sum
  to 1. Scores for AUC-type metrics, not calibrated probabilities.

:meth:`Combiner.prepare` reads no labels, so it is computed once over all OOF
rows and nested fitting takes row subsets of its output.

Shape:
    probs ``(M, N, K)`` member probabilities; prepared ``Z`` ``(M, N, K)``
    float64; ``S = w @ Z`` ``(N, K)``; y ``(N,)`` class indices (multiclass) or
    ``(N, K)`` 0/1 (multilabel).
"""

from __future__ import annotations

import numpy as np

EPS = 1e-15  # the metrics' clipping (foldwise.metrics)


class Combiner:
    """Weighted mean in a transformed space. Subclasses set ``name`` and the transforms.

    Args:
        task: ``multiclass`` or ``multilabel``.
    """

    name = ""
    calibrated = True  # outputs are probabilities (log loss makes sense)
    keeps_members = True  # output(prepare(p)) == p for one member: its scores are its raw scores

    def __init__(self, task: str = "multiclass"):
        self.task = task

    @property
    def multiclass(self) -> bool:
        return self.task == "multiclass"

    def prepare(self, probs: np.ndarray) -> np.ndarray:
        """``(M, N, K)`` probabilities -> ``(M, N, K)`` float64 values to average."""
        raise NotImplementedError

    def output(self, s: np.ndarray) -> np.ndarray:
        """A weighted mean ``(N, K)`` of prepared values -> predictions ``(N, K)``."""
        raise NotImplementedError

    def log_loss_grad(self, s: np.ndarray, y: np.ndarray) -> np.ndarray:
        """d(log loss of ``output(s)``)/d``s``, ``(N, K)``: with it, SLSQP gets an exact gradient."""
        raise NotImplementedError(f"combiner '{self.name}' has no log-loss gradient")


def _renormalise(p: np.ndarray) -> np.ndarray:
    return p / np.maximum(p.sum(axis=-1, keepdims=True), EPS)


def _onehot(y: np.ndarray, k: int) -> np.ndarray:
    return np.eye(k)[y]


class Mean(Combiner):
    name = "mean"

    def prepare(self, probs):
        return np.asarray(probs, dtype=np.float64)

    def output(self, s):
        return s

    def log_loss_grad(self, s, y):
        n = len(s)
        if self.multiclass:  # the metric renormalises rows: L = -mean log(s_y / sum s)
            rows = np.arange(n)
            g = np.broadcast_to(1 / np.maximum(s.sum(1, keepdims=True), EPS), s.shape).copy()
            g[rows, y] -= 1 / np.maximum(s[rows, y], EPS)
            return g / n
        p = np.clip(s, EPS, 1 - EPS)
        return (p - y) / (p * (1 - p)) / s.size


class Geometric(Combiner):
    name = "geometric"

    def prepare(self, probs):
        p = np.clip(np.asarray(probs, dtype=np.float64), EPS, 1 - EPS if not self.multiclass else 1.0)
        return np.log(p) if self.multiclass else np.log(p) - np.log1p(-p)

    def output(self, s):
        if self.multiclass:
            e = np.exp(s - s.max(1, keepdims=True))
            return e / e.sum(1, keepdims=True)
        return 1 / (1 + np.exp(-s))

    def log_loss_grad(self, s, y):
        p = self.output(s)
        return (p - _onehot(y, s.shape[1])) / len(s) if self.multiclass else (p - y) / s.size


class Power(Combiner):
    """Args: power: the exponent ``a`` (> 0)."""

    name = "power"

    def __init__(self, task: str = "multiclass", power: float = 2.0):
        super().__init__(task)
        if not power > 0:
            raise ValueError(f"power must be > 0, got {power}")
        self.power = float(power)

    def prepare(self, probs):
        return np.clip(np.asarray(probs, dtype=np.float64), 0.0, 1.0) ** self.power

    def output(self, s):
        b = np.maximum(s, EPS) ** (1 / self.power)
        return _renormalise(b) if self.multiclass else np.clip(b, 0.0, 1.0)

    def log_loss_grad(self, s, y):
        s = np.maximum(s, EPS)
        p = self.output(s)
        if self.multiclass:  # L = -log b_y + log sum b, db_k/ds_k = b_k / (a s_k)
            return (p - _onehot(y, s.shape[1])) / (self.power * s) / len(s)
        p = np.clip(p, EPS, 1 - EPS)
        return (p - y) / ((1 - p) * self.power * s) / s.size


class Rank(Combiner):
    name = "rank"
    calibrated = False
    keeps_members = False

    def prepare(self, probs):
        from scipy.stats import rankdata

        probs = np.asarray(probs, dtype=np.float64)
        return rankdata(probs, axis=1, method="average") / max(1, probs.shape[1])

    def output(self, s):
        return _renormalise(s) if self.multiclass else s


def weighted_sum(w: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``sum_i w_i z_i`` ``(N, K)``, member by member: each row's value does not depend on which other
    rows are in ``z`` (a BLAS product may round differently on a subset), so a blend predicts a row the
    same in nested fitting as on all rows."""
    out = w[0] * z[0]
    for wi, zi in zip(w[1:], z[1:]):
        if wi:
            out += wi * zi
    return out


COMBINERS: dict[str, type[Combiner]] = {c.name: c for c in (Mean, Geometric, Power, Rank)}


def get_combiner(name: str, task: str = "multiclass", power: float = 2.0) -> Combiner:
    """A combiner by name.

    Raises:
        KeyError: listing the valid names.
    """
    try:
        cls = COMBINERS[name]
    except KeyError:
        raise KeyError(f"unknown combiner '{name}'; valid: {', '.join(COMBINERS)}") from None
    return cls(task, power) if cls is Power else cls(task)
