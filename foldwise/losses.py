"""Losses by name. torch is imported when a loss is built, not when the registry is read."""

from __future__ import annotations

from typing import Callable

import numpy as np


def _cross_entropy(label_smoothing: float = 0.0, class_weights: np.ndarray | None = None):
    import torch
    import torch.nn as nn

    weight = None if class_weights is None else torch.as_tensor(class_weights, dtype=torch.float32)
    return nn.CrossEntropyLoss(weight=weight, label_smoothing=label_smoothing)


def _focal(label_smoothing: float = 0.0, class_weights: np.ndarray | None = None, gamma: float = 2.0):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class FocalLoss(nn.Module):
        """Multiclass focal loss (Lin et al., 2017) on logits.

        Shape:
            logits: ``(N, K)``; target: ``(N,)`` class indices.
        """

        def __init__(self):
            super().__init__()
            w = None if class_weights is None else torch.as_tensor(class_weights, dtype=torch.float32)
            self.register_buffer("weight", w)

        def forward(self, logits, target):
            ce = F.cross_entropy(logits, target, weight=self.weight, reduction="none", label_smoothing=label_smoothing)
            pt = torch.exp(-F.cross_entropy(logits, target, reduction="none"))
            return ((1 - pt) ** gamma * ce).mean()

    return FocalLoss()


LOSSES: dict[str, Callable] = {"cross_entropy": _cross_entropy, "focal": _focal}


def create_loss(name: str, **kwargs):
    """Build a loss module by name.

    Args:
        name: one of :data:`LOSSES`.
        **kwargs: ``label_smoothing``, ``class_weights`` (``(K,)`` array or None).

    Raises:
        KeyError: listing the valid names.
    """
    try:
        builder = LOSSES[name]
    except KeyError:
        raise KeyError(f"unknown loss '{name}'; valid: {', '.join(sorted(LOSSES))}") from None
    return builder(**kwargs)


def balanced_class_weights(y: np.ndarray, n_classes: int) -> np.ndarray:
    """``n_samples / (n_classes * count)`` per class; classes absent from ``y`` get weight 0.

    Shape:
        y: ``(N,)`` integer classes. Returns ``(n_classes,)`` float32.
    """
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    w = np.where(counts > 0, len(y) / (n_classes * np.maximum(counts, 1)), 0.0)
    return w.astype(np.float32)
