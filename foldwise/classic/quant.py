"""QUANT features (Dempster, Schmidt & Webb 2024): quantiles over fixed dyadic intervals.

Four representations of each channel: the series, its first and second
differences, and the magnitude of its real Fourier transform. Each is cut into
dyadic intervals — depth ``j = 0 … depth-1`` splits it into ``2**j`` equal
intervals (boundaries ``floor(i * L / 2**j)``), and for ``j >= 1`` the same
intervals shifted right by ``ceil(L / 2**(j+1))`` are added (all but the last,
which would run off the end) unless the intervals are a single step long; the
depth is capped at ``floor(log2(L)) + 1``. An interval of ``n`` steps gives
``1 + (n - 1) // div`` quantiles, evenly spaced from the minimum to the maximum
(linear interpolation; one quantile: the median; one step: the value itself),
and every second quantile has the interval's mean subtracted. Multivariate
series: the same features for every channel, side by side.

Nothing is drawn at random and nothing is fitted from the rows: the intervals
depend on the series length only, so the features are the same for every seed
(the randomness of the QUANT family is its extremely randomised trees,
:mod:`foldwise.classic.trees`). The transform is NumPy.
"""

from __future__ import annotations

import math

import numpy as np

REPRESENTATIONS = ("series", "diff1", "diff2", "fourier")


def represent(x: np.ndarray) -> list[np.ndarray]:
    """The four representations of ``x`` (N, C, T): series, first and second difference, |rfft|."""
    x = np.asarray(x, dtype=np.float64)
    out = [x]
    out.append(np.diff(x, 1, axis=-1) if x.shape[-1] > 1 else x.copy())
    out.append(np.diff(x, 2, axis=-1) if x.shape[-1] > 2 else out[1].copy())
    out.append(np.abs(np.fft.rfft(x, axis=-1)))
    return out


def make_intervals(length: int, depth: int) -> np.ndarray:
    """The dyadic intervals (start, end) of a representation of ``length`` steps, shifted ones included."""
    levels = min(int(depth), int(math.log2(max(length, 1))) + 1)
    out = []
    for j in range(levels):
        n = 2**j
        edges = np.floor(np.arange(n + 1) * length / n).astype(np.int64)
        ivs = np.stack([edges[:-1], edges[1:]], 1)
        out.append(ivs)
        if n > 1 and np.median(np.diff(ivs, axis=1)) > 1:
            out.append(ivs[:-1] + int(math.ceil(length / n / 2)))
    return np.concatenate(out).astype(np.int64)


def interval_quantiles(seg: np.ndarray, div: int) -> np.ndarray:
    """Quantile features of one interval ``seg`` (N, C, n) -> (N, C * q)."""
    n_rows, n_ch, n = seg.shape
    if n == 1:
        return seg.reshape(n_rows, n_ch)
    q = 1 + (n - 1) // div
    if q == 1:
        return np.median(seg, axis=-1)
    qs = np.moveaxis(np.quantile(seg, np.linspace(0, 1, q), axis=-1), 0, -1)  # (N, C, q)
    qs[..., 1::2] -= seg.mean(-1, keepdims=True)
    return qs.reshape(n_rows, n_ch * q)


class Quant:
    """The QUANT transform.

    Args:
        depth: interval depth (6 in the paper: 1, 2, 4, … 32 intervals plus the shifted ones).
        div: quantile divisor (4 in the paper: an interval of n steps gives 1 + (n - 1) // 4 quantiles).
        seed: unused by the features (kept in ``params`` for the state's header).

    Shape:
        ``(N, C, T)`` -> ``(N, F)`` float32.
    """

    def __init__(self, depth: int = 6, div: int = 4, seed: int = 0, threads: int = 1, **_):
        self.depth, self.div = int(depth), int(div)
        self.params = {"depth": self.depth, "div": self.div}
        self.name = "quant"

    def fit(self, x: np.ndarray) -> "Quant":
        """The intervals of each representation of series shaped like ``x`` (N, C, T)."""
        lengths = [r.shape[-1] for r in represent(np.zeros((1, 1, x.shape[-1])))]
        self.intervals_ = [make_intervals(n, self.depth) for n in lengths]
        self.n_channels_ = int(x.shape[1])
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        if x.shape[1] != self.n_channels_:
            raise ValueError(f"QUANT was fitted on {self.n_channels_} channels, got {x.shape[1]}")
        feats = []
        for rep, ivs in zip(represent(x), self.intervals_):
            feats += [interval_quantiles(rep[..., a:b], self.div) for a, b in ivs.tolist()]
        return np.concatenate(feats, axis=1).astype(np.float32)

    def arrays(self) -> dict[str, np.ndarray]:
        return {**{f"intervals{i}": v for i, v in enumerate(self.intervals_)},
                "n_channels": np.asarray(self.n_channels_, dtype=np.int64)}

    @classmethod
    def restore(cls, params: dict, arrays: dict[str, np.ndarray], threads: int = 1) -> "Quant":
        out = cls(**params)
        out.intervals_ = [arrays[f"intervals{i}"] for i in range(len(REPRESENTATIONS))]
        out.n_channels_ = int(arrays["n_channels"])
        return out


def create_transform(name: str, **params) -> Quant:
    """The ``quant`` transform."""
    return Quant(**params)


def restore_transform(name: str, params: dict, arrays: dict[str, np.ndarray], threads: int = 1) -> Quant:
    return Quant.restore(params, arrays, threads)
