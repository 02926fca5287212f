"""Cheap fixed features: per-channel summary statistics of series, pooled pixels of images.

Neither has fitted state: the features of a row depend on that row only.

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


TRANSFORMS = {"summary": Summary, "pixels": Pixels}


def create_transform(name: str, **params):
    """A feature transform of this module by name."""
    return TRANSFORMS[name](**params)


def restore_transform(name: str, params: dict, arrays: dict[str, np.ndarray], threads: int = 1):
    """A transform rebuilt from its saved params and arrays."""
    return TRANSFORMS[name].restore(params, arrays)
