"""Linear heads on feature matrices, with probabilities: a calibrated ridge classifier and logistic regression.

``ridge`` is the ROCKET papers' classifier (and aeon's/sktime's): one-vs-rest
ridge regression on +-1 targets of standardised features, the penalty chosen
among ``alphas`` by the exact leave-one-out error (the GCV shortcut, as
scikit-learn's ``RidgeClassifierCV`` does). A ridge classifier has no
probabilities, and a blend needs them: the same leave-one-out pass gives every
training row's out-of-sample decision values, on which one softmax temperature
(multiclass) or one Platt scaling (multilabel) is fitted by log loss. The arg-max
is unchanged, so accuracy equals the plain ridge classifier's, and nothing is
refitted.

``logistic`` is scikit-learn's ``LogisticRegression`` (L2, lbfgs; one binary
model per label for multilabel), whose probabilities are calibrated by
construction: the linear baseline for any data kind.

Both read features standardised by :class:`foldwise.jobs.scaling.Standardiser`
and keep only arrays (coefficients, intercepts, scaling), saved and loaded by
:mod:`foldwise.classic.state` without pickle.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize, minimize_scalar
from scipy.special import expit, log_softmax, softmax

DEFAULT_ALPHAS = tuple(np.logspace(-3, 3, 10).tolist())  # as RidgeClassifierCV in aeon and sktime


class _LinearHead:
    """Decision values ``x @ coef_.T + intercept_`` turned into probabilities."""

    multilabel = False

    def decision(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=np.float64) @ self.coef_.T + self.intercept_

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        d = self.decision(x)
        if self.multilabel:
            return expit(self.scale_[0] * d + self.scale_[1])
        return softmax(self.scale_[0] * d, axis=1)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"coef": self.coef_, "intercept": self.intercept_, "scale": self.scale_}

    def _restore(self, arrays: dict[str, np.ndarray], multilabel: bool):
        self.coef_, self.intercept_, self.scale_ = arrays["coef"], arrays["intercept"], arrays["scale"]
        self.multilabel = multilabel
        return self


class RidgeHead(_LinearHead):
    """One-vs-rest ridge classifier, penalty by leave-one-out error, probabilities by a fitted temperature.

    Args:
        alphas: candidate penalties (``None``: ``logspace(-3, 3, 10)``).
    """

    def __init__(self, alphas=None, **_):
        self.alphas = tuple(float(a) for a in (alphas or DEFAULT_ALPHAS))

    def fit(self, x: np.ndarray, y: np.ndarray, n_classes: int, multilabel: bool = False, **_) -> "RidgeHead":
        """Fit on features ``x`` (N, F) and targets ``y``: class indices (N,) or a 0/1 matrix (N, L)."""
        x = np.asarray(x, dtype=np.float64)
        targets = np.asarray(y, dtype=np.float64) if multilabel else np.eye(n_classes)[np.asarray(y)]
        t = 2.0 * targets - 1.0  # +-1, as RidgeClassifier encodes classes
        x_mean, t_mean = x.mean(0), t.mean(0)
        xc, tc = x - x_mean, t - t_mean
        n, f = xc.shape
        # One eigendecomposition serves every alpha: of the N x N Gram matrix when features outnumber
        # rows (ROCKET: ~50,000 features), else of the F x F covariance. In its eigenbasis Z (N x r, the
        # centred rows' coordinates, squared norms lam), ridge's fit is Z diag(1 / (lam + alpha)) Z^T t.
        if n <= f:
            lam, q = np.linalg.eigh(xc @ xc.T)
            lam = np.clip(lam, 0.0, None)
            z = q * np.sqrt(lam)  # Z = Q diag(sqrt(lam)): Z Z^T = X X^T
        else:
            lam, v = np.linalg.eigh(xc.T @ xc)
            lam = np.clip(lam, 0.0, None)
            z = xc @ v
        zt_t = z.T @ tc
        best = None
        for alpha in self.alphas:
            inv = 1.0 / (lam + alpha)
            fitted = z @ (inv[:, None] * zt_t) + t_mean
            hat = (z**2) @ inv + 1.0 / n  # leverage, intercept included
            loo = t - (t - fitted) / np.maximum(1.0 - hat, 1e-12)[:, None]
            err = float(np.mean((t - loo) ** 2))
            if best is None or err < best[0] - 1e-12:
                best = (err, alpha, loo)
        _, self.alpha_, loo = best
        inv = 1.0 / (lam + self.alpha_)
        if n <= f:  # w = X^T (X X^T + alpha I)^-1 t
            w = xc.T @ (q @ (inv[:, None] * (q.T @ tc)))
        else:  # w = (X^T X + alpha I)^-1 X^T t
            w = v @ (inv[:, None] * (v.T @ (xc.T @ tc)))
        self.coef_, self.intercept_ = w.T, t_mean - x_mean @ w
        self.multilabel = multilabel
        self.scale_ = _platt(loo, targets) if multilabel else np.array([_temperature(loo, np.asarray(y))])
        return self

    @classmethod
    def restore(cls, params: dict, arrays: dict[str, np.ndarray], multilabel: bool = False) -> "RidgeHead":
        return cls(**params)._restore(arrays, multilabel)

    def info(self) -> dict:
        return {"alpha": self.alpha_, "temperature": float(self.scale_[0])}


class LogisticHead(_LinearHead):
    """L2 logistic regression (lbfgs); multilabel: one binary model per label.

    Args:
        C: inverse regularisation strength.
        max_iter: lbfgs iterations.
        class_weights: ``none`` or ``balanced``.
        seed: random state.
    """

    def __init__(self, C: float = 1.0, max_iter: int = 1000, class_weights: str = "none", seed: int = 0, **_):
        self.C, self.max_iter, self.class_weights, self.seed = float(C), int(max_iter), class_weights, int(seed)

    def _model(self):
        from sklearn.linear_model import LogisticRegression

        weight = "balanced" if self.class_weights == "balanced" else None
        return LogisticRegression(C=self.C, max_iter=self.max_iter, class_weight=weight, random_state=self.seed)

    def fit(self, x: np.ndarray, y: np.ndarray, n_classes: int, multilabel: bool = False, **_) -> "LogisticHead":
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y)
        k = y.shape[1] if multilabel else n_classes
        coef, intercept = np.zeros((k, x.shape[1])), np.zeros(k)
        if multilabel:
            for j in range(k):
                coef[j], intercept[j] = self._binary(x, y[:, j])
            self.scale_ = np.array([1.0, 0.0])
        else:
            present = np.unique(y)
            intercept[:] = -30.0  # a class absent from the training rows gets ~0 probability
            if len(present) == 1:
                intercept[present[0]] = 0.0
            else:
                m = self._model().fit(x, y)
                if len(present) == 2:  # binary: one decision d, softmax over (-d/2, d/2) is [1 - sigmoid(d), sigmoid(d)]
                    coef[present] = np.stack([-m.coef_[0] / 2, m.coef_[0] / 2])
                    intercept[present] = [-m.intercept_[0] / 2, m.intercept_[0] / 2]
                else:
                    coef[present], intercept[present] = m.coef_, m.intercept_
            self.scale_ = np.array([1.0])
        self.coef_, self.intercept_, self.multilabel = coef, intercept, multilabel
        return self

    def _binary(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
        rate = float(np.clip(y.mean(), 1e-4, 1 - 1e-4))
        if y.min() == y.max():  # a label that is always (or never) on in the training rows
            return np.zeros(x.shape[1]), float(np.log(rate / (1 - rate)))
        m = self._model().fit(x, y.astype(int))
        return m.coef_[0], float(m.intercept_[0])

    @classmethod
    def restore(cls, params: dict, arrays: dict[str, np.ndarray], multilabel: bool = False) -> "LogisticHead":
        return cls(**params)._restore(arrays, multilabel)

    def info(self) -> dict:
        return {"C": self.C}


def _temperature(decision: np.ndarray, y: np.ndarray) -> float:
    """The softmax temperature minimising the log loss of ``decision`` (N, K) against class indices ``y``."""

    def loss(log_t: float) -> float:
        return -float(log_softmax(np.exp(log_t) * decision, axis=1)[np.arange(len(y)), y].mean())

    res = minimize_scalar(loss, bounds=(-5.0, 5.0), method="bounded")
    return float(np.exp(res.x))


def _platt(decision: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """One slope and intercept for ``sigmoid(a * d + b)`` over every label, by log loss."""
    d, t = decision.ravel(), targets.ravel()

    def loss(ab):
        z = ab[0] * d + ab[1]
        return float(np.mean(np.logaddexp(0, z) - t * z))

    return minimize(loss, np.array([1.0, 0.0]), method="L-BFGS-B").x


HEADS = {"ridge": RidgeHead, "logistic": LogisticHead}


def create_head(name: str, **params):
    """A head of this module by name (``ridge`` or ``logistic``)."""
    return HEADS[name](**params)


def restore_head(name: str, params: dict, arrays: dict[str, np.ndarray], multilabel: bool = False):
    """A head rebuilt from its saved params and arrays."""
    return HEADS[name].restore(params, arrays, multilabel)
