"""Weighted soft voting of model predictions, with weights given or fitted on OOF.

:class:`WeightedSoftVoting` follows scikit-learn's conventions: ``__init__``
stores settings, :meth:`~WeightedSoftVoting.fit` learns ``weights_`` and
returns ``self``.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from foldwise.errors import FoldwiseError
from foldwise.io import read_parquet_metadata, sha256_json, write_json, write_parquet
from foldwise.metrics import get_metric
from foldwise.oof import fold_scores, prob_columns
from foldwise.tasks import get_task

log = logging.getLogger(__name__)

METHODS = ("optimize", "hill_climb", "equal", "given")
_EPS = 1e-15


class WeightedSoftVoting:
    """Blend member probabilities with non-negative weights summing to 1.

    Args:
        method: ``optimize`` (SLSQP on the simplex for log loss; Nelder-Mead for
            the other, piecewise-constant objectives), ``hill_climb`` (greedy
            selection with replacement, Caruana et al. 2004), ``equal`` or ``given``.
        weights: member weights for ``given``.
        objective: metric name the weights are fitted to.
        hill_climb_iters: steps of hill climbing.
        task: ``multiclass`` or ``multilabel`` (which metric set ``objective`` names).

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
    ):
        self.method = method
        self.weights = weights
        self.objective = objective
        self.hill_climb_iters = hill_climb_iters
        self.task = task

    def fit(self, probs: np.ndarray, y: np.ndarray) -> "WeightedSoftVoting":
        """Learn ``weights_`` (``(M,)``) and ``score_`` (the objective on ``probs``)."""
        if self.method not in METHODS:
            raise KeyError(f"unknown ensemble method '{self.method}'; valid: {', '.join(METHODS)}")
        probs = np.asarray(probs, dtype=np.float64)
        y = np.asarray(y)
        m = probs.shape[0]
        metric = get_metric(self.objective, self.task)
        self.member_scores_ = np.array([metric(y, p) for p in probs])
        losses = -self.member_scores_ if metric.greater_is_better else self.member_scores_
        if self.method == "equal":
            w = np.full(m, 1.0 / m)
        elif self.method == "given":
            w = np.asarray(self.weights, dtype=np.float64)
            if w.shape != (m,) or (w < 0).any() or w.sum() <= 0:
                raise ValueError(f"given weights must be {m} non-negative numbers with a positive sum")
        elif self.method == "hill_climb":
            w = self._hill_climb(probs, y, metric, losses)
        else:
            w = self._optimize(probs, y, metric)
        w = w / w.sum()
        blend = np.tensordot(w, probs, 1)
        if self.method in ("optimize", "hill_climb"):
            # Never worse on OOF than the best single member.
            best = int(np.argmin(losses))
            if metric.loss(y, blend) > losses[best]:
                w = np.eye(m)[best]
                blend = probs[best]
        self.weights_ = w
        self.score_ = metric(y, blend)
        return self

    def predict_proba(self, probs: np.ndarray) -> np.ndarray:
        """Weighted average of member probabilities. Returns ``(N, K)``."""
        return np.tensordot(self.weights_, np.asarray(probs, dtype=np.float64), 1)

    def _optimize(self, probs, y, metric) -> np.ndarray:
        from scipy.optimize import minimize

        m = probs.shape[0]
        if self.objective == "log_loss" and y.ndim == 1:
            q = probs[:, np.arange(len(y)), y]  # (M, N): each member's probability of the true class

            def fun(w):
                p = np.maximum(w @ q, _EPS)
                return -np.mean(np.log(p)), -(q / p).mean(axis=1)

            jac = True
        elif self.objective == "log_loss":
            # Multilabel BCE: the probability each member gives the observed outcome per (row, label).
            q = np.where(y[None] > 0, probs, 1 - probs).reshape(m, -1)

            def fun(w):
                p = np.maximum(w @ q, _EPS)
                return -np.mean(np.log(p)), -(q / p).mean(axis=1)

            jac = True
        else:
            # Accuracy-like metrics are piecewise constant in w: SLSQP's finite-difference
            # gradient is 0 and it stops at x0. Nelder-Mead needs no gradient; the simplex
            # constraint is kept by normalising w inside the objective.
            def loss(v):
                s = v.sum()
                return metric.loss(y, np.tensordot(v / s, probs, 1)) if s > 0 else np.inf

            res = minimize(
                loss, np.full(m, 1.0 / m), method="Nelder-Mead", bounds=[(0.0, 1.0)] * m,
                options={"xatol": 1e-3, "fatol": 1e-9, "maxfev": 200 * m},
            )
            w = np.clip(res.x, 0, None)
            return w if w.sum() > 0 else np.full(m, 1.0 / m)
        res = minimize(
            fun, np.full(m, 1.0 / m), jac=jac, method="SLSQP", bounds=[(0.0, 1.0)] * m,
            constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1, "jac": lambda w: np.ones_like(w)}],
            options={"maxiter": 200, "ftol": 1e-10},
        )
        w = np.clip(res.x, 0, None)
        return w if w.sum() > 0 else np.full(m, 1.0 / m)

    def _hill_climb(self, probs, y, metric, losses) -> np.ndarray:
        # Caruana et al.: add, with replacement, the member that helps most;
        # keep the best blend seen along the whole path.
        m = probs.shape[0]
        counts = np.zeros(m)
        counts[int(np.argmin(losses))] = 1
        total = probs[int(np.argmin(losses))].copy()
        best_loss, best_counts = losses.min(), counts.copy()
        fast = self.objective == "log_loss" and y.ndim == 1  # multiclass log loss: scored on (M, N) arrays
        if fast:
            # Only each row's true-class probability and row sum matter: score
            # all M candidates on (M, N) arrays instead of M full (N, K) blends.
            # The row sum leaves out the metric's clipping of entries below
            # 1e-15 (a relative difference below K * 1e-15); the chosen
            # candidate's loss is then computed exactly with the metric.
            rows = np.arange(len(y))
            q, r = probs[:, rows, y], probs.sum(axis=2)
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
                np.maximum(buf, _EPS * (n + 1), out=buf)
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
                j = int(np.argmin([metric.loss(y, (total + probs[k]) / (n + 1)) for k in range(m)]))
            cand = metric.loss(y, (total + probs[j]) / (n + 1))
            counts[j] += 1
            total += probs[j]
            if cand < best_loss - 1e-12:
                best_loss, best_counts = cand, counts.copy()
        return best_counts


