"""Batch-level image augmentation on the training device.

Works on a whole float batch at once (one ``affine_grid``/``grid_sample`` call),
so augmenting costs little next to the forward pass and runs on the GPU when
there is one. Randomness comes from a CPU :class:`torch.Generator`, which makes
it reproducible and resumable across devices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from foldwise.train.degrade import degrade


@dataclass(frozen=True)
class AugmentConfig:
    """Augmentation strengths; see the schema for each field."""

    hflip: float = 0.0
    vflip: float = 0.0
    shift: float = 0.1
    scale: float = 0.1
    rotate: float = 10.0
    cutout: float = 0.0
    roll: float = 0.0
    noise: float = 0.0
    blur: float = 0.0
    blur_sigma: float = 1.0
    jpeg: float = 0.0
    jpeg_quality: int = 30
    brightness: float = 0.0
    contrast: float = 0.0


class BatchAugment:
    """Flip, shift/scale/rotate, the photometric degradations of :mod:`foldwise.train.degrade`
    (brightness/contrast, Gaussian blur, JPEG-style compression, Gaussian noise) and cutout,
    applied per sample to a batch, in that order.

    Args:
        cfg: strengths.

    Shape:
        x: ``(N, C, H, W)`` float in ``[0, 1]``; returns the same shape.
    """

    def __init__(self, cfg: AugmentConfig):
        self.cfg = cfg

    def __call__(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        cfg, n = self.cfg, x.shape[0]

        def rand(*shape):
            return torch.rand(*shape, generator=gen).to(x.device, non_blocking=True)

        if cfg.hflip > 0:
            x = torch.where((rand(n) < cfg.hflip)[:, None, None, None], x.flip(-1), x)
        if cfg.vflip > 0:
            x = torch.where((rand(n) < cfg.vflip)[:, None, None, None], x.flip(-2), x)
        if cfg.shift > 0 or cfg.scale > 0 or cfg.rotate > 0:
            u = rand(n, 4) * 2 - 1
            angle = u[:, 0] * math.radians(cfg.rotate)
            scale = 1 + u[:, 1] * cfg.scale
            cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
            theta = torch.stack(
                [torch.stack([cos, -sin, u[:, 2] * 2 * cfg.shift], 1), torch.stack([sin, cos, u[:, 3] * 2 * cfg.shift], 1)],
                1,
            ).to(x.dtype)
            grid = F.affine_grid(theta, list(x.shape), align_corners=False)
            x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        x = degrade(x, cfg, gen)
        if cfg.cutout > 0:
            h, w = x.shape[-2:]
            cy, cx, apply = rand(n) * h, rand(n) * w, rand(n) < cfg.cutout
            ys = torch.arange(h, device=x.device)[None, :, None]
            xs = torch.arange(w, device=x.device)[None, None, :]
            box = ((ys - cy[:, None, None]).abs() < h / 4) & ((xs - cx[:, None, None]).abs() < w / 4)
            x = x.masked_fill((box & apply[:, None, None])[:, None], 0.0)
        return x


class SeriesAugment:
    """Random roll, amplitude scaling and Gaussian noise for a batch of series.

    Uses ``roll`` (largest circular shift, as a fraction of the length),
    ``scale`` (largest amplitude change, 0.1 = 0.9x to 1.1x per sample) and
    ``noise`` (standard deviation, in standardised units).

    Shape:
        x: ``(N, C, T)`` standardised float; returns the same shape.
    """

    def __init__(self, cfg: AugmentConfig):
        self.cfg = cfg

    def __call__(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        cfg, (n, _, t) = self.cfg, x.shape
        if cfg.roll > 0:
            shifts = (torch.rand(n, generator=gen) * 2 - 1) * cfg.roll * t
            idx = (torch.arange(t)[None, :] - shifts.round().long()[:, None]) % t
            x = torch.gather(x, 2, idx.to(x.device)[:, None, :].expand_as(x))
        if cfg.scale > 0:
            factor = 1 + (torch.rand(n, 1, 1, generator=gen) * 2 - 1) * cfg.scale
            x = x * factor.to(x.device)
        if cfg.noise > 0:
            x = x + torch.randn(x.shape, generator=gen).to(x.device) * cfg.noise
        return x
