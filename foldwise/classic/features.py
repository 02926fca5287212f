"""Cheap features: per-channel summary statistics of series, pooled pixels of images, tabular columns.

Summary statistics and pooled pixels have no fitted state (a row's features
depend on that row only); tabular columns learn medians and categories from the
training rows.

Shape:
    series ``(N, C, T)`` float (standardised channels) -> ``(N, C * 14)``;
    images ``(N, H, W, C)`` uint8 -> ``(N, pool * pool * C + 2 * C)``.
"""

from __future__ import annotations

import numpy as np

SUMMARY_NAMES = (
    "mean", "std", "min", "max", "q10", "q25", "median", "q75", "q90",
    "slope", "diff_mean_abs", "diff_std", "argmax", "argmin",
)


class Summary:
    """Per-channel summary statistics of a series: location, spread, quantiles, trend, roughness, peak positions."""

    name = "summary"

    def __init__(self, **_):
        self.params = {}

    def fit(self, x: np.ndarray) -> "Summary":
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        n, c, t = x.shape
        q = np.quantile(x, [0.1, 0.25, 0.5, 0.75, 0.9], axis=2)  # (5, N, C)
        steps = np.arange(t, dtype=np.float64) - (t - 1) / 2
        slope = (x * steps).sum(2) / max((steps**2).sum(), 1e-12)
        d = np.diff(x, axis=2) if t > 1 else np.zeros((n, c, 1))
        pos = max(t - 1, 1)
        feats = [
            x.mean(2), x.std(2), x.min(2), x.max(2), *q, slope,
            np.abs(d).mean(2), d.std(2), x.argmax(2) / pos, x.argmin(2) / pos,
        ]
        return np.stack(feats, axis=2).reshape(n, c * len(SUMMARY_NAMES)).astype(np.float32)

    def arrays(self) -> dict[str, np.ndarray]:
        return {}

    @classmethod
    def restore(cls, params: dict, arrays: dict[str, np.ndarray]) -> "Summary":
        return cls(**params)


class Pixels:
    """An image average-pooled to a ``pool`` x ``pool`` grid per channel, plus each channel's mean and std, in [0, 1]."""

    name = "pixels"

    def __init__(self, pool: int = 8, **_):
        self.pool = int(pool)
        self.params = {"pool": self.pool}

    def fit(self, x: np.ndarray) -> "Pixels":
        return self

    def transform(self, x: np.ndarray, batch: int = 1024) -> np.ndarray:
        n, h, w, c = x.shape
        p = min(self.pool, h, w)
        rows = np.linspace(0, h, p + 1).astype(int)
        cols = np.linspace(0, w, p + 1).astype(int)
        out = np.empty((n, p * p * c + 2 * c), dtype=np.float32)
        for start in range(0, n, batch):  # the cache is a memmap: read it in slices
            img = np.asarray(x[start : start + batch], dtype=np.float32) / 255.0
            # integral image: the mean of any cell in O(1)
            ii = np.pad(img.cumsum(1).cumsum(2), ((0, 0), (1, 0), (1, 0), (0, 0)))
            r0, r1, c0, c1 = rows[:-1], rows[1:], cols[:-1], cols[1:]
            sums = (ii[:, r1][:, :, c1] - ii[:, r0][:, :, c1] - ii[:, r1][:, :, c0] + ii[:, r0][:, :, c0])
            area = np.outer(r1 - r0, c1 - c0)[None, :, :, None]
            pooled = (sums / area).reshape(len(img), -1)
            stats = np.concatenate([img.mean((1, 2)), img.std((1, 2))], axis=1)
            out[start : start + len(img)] = np.concatenate([pooled, stats], axis=1)
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        return {}

    @classmethod
    def restore(cls, params: dict, arrays: dict[str, np.ndarray]) -> "Pixels":
        return cls(**params)


class Columns:
    """Tabular feature columns: numeric ones with missing values filled by the training rows' median,
    categorical ones mapped to the training rows' ``max_categories`` commonest values.

    Args:
        categorical: indices of the categorical columns in the cache.
        onehot: one-hot encode the categories (linear heads) instead of passing their index (LightGBM).
        max_categories: most categories kept per column; rarer and unseen ones are missing (all-zero one-hot).

    Shape:
        ``(N, F)`` float32 cache -> ``(N, F')``: numeric columns, then one index (or one-hot block) per
        categorical column; :attr:`categorical_out_` lists the index columns (LightGBM's categorical features).
    """

    name = "columns"

    def __init__(self, categorical=(), onehot: bool = False, max_categories: int = 50, **_):
        self.categorical = [int(c) for c in categorical]
        self.onehot, self.max_categories = bool(onehot), int(max_categories)
        self.params = {"categorical": self.categorical, "onehot": self.onehot, "max_categories": self.max_categories}

    def fit(self, x: np.ndarray) -> "Columns":
        x = np.asarray(x, dtype=np.float64)
        self.numeric_ = np.array([j for j in range(x.shape[1]) if j not in set(self.categorical)], dtype=np.int64)
        num = x[:, self.numeric_]
        with np.errstate(all="ignore"):
            med = np.nanmedian(num, axis=0) if num.size else np.zeros(0)
        self.medians_ = np.where(np.isnan(med), 0.0, med) if len(med) else np.zeros(len(self.numeric_))
        self.codes_ = []
        for j in self.categorical:
            col = x[:, j][~np.isnan(x[:, j])]
            values, counts = np.unique(col, return_counts=True)
            order = np.lexsort((values, -counts))[: self.max_categories]
            self.codes_.append(values[order])
        return self

    @property
    def categorical_out_(self) -> list[int]:
        return [] if self.onehot else list(range(len(self.numeric_), len(self.numeric_) + len(self.categorical)))

    def transform(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        num = x[:, self.numeric_]
        num = np.where(np.isnan(num), self.medians_, num)
        parts = [num]
        for j, codes in zip(self.categorical, self.codes_):
            lookup = {c: i for i, c in enumerate(codes.tolist())}
            idx = np.array([lookup.get(v, -1) for v in x[:, j].tolist()], dtype=np.int64)
            if self.onehot:
                block = np.zeros((len(x), len(codes)))
                block[idx >= 0, idx[idx >= 0]] = 1.0
                parts.append(block)
            else:
                parts.append(np.where(idx >= 0, idx, np.nan)[:, None])
        return np.concatenate(parts, axis=1).astype(np.float32)

    def arrays(self) -> dict[str, np.ndarray]:
        lengths = np.array([len(c) for c in self.codes_], dtype=np.int64)
        codes = np.concatenate(self.codes_) if self.codes_ else np.zeros(0)
        return {"numeric": self.numeric_, "medians": self.medians_, "codes": codes, "code_lengths": lengths}

    @classmethod
    def restore(cls, params: dict, arrays: dict[str, np.ndarray]) -> "Columns":
        out = cls(**params)
        out.numeric_, out.medians_ = arrays["numeric"], arrays["medians"]
        bounds = np.concatenate([[0], np.cumsum(arrays["code_lengths"])]).astype(int)
        out.codes_ = [arrays["codes"][a:b] for a, b in zip(bounds[:-1], bounds[1:])]
        return out


TRANSFORMS = {"summary": Summary, "pixels": Pixels, "columns": Columns}


def create_transform(name: str, **params):
    """A feature transform of this module by name."""
    return TRANSFORMS[name](**params)


def restore_transform(name: str, params: dict, arrays: dict[str, np.ndarray], threads: int = 1):
    """A transform rebuilt from its saved params and arrays."""
    return TRANSFORMS[name].restore(params, arrays)
