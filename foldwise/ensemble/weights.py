"""Weighted blends of member predictions, with weights given or fitted on OOF predictions.

:class:`WeightedSoftVoting` follows scikit-learn's conventions: ``__init__``
stores settings, :meth:`~WeightedSoftVoting.fit` learns ``weights_`` and
returns ``self``. Its ``combiner`` (:mod:`foldwise.ensemble.combiners`) says
how members are pooled; the fitting methods work with every combiner.
"""

from __future__ import annotations

import numpy as np

from foldwise.ensemble.combiners import EPS, get_combiner, weighted_sum
from foldwise.ensemble.nested import NestedFitMixin
from foldwise.metrics import get_metric

METHODS = ("optimize", "hill_climb", "equal", "given")
FITTED = ("optimize", "hill_climb")


class WeightedSoftVoting(NestedFitMixin):
    """Blend member predictions with non-negative weights summing to 1.

    Args:
        method: ``optimize`` (SLSQP on the simplex for log loss; Nelder-Mead for
            the other, piecewise-constant objectives), ``hill_climb`` (greedy
            selection with replacement, Caruana et al. 2004), ``equal`` or ``given``.
        weights: member weights for ``given``.
        objective: metric name the weights are fitted to.
        hill_climb_iters: steps of hill climbing.
        task: ``multiclass`` or ``multilabel`` (which metric set ``objective`` names).
        combiner: ``mean`` (soft voting), ``geometric``, ``power`` or ``rank``.
        power: the exponent of the ``power`` combiner.

    Learned: ``weights_`` ``(M,)``, ``score_`` (the objective of the blend on
    the rows it was fitted on: in-sample), ``member_scores_`` (each member
    alone through the combiner); with ``folds``, the nested attributes of
    :class:`~foldwise.ensemble.nested.NestedFitMixin`.

    Shape:
        probs: ``(M, N, K)`` member probabilities; y: ``(N,)`` class indices
        (multiclass) or ``(N, K)`` 0/1 labels (multilabel).
    """

    def __init__(
        self,
        method: str = "optimize",
        weights=None,
        objective: str = "log_loss",
        hill_climb_iters: int = 100,
        task: str = "multiclass",
        combiner: str = "mean",
        power: float = 2.0,
    ):
        self.method = method
        self.weights = weights
        self.objective = objective
        self.hill_climb_iters = hill_climb_iters
        self.task = task
        self.combiner = combiner
        self.power = power

    def _combiner(self):
        return get_combiner(self.combiner, self.task, self.power)

    def _prepare(self, probs):
        if self.method not in METHODS:
            raise KeyError(f"unknown ensemble method '{self.method}'; valid: {', '.join(METHODS)}")
        return self._combiner().prepare(probs)

    def _predict_prepared(self, z):
        return self._combiner().output(weighted_sum(self.weights_, z))

    def _fit_prepared(self, z, y):
        comb = self._combiner()
        metric = get_metric(self.objective, self.task)
        if self.objective == "log_loss" and not comb.calibrated:
            raise ValueError(f"combiner '{self.combiner}' gives no probabilities: fit it to an AUC-type objective")
        m = z.shape[0]
        fast = comb.name == "mean" and self.objective == "log_loss" and y.ndim == 1
        rows = np.arange(len(y))
        if fast:  # the metric's own formula, from each member's true-class probability and clipped row sum
            clipped_sums = np.array([np.maximum(zi, EPS).sum(axis=1) for zi in z])  # member by member: no (M, N, K) copy
            losses = -np.mean(np.log(np.maximum(z[:, rows, y], EPS) / clipped_sums), axis=1)
        else:
            losses = np.array([metric.loss(y, comb.output(zi)) for zi in z])
        self.member_scores_ = -losses if metric.greater_is_better else losses
        if self.method == "equal":
            w = np.full(m, 1.0 / m)
        elif self.method == "given":
            w = np.asarray(self.weights, dtype=np.float64)
            if w.shape != (m,) or (w < 0).any() or w.sum() <= 0:
                raise ValueError(f"given weights must be {m} non-negative numbers with a positive sum")
        elif self.method == "hill_climb":
            w = self._hill_climb(z, y, metric, losses, comb)
        else:
            w = self._optimize(z, y, metric, comb)
        w = w / w.sum()
        blend = comb.output(weighted_sum(w, z))
        loss = metric.loss(y, blend)
        if self.method in FITTED:
            # Never worse on OOF than the best single member.
            best = int(np.argmin(losses))
            if loss > losses[best]:
                w, loss = np.eye(m)[best], losses[best]
        self.weights_ = w
        self.score_ = -loss if metric.greater_is_better else loss
        return self

    def _optimize(self, z, y, metric, comb) -> np.ndarray:
        from scipy.optimize import minimize

        m = z.shape[0]
        if self.objective == "log_loss" and comb.name == "mean":
            if y.ndim == 1:
                q = z[:, np.arange(len(y)), y]  # (M, N): each member's probability of the true class
            else:
                # Multilabel BCE: the probability each member gives the observed outcome per (row, label).
                q = np.where(y[None] > 0, z, 1 - z).reshape(m, -1)

            def fun(w):
                p = np.maximum(w @ q, EPS)
                return -np.mean(np.log(p)), -(q @ (1 / p)) / len(p)  # a matrix-vector product, no (M, N) temporary

        elif self.objective == "log_loss":
            # Smooth in w: the combiner's exact gradient, d loss/d w_i = sum(Z_i * d loss/d S).
            def fun(w):
                s = np.tensordot(w, z, 1)
                return metric.loss(y, comb.output(s)), np.tensordot(z, comb.log_loss_grad(s, y), 2)

        else:
            # Accuracy-like metrics are piecewise constant in w: SLSQP's finite-difference
            # gradient is 0 and it stops at x0. Nelder-Mead needs no gradient; the simplex
            # constraint is kept by normalising w inside the objective.
            def loss(v):
                s = v.sum()
                return metric.loss(y, comb.output(np.tensordot(v / s, z, 1))) if s > 0 else np.inf

            res = minimize(
                loss, np.full(m, 1.0 / m), method="Nelder-Mead", bounds=[(0.0, 1.0)] * m,
                options={"xatol": 1e-3, "fatol": 1e-9, "maxfev": 200 * m},
            )
            w = np.clip(res.x, 0, None)
            return w if w.sum() > 0 else np.full(m, 1.0 / m)
        res = minimize(
            fun, np.full(m, 1.0 / m), jac=True, method="SLSQP", bounds=[(0.0, 1.0)] * m,
            constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1, "jac": lambda w: np.ones_like(w)}],
            options={"maxiter": 200, "ftol": 1e-10},
        )
        w = np.clip(res.x, 0, None)
        return w if w.sum() > 0 else np.full(m, 1.0 / m)

    def _hill_climb(self, z, y, metric, losses, comb) -> np.ndarray:
        # Caruana et al.: add, with replacement, the member that helps most;
        # keep the best blend seen along the whole path.
        m = z.shape[0]
        counts = np.zeros(m)
        counts[int(np.argmin(losses))] = 1
        total = z[int(np.argmin(losses))].copy()
        best_loss, best_counts = losses.min(), counts.copy()
        fast = comb.name == "mean" and self.objective == "log_loss" and y.ndim == 1
        if fast:
            # Multiclass log loss of soft voting: only each row's true-class probability and
            # row sum matter, so all M candidates are scored on (M, N) arrays instead of M
            # full (N, K) blends. The row sum leaves out the metric's clipping of entries
            # below 1e-15 (a relative difference below K * 1e-15); the chosen candidate's
            # loss is then computed exactly with the metric.
            rows = np.arange(len(y))
            q, r = z[:, rows, y], z.sum(axis=2)
            q_total, r_total = total[rows, y].copy(), total.sum(axis=1)
            # Rows that sum to 1 within 1e-6: mean(log(row sum)) is linear in
            # the row sums to within 1e-12, so it costs O(M) per step.
            r_linear = bool(np.abs(r - 1).max() < 1e-6)
            r_mean = r.mean(axis=1)
            buf = np.empty_like(q)
        for _ in range(self.hill_climb_iters):
            n = counts.sum()
            if fast:
                np.add(q_total, q, out=buf)
                np.maximum(buf, EPS * (n + 1), out=buf)
                np.log(buf, out=buf)
                approx = -buf.mean(axis=1)  # up to a constant: - mean log of the true-class probability
                if r_linear:
                    approx += (r_total.mean() + r_mean - (n + 1)) / (n + 1)
                else:
                    approx += np.log(r_total + r).mean(axis=1) - np.log(n + 1)
                j = int(np.argmin(approx))
                q_total += q[j]
                r_total += r[j]
            else:
                j = int(np.argmin([metric.loss(y, comb.output((total + z[k]) / (n + 1))) for k in range(m)]))
            cand = metric.loss(y, comb.output((total + z[j]) / (n + 1)))
            counts[j] += 1
            total += z[j]
            if cand < best_loss - 1e-12:
                best_loss, best_counts = cand, counts.copy()
        return best_counts