def _load_members(members: list[str], oof_paths: list[str], test_paths: list[str]):
    oofs = [pd.read_parquet(p) for p in oof_paths]
    tests = [pd.read_parquet(p) for p in test_paths]
    metas = {name: read_parquet_metadata(p) for name, p in zip(members, oof_paths)}
    splits = {name: m.get("folds_sha256") for name, m in metas.items()}
    if len(set(splits.values())) != 1:
        detail = ", ".join(f"{n}: {str(s)[:12]}" for n, s in splits.items())
        raise FoldwiseError(f"ensemble members were trained on different fold splits ({detail}); re-run them")
    for name, o, t in zip(members, oofs, tests):
        if not o["id"].equals(oofs[0]["id"]) or not t["id"].equals(tests[0]["id"]):
            raise FoldwiseError(f"ensemble member '{name}' predicts other ids than '{members[0]}'")
        if prob_columns(o) != prob_columns(oofs[0]):
            raise FoldwiseError(f"ensemble member '{name}' has other classes than '{members[0]}'")
    return oofs, tests, splits[members[0]], {n: m.get("config_sha256") for n, m in metas.items()}


def run_ensemble(
    name: str,
    members: list[str],
    oof_paths: list[str],
    test_paths: list[str],
    settings: dict,
    classes: list[str],
    target_col: str,
    metric: str,
    out_oof: str,
    out_test: str,
    out_weights: str,
    out_scores: str,
    task: str = "multiclass",
) -> dict:
    """Fit an ensemble on its members' OOF predictions and write its files."""
    oofs, tests, folds_sha, member_configs = _load_members(members, oof_paths, test_paths)
    config_sha = sha256_json({"settings": settings, "members": member_configs})
    cols = prob_columns(oofs[0])
    y = get_task(task).encode(oofs[0][target_col], classes)
    given = settings.get("weights")
    blender = WeightedSoftVoting(
        method=settings["method"],
        weights=[given[m] for m in members] if given and settings["method"] == "given" else None,
        objective=settings["objective"],
        hill_climb_iters=settings["hill_climb_iters"],
        task=task,
    ).fit(np.stack([o[cols].to_numpy() for o in oofs]), y)
    oof = oofs[0][["id", "fold", target_col]].copy()
    oof[cols] = blender.predict_proba(np.stack([o[cols].to_numpy() for o in oofs])).astype(np.float32)
    test = tests[0][["id"]].copy()
    test[cols] = blender.predict_proba(np.stack([t[cols].to_numpy() for t in tests])).astype(np.float32)
    meta = {"folds_sha256": folds_sha, "config_sha256": config_sha, "ensemble": name}
    write_parquet(oof, out_oof, meta)
    write_parquet(test, out_test, meta)
    weights = {
        "method": settings["method"],
        "objective": settings["objective"],
        "weights": dict(zip(members, map(float, blender.weights_))),
        "oof_objective": float(blender.score_),
        "member_oof_objective": dict(zip(members, map(float, blender.member_scores_))),
        "folds_sha256": folds_sha,
    }
    write_json(out_weights, weights)
    scores = {"name": name, "kind": "ensemble", **fold_scores(oof, target_col, classes, metric, task), **meta}
    write_json(out_scores, scores)
    log.info("%s: weights %s; CV %s %.5f", name, weights["weights"], metric, scores["cv"])
    return weights
