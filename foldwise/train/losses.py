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


def _bce(label_smoothing: float = 0.0, class_weights: np.ndarray | None = None):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class SmoothBCE(nn.Module):
        """Multilabel BCE on logits with optional ``pos_weight`` and label smoothing.

        Shape:
            logits, target: ``(N, L)``; target is 0/1.
        """

        def __init__(self):
            super().__init__()
            w = None if class_weights is None else torch.as_tensor(class_weights, dtype=torch.float32)
            self.register_buffer("pos_weight", w)

        def forward(self, logits, target):
            target = target * (1 - label_smoothing) + 0.5 * label_smoothing
            return F.binary_cross_entropy_with_logits(logits, target, pos_weight=self.pos_weight)

    return SmoothBCE()


LOSSES: dict[str, Callable] = {"cross_entropy": _cross_entropy, "focal": _focal, "bce": _bce}


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


def with_arc_margin(base, scale: float, margin: float):
    """Wrap a loss so that it sees ArcFace logits with the angular margin on the target classes.

    Args:
        base: the loss on logits (cross-entropy or focal, with their smoothing and weights).
        scale, margin: the head's settings (see :func:`foldwise.models.arcface.arc_margin_logits`).

    Shape:
        logits: ``(N, K)`` = ``scale * cos`` from the ArcFace head; target ``(N,)`` or ``(N, K)``.
    """
    import torch.nn as nn

    from foldwise.models.arcface import arc_margin_logits

    class ArcMarginLoss(nn.Module):
        def __init__(self):
            super().__init__()
            self.base = base

        def forward(self, logits, target):
            return self.base(arc_margin_logits(logits, target, scale, margin), target)

    return ArcMarginLoss()


def balanced_class_weights(y: np.ndarray, n_classes: int) -> np.ndarray:
    """Per-class loss weights from the training fold's targets.

    Multiclass: ``n_samples / (n_classes * count)``, 0 for absent classes.
    Multilabel: BCE ``pos_weight`` = negatives / positives per label (1 where a label never occurs).

    Shape:
        y: ``(N,)`` integer classes or ``(N, L)`` 0/1. Returns ``(n_classes,)`` float32.
    """
    if y.ndim == 2:
        pos = y.sum(0).astype(np.float64)
        return np.where(pos > 0, (len(y) - pos) / np.maximum(pos, 1), 1.0).astype(np.float32)
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    w = np.where(counts > 0, len(y) / (n_classes * np.maximum(counts, 1)), 0.0)
    return w.astype(np.float32)
