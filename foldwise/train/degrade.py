"""Photometric degradations of an image batch, per sample, on the device.

What the competition write-ups added beside flips and shifts: brightness and
contrast jitter, Gaussian blur, JPEG-style compression and Gaussian noise.
Each sample draws its own strength from the caller's seeded generator (through
``rand``), so a batch is reproducible, and resumable from a checkpoint of the
generator, on any device (the draws are made on the CPU). A setting of 0 draws nothing, so turning one on
leaves the random stream of the others' configs unchanged.

Shape:
    x: ``(N, C, H, W)`` float in ``[0, 1]``; every function returns the same shape, clamped to ``[0, 1]``.
"""

from __future__ import annotations

import math
import torch
import torch.nn.functional as F

# The JPEG standard's luminance quantisation table (quality 50), used for every channel.
_JPEG_LUMA = torch.tensor(
    [
        [16, 11, 10, 16, 24, 40, 51, 61],
        [12, 12, 14, 19, 26, 58, 60, 55],
        [14, 13, 16, 24, 40, 57, 69, 56],
        [14, 17, 22, 29, 51, 87, 80, 62],
        [18, 22, 37, 56, 68, 109, 103, 77],
        [24, 35, 55, 64, 81, 104, 113, 92],
        [49, 64, 78, 87, 103, 121, 120, 101],
        [72, 92, 95, 98, 112, 100, 103, 99],
    ],
    dtype=torch.float32,
)


def degrade(x: torch.Tensor, cfg, gen: torch.Generator) -> torch.Tensor:
    """Apply the degradations ``cfg`` turns on (see :class:`foldwise.train.augment.AugmentConfig`).

    Args:
        x: the batch.
        cfg: ``brightness``, ``contrast`` (largest change, 0.2 = ±20 %), ``blur`` (probability)
            with ``blur_sigma`` (largest sigma in pixels), ``jpeg`` (probability) with
            ``jpeg_quality`` (lowest quality drawn, up to 95), ``noise`` (largest standard deviation).
        gen: the seeded CPU generator every draw comes from.
    """
    n = x.shape[0]

    def rand(*shape):
        return torch.rand(*shape, generator=gen).to(x.device, non_blocking=True)

    if cfg.brightness > 0 or cfg.contrast > 0:
        x = brightness_contrast(x, (rand(n) * 2 - 1) * cfg.brightness, 1 + (rand(n) * 2 - 1) * cfg.contrast)
    if cfg.blur > 0:
        sigma = 0.1 + rand(n) * max(cfg.blur_sigma - 0.1, 0.0)
        x = torch.where((rand(n) < cfg.blur)[:, None, None, None], gaussian_blur(x, sigma, cfg.blur_sigma), x)
    if cfg.jpeg > 0:
        quality = cfg.jpeg_quality + rand(n) * max(95 - cfg.jpeg_quality, 0)
        x = torch.where((rand(n) < cfg.jpeg)[:, None, None, None], jpeg_compress(x, quality), x)
    if cfg.noise > 0:
        std = rand(n) * cfg.noise
        noise = torch.randn(x.shape, generator=gen).to(x.device, non_blocking=True)
        x = (x + noise * std[:, None, None, None]).clamp_(0.0, 1.0)
    return x


def brightness_contrast(x: torch.Tensor, shift: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """``(x - mean) * factor + mean + shift`` per sample (mean over the sample's pixels), clamped.

    Shape:
        shift, factor: ``(N,)``.
    """
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    out = (x - mean) * factor[:, None, None, None] + mean + shift[:, None, None, None]
    return out.clamp_(0.0, 1.0)


def gaussian_blur(x: torch.Tensor, sigma: torch.Tensor, max_sigma: float) -> torch.Tensor:
    """Separable Gaussian blur with one sigma per sample (reflected borders).

    Shape:
        sigma: ``(N,)`` in pixels; the kernel spans ``±3 * max_sigma`` (at most the image side).
    """
    n, c, h, w = x.shape
    radius = max(1, min(int(math.ceil(3 * max_sigma)), (min(h, w) - 1) // 2))
    t = torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype)
    kernel = torch.exp(-(t[None] ** 2) / (2 * sigma[:, None].to(x.dtype) ** 2))
    kernel = (kernel / kernel.sum(1, keepdim=True)).repeat_interleave(c, 0)  # (N*C, k)
    flat = x.reshape(1, n * c, h, w)
    flat = F.conv2d(F.pad(flat, (radius, radius, 0, 0), mode="reflect"), kernel[:, None, None, :], groups=n * c)
    flat = F.conv2d(F.pad(flat, (0, 0, radius, radius), mode="reflect"), kernel[:, None, :, None], groups=n * c)
    return flat.reshape(n, c, h, w)


def _dct_matrix(device, dtype) -> torch.Tensor:
    k = torch.arange(8, device=device, dtype=torch.float64)
    d = torch.cos((2 * k[None, :] + 1) * k[:, None] * math.pi / 16) * math.sqrt(2 / 8)
    d[0] /= math.sqrt(2)
    return d.to(dtype)


def jpeg_tables(quality: torch.Tensor) -> torch.Tensor:
    """The JPEG standard's scaling of the luminance table to a quality in ``[1, 100]``.

    Shape:
        quality: ``(N,)``; returns ``(N, 8, 8)`` quantisation steps (at least 1).
    """
    q = quality.clamp(1, 100)
    scale = torch.where(q < 50, 5000 / q, 200 - 2 * q)
    table = _JPEG_LUMA.to(q.device)[None] * scale[:, None, None]
    return torch.floor((table + 50) / 100).clamp_(min=1)


def jpeg_compress(x: torch.Tensor, quality: torch.Tensor) -> torch.Tensor:
    """JPEG-style compression: 8×8 block DCT, quantisation at a per-sample quality, inverse DCT.

    Each channel is quantised with the luminance table (no colour conversion or chroma
    subsampling); borders are padded by replication to a multiple of 8 and cropped back.

    Shape:
        quality: ``(N,)``.
    """
    n, c, h, w = x.shape
    ph, pw = (-h) % 8, (-w) % 8
    y = F.pad(x * 255 - 128, (0, pw, 0, ph), mode="replicate") if ph or pw else x * 255 - 128
    hb, wb = y.shape[-2] // 8, y.shape[-1] // 8
    blocks = y.reshape(n, c, hb, 8, wb, 8).permute(0, 1, 2, 4, 3, 5)  # (N, C, hb, wb, 8, 8)
    d = _dct_matrix(x.device, x.dtype)
    coef = d @ blocks @ d.T
    step = jpeg_tables(quality).to(x.dtype)[:, None, None, None]
    blocks = d.T @ (torch.round(coef / step) * step) @ d
    y = blocks.permute(0, 1, 2, 4, 3, 5).reshape(n, c, hb * 8, wb * 8)[..., :h, :w]
    return ((y + 128) / 255).clamp_(0.0, 1.0)
