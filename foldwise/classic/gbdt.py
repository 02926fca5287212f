"""Gradient-boosted trees (LightGBM) on feature matrices, early-stopped on the fold's validation rows.

Multiclass: one ``multiclass`` booster; multilabel: one ``binary`` booster per
label. Seeds are fixed and ``deterministic`` is on, so a rerun with the same
threads gives the same trees; ``num_threads`` comes from the rule's threads.
The number of rounds is chosen by early stopping on the validation rows, the
same rows the OOF predictions are made on — as the nets' best epoch is. The
fitted boosters are kept in LightGBM's own text model format (parsed, never
executed) inside the state archive.
"""

from __future__ import annotations

import numpy as np

from foldwise.classic.state import array_text, text_array


class LightGBMHead:
    """LightGBM classifier.

    Args:
        n_estimators: most boosting rounds.
        learning_rate, num_leaves, max_depth, min_child_samples, subsample, colsample_bytree,
            reg_alpha, reg_lambda: the usual LightGBM parameters.
        early_stopping_rounds: stop after this many rounds without a better validation log loss
            (0: train every round).
        class_weights: ``none`` or ``balanced`` (sample weights n / (K * count)).
        seed: every LightGBM seed.
        threads: ``num_threads``.
    """

    multilabel = False

    def __init__(
        self, n_estimators: int = 1000, learning_rate: float = 0.05, num_leaves: int = 31, max_depth: int = -1,
        min_child_samples: int = 5, subsample: float = 1.0, colsample_bytree: float = 1.0, reg_alpha: float = 0.0,
        reg_lambda: float = 0.0, early_stopping_rounds: int = 50, class_weights: str = "none", seed: int = 0,
        threads: int = 1, **_,
    ):
        self.n_estimators, self.early_stopping_rounds = int(n_estimators), int(early_stopping_rounds)
        self.class_weights, self.seed, self.threads = class_weights, int(seed), max(1, int(threads))
        self.params = {
            "learning_rate": float(learning_rate), "num_leaves": int(num_leaves), "max_depth": int(max_depth),
            "min_data_in_leaf": int(min_child_samples), "bagging_fraction": float(subsample),
            "bagging_freq": 1 if subsample < 1 else 0, "feature_fraction": float(colsample_bytree),
            "lambda_l1": float(reg_alpha), "lambda_l2": float(reg_lambda),
        }

    def _params(self, objective: dict) -> dict:
        return {
            **self.params, **objective, "seed": self.seed, "deterministic": True, "force_col_wise": True,
            "num_threads": self.threads, "verbosity": -1,
        }

    def fit(self, x, y, n_classes: int, multilabel: bool = False, x_valid=None, y_valid=None,
            categorical=None, **_) -> "LightGBMHead":
        """Fit on ``x`` (N, F) and ``y``; early-stop on ``(x_valid, y_valid)`` when given.

        ``categorical``: indices of columns holding category indices (LightGBM's categorical features).
        """
        y = np.asarray(y)
        self._categorical = list(categorical) if categorical else "auto"
        self.multilabel = multilabel
        if multilabel:
            jobs = [(y[:, j], None if y_valid is None else y_valid[:, j], {"objective": "binary"}) for j in range(y.shape[1])]
        else:
            jobs = [(y, y_valid, {"objective": "multiclass", "num_class": n_classes})]
        self.models_, self.best_iterations_, last = [], [], []
        # Early stopping picks the round on the validation rows, so their probabilities at that round are an
        # optimistic CV (as a net's best epoch); the last round trained is scored beside it (cv_last_epoch).
        self.selects_on_valid_ = x_valid is not None and self.early_stopping_rounds > 0
        for target, target_valid, objective in jobs:
            booster = self._train(x, target, x_valid, target_valid, objective, n_classes)
            self.models_.append(booster.model_to_string(num_iteration=booster.best_iteration or -1))
            self.best_iterations_.append(int(booster.best_iteration or booster.current_iteration()))
            if self.selects_on_valid_:
                last.append(booster.predict(np.asarray(x_valid), num_iteration=booster.current_iteration(),
                                            num_threads=self.threads))
        self.last_valid_proba_ = (np.stack(last, axis=1) if multilabel else last[0]) if last else None
        self._boosters = None
        return self

    def _train(self, x, y, x_valid, y_valid, objective, n_classes):
        import lightgbm as lgb

        weight = None
        if self.class_weights == "balanced":
            counts = np.bincount(y.astype(int), minlength=2 if self.multilabel else n_classes).astype(float)
            weight = (len(y) / (len(counts) * np.maximum(counts, 1)))[y.astype(int)]
        x, y = np.ascontiguousarray(x), np.ascontiguousarray(y)
        train = lgb.Dataset(x, label=y, weight=weight, params={"verbosity": -1}, free_raw_data=True,
                            categorical_feature=self._categorical)
        callbacks, valid_sets = [], []
        if x_valid is not None and self.early_stopping_rounds > 0:
            valid_sets = [lgb.Dataset(np.ascontiguousarray(x_valid), label=np.ascontiguousarray(y_valid),
                                      reference=train)]
            callbacks = [lgb.early_stopping(self.early_stopping_rounds, first_metric_only=True, verbose=False)]
        return lgb.train(
            self._params(objective), train, num_boost_round=self.n_estimators, valid_sets=valid_sets,
            callbacks=callbacks,
        )

    def _load(self):
        import lightgbm as lgb

        if getattr(self, "_boosters", None) is None:
            self._boosters = [lgb.Booster(model_str=s) for s in self.models_]
        return self._boosters

    def predict_proba(self, x) -> np.ndarray:
        outs = [b.predict(np.asarray(x), num_threads=self.threads) for b in self._load()]
        if self.multilabel:
            return np.stack(outs, axis=1)
        return outs[0]

    def arrays(self) -> dict[str, np.ndarray]:
        out = {f"booster{i}": text_array(s) for i, s in enumerate(self.models_)}
        out["best_iterations"] = np.asarray(self.best_iterations_, dtype=np.int64)
        return out

    @classmethod
    def restore(cls, params: dict, arrays: dict[str, np.ndarray], multilabel: bool = False) -> "LightGBMHead":
        out = cls(**params)
        n = sum(1 for k in arrays if k.startswith("booster"))
        out.models_ = [array_text(arrays[f"booster{i}"]) for i in range(n)]
        out.best_iterations_ = arrays["best_iterations"].tolist()
        out.multilabel, out._boosters = multilabel, None
        return out

    def info(self) -> dict:
        return {"best_iteration": int(max(self.best_iterations_))}


HEADS = {"lightgbm": LightGBMHead}


def create_head(name: str, **params):
    """The LightGBM head."""
    return HEADS[name](**params)


def restore_head(name: str, params: dict, arrays: dict[str, np.ndarray], multilabel: bool = False):
    return HEADS[name].restore(params, arrays, multilabel)
