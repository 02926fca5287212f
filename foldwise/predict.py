"""Batched inference from the uint8 cache."""

from __future__ import annotations

import numpy as np
import torch


class Normalizer:
    """uint8 ``(N, H, W, C)`` numpy batch -> normalised float ``(N, C, H, W)`` tensor on a device.

    Args:
        mean, std: per-channel statistics in ``[0, 1]`` units (length C).
        device: target device.
        channels_last: use the channels-last memory format (faster convolutions on GPUs).
    """

    def __init__(self, mean, std, device: torch.device, channels_last: bool = False):
        self.mean = torch.tensor(mean, dtype=torch.float32, device=device).view(1, -1, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32, device=device).view(1, -1, 1, 1)
        self.device = device
        self.channels_last = channels_last

    def to_unit(self, batch: np.ndarray) -> torch.Tensor:
        """uint8 NHWC numpy -> float NCHW in ``[0, 1]`` on the device."""
        t = torch.from_numpy(np.ascontiguousarray(batch))
        if self.device.type == "cuda":
            t = t.pin_memory().to(self.device, non_blocking=True)
        t = t.permute(0, 3, 1, 2).float().div_(255.0)
        return t.contiguous(memory_format=torch.channels_last) if self.channels_last else t.contiguous()

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """Subtract the mean and divide by the std."""
        return (x - self.mean) / self.std


@torch.no_grad()
def predict_proba(
    model: torch.nn.Module,
    images: np.ndarray,
    indices: np.ndarray | None,
    norm: Normalizer,
    batch_size: int = 256,
    tta_hflip: bool = False,
    autocast: bool = False,
) -> np.ndarray:
    """Class probabilities for rows of a cache.

    Args:
        model: the classifier (put in eval mode here).
        images: ``(N, H, W, C)`` uint8 cache (memmap).
        indices: rows to predict, or None for all.
        norm: input normaliser.
        batch_size: rows per forward pass.
        tta_hflip: also predict the horizontal flip and average.
        autocast: bf16 autocast (CUDA).

    Returns:
        ``(len(indices), K)`` float32 probabilities.
    """
    model.eval()
    rows = np.arange(len(images)) if indices is None else np.asarray(indices)
    out = []
    for start in range(0, len(rows), batch_size):
        x = norm.normalize(norm.to_unit(images[rows[start : start + batch_size]]))
        with torch.autocast(norm.device.type, dtype=torch.bfloat16, enabled=autocast):
            logits = model(x).float()
            probs = logits.softmax(1)
            if tta_hflip:
                probs = (probs + model(x.flip(-1)).float().softmax(1)) / 2
        out.append(probs.cpu().numpy())
    if not out:
        return np.zeros((0, 0), dtype=np.float32)
    return np.concatenate(out).astype(np.float32)
