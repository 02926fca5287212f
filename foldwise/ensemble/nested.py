"""Nested cross-validation of a blender or stacker: its honest OOF predictions.

Fitting weights (or a level-2 learner) on the OOF predictions and scoring the
result on the same rows is optimistic: the fit has seen every label it is
scored on. Nested, for each outer fold k the blender is fitted on the OOF rows
of the other folds and predicts fold k's rows; the concatenation is the
blend's honest OOF, scored like any model's.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, clone

from foldwise.metrics import get_metric


class NestedFitMixin(BaseEstimator):
    """``fit(probs, y, folds=None)`` for blenders built on a label-free :meth:`_prepare` of the members.

    Subclasses implement ``_prepare(probs) -> Z (M, N, K)``, ``_fit_prepared(Z, y)``
    (sets ``weights_``) and ``_predict_prepared(Z) -> (N, K)``, and store
    ``objective`` and ``task``.

    With ``folds``, :meth:`fit` also learns ``nested_proba_`` ``(N, K)`` (each
    row predicted by the blender fitted without its fold), ``nested_score_``
    (the objective on them), ``fold_ids_`` and ``fold_weights_`` ``(F, M)``
    (the weights fitted without each fold).
    """

    def fit(self, probs: np.ndarray, y: np.ndarray, folds: np.ndarray | None = None):
        """Fit on all rows; with ``folds`` (``(N,)`` fold ids), also in nested fashion. Returns ``self``."""
        z = self._prepare(np.asarray(probs))
        y = np.asarray(y)
        self._fit_prepared(z, y)
        if folds is not None:
            self._fit_nested(z, y, np.asarray(folds))
        return self

    def predict_proba(self, probs: np.ndarray) -> np.ndarray:
        """Blend member predictions ``(M, N, K)`` into ``(N, K)``."""
        return self._predict_prepared(self._prepare(np.asarray(probs)))

    def _fit_nested(self, z: np.ndarray, y: np.ndarray, folds: np.ndarray) -> None:
        if len(folds) != z.shape[1]:
            raise ValueError(f"folds has {len(folds)} entries for {z.shape[1]} rows")
        ids = np.unique(folds)
        if len(ids) < 2:
            raise ValueError("nested fitting needs at least 2 folds")
        out, weights = None, []
        for k in ids:
            held = folds == k
            part = clone(self)
            part._fit_prepared(z[:, ~held], y[~held])
            pred = part._predict_prepared(z[:, held])
            if out is None:
                out = np.empty((z.shape[1], pred.shape[1]))
            out[held] = pred
            weights.append(part.weights_)
        self.fold_ids_ = ids
        self.fold_weights_ = np.array(weights)
        self.nested_proba_ = out
        self.nested_score_ = get_metric(self.objective, self.task)(y, out)


def weight_spread(fold_weights: np.ndarray) -> dict[str, np.ndarray]:
    """Per member: the standard deviation and the range (max - min) of its weight over the folds."""
    fold_weights = np.asarray(fold_weights, dtype=np.float64)
    return {"std": fold_weights.std(axis=0), "range": fold_weights.max(axis=0) - fold_weights.min(axis=0)}
