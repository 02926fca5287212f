"""Batch mixing: MixUp and CutMix through timm's :class:`timm.data.Mixup`, seeded and resumable.

timm draws its mixing parameters from NumPy's global random state; here every
batch reseeds that state from the fold's seeded torch generator (and puts the
global state back afterwards), so mixing is reproducible, resumes from a
checkpoint like every other augmentation, and leaves other NumPy users alone.

Targets are mixed as dense class weights: a multiclass batch's class indices
(or soft pseudo-labels) become one-hot rows first; a multilabel batch keeps its
0/1 rows, so a mixed row carries the union of both rows' labels, each label
weighted by the share of the image it comes from (1 where both rows have it).
Label smoothing stays with the loss, which applies it to the mixed targets.

Config (``models.<name>.mix``): ``mixup_alpha``, ``cutmix_alpha``, ``prob``,
``switch_prob``, ``mode`` and ``off_last_epochs``. CutMix cuts rectangles, so it
is for images only; MixUp works on series too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class MixConfig:
    """MixUp/CutMix settings; see the schema for each field."""

    mixup_alpha: float = 0.0
    cutmix_alpha: float = 0.0
    prob: float = 1.0
    switch_prob: float = 0.5
    mode: str = "batch"
    off_last_epochs: int = 0

    @property
    def enabled(self) -> bool:
        return self.mixup_alpha > 0 or self.cutmix_alpha > 0

    def active(self, epoch: int, epochs: int) -> bool:
        """Whether batches of ``epoch`` (1-based) are mixed: on, and not in the last ``off_last_epochs``."""
        return self.enabled and epoch <= epochs - self.off_last_epochs


class BatchMixer:
    """Mix a batch and its targets with timm's ``Mixup``.

    Args:
        cfg: the settings.
        n_classes: number of classes or labels K.

    Shape:
        x: ``(B, C, H, W)`` images or ``(B, C, T)`` series (MixUp only); target ``(B,)`` class
        indices or ``(B, K)`` weights. Returns x of the same shape and ``(B, K)`` float targets.
        An odd batch mixes its first ``B - 1`` rows (timm pairs rows) and keeps the last as it is.
    """

    def __init__(self, cfg: MixConfig, n_classes: int):
        from timm.data import Mixup

        self.cfg, self.n_classes = cfg, n_classes
        self.mixup = Mixup(
            mixup_alpha=cfg.mixup_alpha, cutmix_alpha=cfg.cutmix_alpha, prob=cfg.prob, switch_prob=cfg.switch_prob,
            mode=cfg.mode, label_smoothing=0.0, num_classes=n_classes, multi_label=True,
        )

    def dense(self, target: torch.Tensor) -> torch.Tensor:
        """Class indices -> one-hot float rows; weights pass through as float."""
        if target.ndim == 1:
            return F.one_hot(target, self.n_classes).float()
        return target.float()

    def __call__(self, x: torch.Tensor, target: torch.Tensor, gen: torch.Generator):
        target = self.dense(target)
        n = len(x) - len(x) % 2
        if n < 2:
            return x, target
        seed = int(torch.randint(0, 2**31 - 1, (1,), generator=gen))
        saved = np.random.get_state()
        np.random.seed(seed)
        try:
            head, head_target = self.mixup(x[:n], target[:n])  # mixes x in place
        finally:
            np.random.set_state(saved)
        if n == len(x):
            return head, head_target
        return torch.cat([head, x[n:]]), torch.cat([head_target, target[n:]])


def create_mixer(mix: dict, n_classes: int) -> BatchMixer | None:
    """A :class:`BatchMixer` for the ``mix`` settings, or None when mixing is off."""
    cfg = MixConfig(**mix)
    return BatchMixer(cfg, n_classes) if cfg.enabled else None
