"""Exponential moving average of the weights, through timm's :class:`timm.utils.ModelEmaV3`.

The average is updated after every optimiser step, validated beside the raw
weights after every epoch, and saved in the fold's checkpoint, so a resumed job
continues the same average. The fold keeps whichever weights score better on
the validation rows (:mod:`foldwise.train.fold`).

Config (``models.<name>.ema``): ``decay`` (0 = off, e.g. 0.999) and ``warmup``
(timm's decay warm-up ``1 - (1 + step) ** -2/3``, capped at ``decay``, which
lets short runs average over a sensible window).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class EmaConfig:
    """EMA settings; see the schema for each field."""

    decay: float = 0.0
    warmup: bool = True

    @property
    def enabled(self) -> bool:
        return self.decay > 0


class WeightAverage:
    """An EMA copy of a model, stepped by the optimiser's step count.

    Args:
        model: the trained (uncompiled) model; the copy is made on its device, in float32.
        cfg: the settings.
    """

    def __init__(self, model: torch.nn.Module, cfg: EmaConfig):
        from timm.utils import ModelEmaV3

        self.cfg = cfg
        self.ema = ModelEmaV3(model, decay=cfg.decay, use_warmup=cfg.warmup)

    @property
    def module(self) -> torch.nn.Module:
        """The averaged model (in eval mode)."""
        return self.ema.module

    def update(self, model: torch.nn.Module, step: int) -> None:
        """Fold the weights after optimiser step ``step`` (1-based) into the average."""
        self.ema.update(model, step=step)

    def state_dict(self) -> dict:
        return self.ema.module.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.ema.module.load_state_dict(state)


def create_ema(model: torch.nn.Module, ema: dict) -> WeightAverage | None:
    """A :class:`WeightAverage` for the ``ema`` settings, or None when it is off."""
    cfg = EmaConfig(**ema)
    return WeightAverage(model, cfg) if cfg.enabled else None
