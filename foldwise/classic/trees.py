"""Extremely randomised trees (scikit-learn's ``ExtraTreesClassifier``), kept and applied as plain arrays.

The QUANT paper's classifier: 200 trees, ``max_features=0.1`` of the features
tried per split, entropy criterion, fully grown (``min_samples_leaf=1``).
Multilabel: one multi-output forest, each leaf holding every label's rate.

scikit-learn fits the forest (seeded, ``n_jobs`` = the job's threads); its trees
are then read into five flat arrays over every node of every tree — split
feature, threshold, left and right child (global node indices, -1 at leaves)
and the leaf's class probabilities — plus each tree's root. Prediction walks
all trees at once over these arrays (``x[feature] <= threshold`` goes left, on
float32 features as scikit-learn compares them) and averages the leaves'
probabilities, so the fitted model and one restored from the state archive use
the same code and give the same probabilities; no estimator object is pickled.
"""

from __future__ import annotations

import numpy as np


class ExtraTreesHead:
    """ExtraTrees classifier on feature matrices.

    Args:
        n_estimators: trees (200 in the QUANT paper).
        max_features: fraction of the features tried at each split (0.1).
        criterion: ``entropy`` (the paper), ``gini`` or ``log_loss``.
        min_samples_leaf: fewest training rows per leaf (1: fully grown).
        class_weights: ``none`` or ``balanced``.
        seed: the forest's random state.
        threads: ``n_jobs`` while fitting.
    """

    def __init__(self, n_estimators: int = 200, max_features: float = 0.1, criterion: str = "entropy",
                 min_samples_leaf: int = 1, class_weights: str = "none", seed: int = 0, threads: int = 1, **_):
        self.n_estimators, self.max_features, self.criterion = int(n_estimators), float(max_features), criterion
        self.min_samples_leaf, self.class_weights = int(min_samples_leaf), class_weights
        self.seed, self.threads = int(seed), max(1, int(threads))
        self.multilabel = False

    def fit(self, x: np.ndarray, y: np.ndarray, n_classes: int, multilabel: bool = False, **_) -> "ExtraTreesHead":
        """Fit on ``x`` (N, F) and ``y``: class indices (N,) or a 0/1 matrix (N, L)."""
        from sklearn.ensemble import ExtraTreesClassifier

        forest = ExtraTreesClassifier(
            n_estimators=self.n_estimators, max_features=self.max_features, criterion=self.criterion,
            min_samples_leaf=self.min_samples_leaf, class_weight="balanced" if self.class_weights == "balanced" else None,
            random_state=self.seed, n_jobs=self.threads,
        ).fit(np.asarray(x, dtype=np.float32), np.asarray(y))
        self.multilabel = multilabel
        self._read_forest(forest, n_classes, multilabel)
        return self

    def _read_forest(self, forest, n_classes: int, multilabel: bool) -> None:
        """The fitted trees as flat arrays (see the module's docstring)."""
        feature, threshold, left, right, value, roots = [], [], [], [], [], []
        offset = 0
        for est in forest.estimators_:
            t = est.tree_
            leaf = t.children_left < 0
            feature.append(np.where(leaf, 0, t.feature).astype(np.int64))
            threshold.append(np.where(leaf, 0.0, t.threshold).astype(np.float64))
            left.append(np.where(leaf, -1, t.children_left + offset).astype(np.int64))
            right.append(np.where(leaf, -1, t.children_right + offset).astype(np.int64))
            value.append(self._leaf_proba(t.value, forest, n_classes, multilabel))
            roots.append(offset)
            offset += t.node_count
        self.feature_, self.threshold_ = np.concatenate(feature), np.concatenate(threshold)
        self.left_, self.right_ = np.concatenate(left), np.concatenate(right)
        self.value_, self.roots_ = np.concatenate(value), np.asarray(roots, dtype=np.int64)

    @staticmethod
    def _leaf_proba(value: np.ndarray, forest, n_classes: int, multilabel: bool) -> np.ndarray:
        """Per node: class probabilities over all ``n_classes`` (multilabel: each label's rate)."""
        value = value / np.maximum(value.sum(-1, keepdims=True), 1e-300)  # (nodes, outputs, classes)
        if multilabel:
            cols = []
            for j, classes in enumerate(forest.classes_):
                hit = np.flatnonzero(np.asarray(classes) == 1)
                cols.append(value[:, j, hit[0]] if len(hit) else np.zeros(len(value)))
            return np.stack(cols, 1)
        out = np.zeros((len(value), n_classes))
        out[:, np.asarray(forest.classes_, dtype=np.int64)] = value[:, 0, : len(forest.classes_)]
        return out

    def leaves(self, x: np.ndarray) -> np.ndarray:
        """The leaf every row of ``x`` (N, F) reaches in every tree: ``(N, n_trees)`` global node indices."""
        x = np.asarray(x, dtype=np.float32)
        rows = np.arange(len(x))[:, None]
        node = np.broadcast_to(self.roots_, (len(x), len(self.roots_))).copy()
        while True:
            inner = self.left_[node] >= 0
            if not inner.any():
                return node
            go_left = x[rows, self.feature_[node]] <= self.threshold_[node]
            node = np.where(inner, np.where(go_left, self.left_[node], self.right_[node]), node)

    def predict_proba(self, x: np.ndarray, batch: int = 2048) -> np.ndarray:
        parts = [self.value_[self.leaves(x[s : s + batch])].mean(1) for s in range(0, len(x), batch)]
        k = self.value_.shape[1]
        return np.concatenate(parts) if parts else np.zeros((0, k))

    def arrays(self) -> dict[str, np.ndarray]:
        return {"feature": self.feature_, "threshold": self.threshold_, "left": self.left_, "right": self.right_,
                "value": self.value_, "roots": self.roots_}

    @classmethod
    def restore(cls, params: dict, arrays: dict[str, np.ndarray], multilabel: bool = False) -> "ExtraTreesHead":
        out = cls(**params)
        out.feature_, out.threshold_ = arrays["feature"], arrays["threshold"]
        out.left_, out.right_, out.value_, out.roots_ = arrays["left"], arrays["right"], arrays["value"], arrays["roots"]
        out.multilabel = multilabel
        return out

    def info(self) -> dict:
        return {"trees": int(len(self.roots_)), "nodes": int(len(self.feature_))}


HEADS = {"extratrees": ExtraTreesHead}


def create_head(name: str, **params):
    """The ExtraTrees head."""
    return HEADS[name](**params)


def restore_head(name: str, params: dict, arrays: dict[str, np.ndarray], multilabel: bool = False):
    return HEADS[name].restore(params, arrays, multilabel)
