"""Stacking: a level-2 learner on the members' OOF predictions.

The default learner is a logistic regression on the members' log-probabilities
(multiclass: one multinomial model on all members' classes) or log-odds
(multilabel: one model per label on that label's member log-odds). Any
scikit-learn classifier can take its place by import path
(``sklearn.ensemble.HistGradientBoostingClassifier``); its parameters come
from ``params``, and ``random_state`` from ``seed`` when it has one.

Like every blender here it is fitted nested for its honest CV
(:class:`~foldwise.ensemble.nested.NestedFitMixin`), then refitted on all OOF
rows and applied to the fold-averaged test predictions.
"""

from __future__ import annotations

import importlib

import numpy as np

from foldwise.ensemble.nested import NestedFitMixin
from foldwise.metrics import get_metric

LOGISTIC = "logistic"
CLIP = 1e-6  # log-probabilities below log(1e-6) carry no more information, only leverage


def load_learner(path: str):
    """The classifier class named by ``path`` (``package.module.Class``), or LogisticRegression for ``logistic``.

    Raises:
        ValueError: a path that names no class with ``fit`` and ``predict_proba``.
    """
    if path == LOGISTIC:
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression
    module, _, name = path.rpartition(".")
    if not module:
        raise ValueError(f"'{path}' is not an import path (package.module.Class) nor '{LOGISTIC}'")
    try:
        cls = getattr(importlib.import_module(module), name)
    except ImportError as exc:
        raise ValueError(f"cannot import {module}: {exc}") from None
    except AttributeError:
        raise ValueError(f"module {module} has no '{name}'") from None
    if not (isinstance(cls, type) and hasattr(cls, "fit") and hasattr(cls, "predict_proba")):
        raise ValueError(f"'{path}' is not a classifier class with fit and predict_proba")
    return cls


class Stacker(NestedFitMixin):
    """A level-2 classifier on member predictions.

    Args:
        learner: ``logistic`` or the import path of a scikit-learn classifier.
        params: keyword arguments of the learner (logistic: ``C`` 1.0, ``max_iter`` 1000 unless given).
        objective: the metric the nested and in-sample predictions are scored with
            (the learner fits its own loss).
        task: ``multiclass`` or ``multilabel``.
        seed: ``random_state`` of learners that take one.

    Learned: ``models_`` (one fitted learner; multilabel: one per label),
    ``weights_`` ``(M,)`` (each member's share of the absolute coefficients or
    feature importances; uniform when the learner has neither), ``score_``
    (in-sample objective), ``member_scores_``; with ``folds``, the nested attributes.

    Shape:
        probs ``(M, N, K)``; features ``(N, M * K)`` multiclass, ``(N, M)`` per label multilabel.
    """

    def __init__(self, learner: str = LOGISTIC, params=None, objective: str = "log_loss",
                 task: str = "multiclass", seed: int = 0):
        self.learner = learner
        self.params = params
        self.objective = objective
        self.task = task
        self.seed = seed

    def fit(self, probs, y, folds=None):
        """Fit on all rows (with ``folds``, also nested). Returns ``self``."""
        metric = get_metric(self.objective, self.task)
        self.member_scores_ = np.array([metric(y, p) for p in np.asarray(probs, dtype=np.float64)])
        return super().fit(probs, y, folds)

    def _new_learner(self):
        cls = load_learner(self.learner)
        params = dict(self.params or {})
        if self.learner == LOGISTIC:
            params = {"C": 1.0, "max_iter": 1000, **params}
        if "random_state" in cls().get_params() and "random_state" not in params:
            params["random_state"] = self.seed
        return cls(**params)

    def _prepare(self, probs):
        p = np.clip(np.asarray(probs, dtype=np.float64), CLIP, 1 - CLIP)
        return np.log(p) if self.task == "multiclass" else np.log(p) - np.log1p(-p)

    @staticmethod
    def _features(z, label=None):
        m, n, k = z.shape
        if label is not None:
            return z[:, :, label].T  # (N, M)
        return z.transpose(1, 0, 2).reshape(n, m * k)

    def _fit_prepared(self, z, y):
        m, _, k = z.shape
        if self.task == "multiclass":
            model = self._new_learner().fit(self._features(z), y)
            self.models_ = [model]
            importance = self._importance(model, m, k)
        else:
            self.models_, importance = [], np.zeros(m)
            for j in range(k):
                target = y[:, j].astype(int)
                if target.min() == target.max():  # a label that never (or always) occurs here
                    model = _Constant(float(target[0]))
                else:
                    model = self._new_learner().fit(self._features(z, j), target)
                self.models_.append(model)
                importance += self._importance(model, m, 1)
        total = importance.sum()
        self.weights_ = importance / total if total > 0 else np.full(m, 1.0 / m)
        self.score_ = get_metric(self.objective, self.task)(y, self._predict_prepared(z))
        return self

    def _predict_prepared(self, z):
        if self.task == "multiclass":
            model = self.models_[0]
            out = np.zeros((z.shape[1], z.shape[2]))
            out[:, model.classes_] = model.predict_proba(self._features(z))  # classes absent from a fit stay 0
            return out
        return np.stack([mod.predict_proba(self._features(z, j))[:, -1] for j, mod in enumerate(self.models_)], axis=1)

    @staticmethod
    def _importance(model, m: int, k: int) -> np.ndarray:
        for attr in ("coef_", "feature_importances_"):
            value = getattr(model, attr, None)
            if value is not None:
                return np.abs(np.asarray(value, dtype=np.float64)).reshape(-1, m, k).sum(axis=(0, 2))
        return np.zeros(m)


class _Constant:
    """The learner of a label with one class in its training rows: that class's rate."""

    def __init__(self, rate: float):
        self.rate = rate

    def predict_proba(self, x):
        return np.column_stack([np.full(len(x), 1 - self.rate), np.full(len(x), self.rate)])
