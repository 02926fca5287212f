"""What every input pipeline shares: the ``load -> augment -> finish`` steps and the model's normalisation.

:mod:`foldwise.train.inputs` (images, series) and :mod:`foldwise.train.video_inputs`
(clips) build on these, so neither imports the other's kind.
"""

from __future__ import annotations

import copy

import numpy as np
import torch


class InputsBase:
    """Shared steps: ``batch`` = ``finish(augment(load(rows)))``.

    ``load`` gives the raw batch augmentations and test-time views work on;
    ``finish`` turns it into what the model reads.
    """

    def over(self, data: np.ndarray):
        """The same pipeline (same scaling) over another cache, e.g. the test split."""
        other = copy.copy(self)
        other.data = data
        return other

    def batch(self, rows: np.ndarray, gen: torch.Generator | None = None) -> torch.Tensor:
        """Rows of the cache as a model-ready batch; augmented when ``gen`` is given."""
        x = self.load(rows)
        if gen is not None:
            x = self.augment(x, gen)
        return self.finish(x)


def model_mean_std(model: torch.nn.Module, channels: int, device, ndim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The per-channel mean and std the model expects (its timm-style ``pretrained_cfg``; 0.5 without one).

    Args:
        model: the network.
        channels: channels of the cache (1: the means of the model's RGB values).
        device: where the tensors live.
        ndim: dimensions of a batch (4: ``(B, C, H, W)``; 5: ``(B, C, T, H, W)``).

    Shape:
        Both ``(1, C, 1, ...)`` with ``ndim`` dimensions, float32.
    """
    pcfg = getattr(model, "pretrained_cfg", {}) or {}
    mean, std = list(pcfg.get("mean", (0.5,) * 3)), list(pcfg.get("std", (0.5,) * 3))
    if channels == 1:
        mean, std = [float(np.mean(mean))], [float(np.mean(std))]
    shape = (1, -1) + (1,) * (ndim - 2)
    as_tensor = lambda v: torch.tensor(v, dtype=torch.float32, device=device).view(shape)  # noqa: E731
    return as_tensor(mean), as_tensor(std)
