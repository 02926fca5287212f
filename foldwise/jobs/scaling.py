"""Standardisation learned on a fold's training rows: one class for series channels and feature columns.

The nets' series inputs, the classic models' series channels and the linear
heads' features are all standardised with the mean and (population) standard
deviation of the training rows, in float64, a near-constant column keeping
scale 1. They differ only in what they must keep bit for bit from before
this class: the near-zero threshold (``eps``) and the name the scale is saved
under (``scale_key``).
"""

from __future__ import annotations

import numpy as np

# Series channels (a net's inputs, a classic model's series): the settings they have always had.
CHANNELS = {"eps": 1e-8, "scale_key": "std"}


class Standardiser:
    """Per-column mean/std standardisation over the last axis, statistics in float64.

    Args:
        eps: a standard deviation at or below it is replaced by 1 (the column is only centred).
        scale_key: the name :meth:`arrays` saves the scale under (``std`` for series channels,
            ``scale`` for features: the names saved states already carry).

    Shape:
        fit: ``(..., C)``, every axis but the last pooled (``(N, T, C)`` series: per channel;
        ``(N, F)`` features: per feature). transform: any ``(..., C)`` -> float32, same shape.
    """

    def __init__(self, eps: float = 1e-12, scale_key: str = "scale"):
        self.eps, self.scale_key = float(eps), scale_key

    def fit(self, x: np.ndarray) -> "Standardiser":
        sample = np.asarray(x, dtype=np.float64)
        sample = sample.reshape(-1, sample.shape[-1]) if sample.ndim > 2 else sample
        self.mean_, std = sample.mean(0), sample.std(0)
        self.scale_ = np.where(std > self.eps, std, 1.0)
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        return ((np.asarray(x, dtype=np.float64) - self.mean_) / self.scale_).astype(np.float32)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"mean": self.mean_, self.scale_key: self.scale_}

    @classmethod
    def restore(cls, arrays: dict[str, np.ndarray], **params) -> "Standardiser":
        """A fitted standardiser from :meth:`arrays` (``params`` as the constructor's)."""
        out = cls(**params)
        out.mean_, out.scale_ = arrays["mean"], arrays[out.scale_key]
        return out

