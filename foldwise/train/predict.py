"""Batched inference from a cache through an ``Inputs`` pipeline (see :mod:`foldwise.train.inputs`)."""

from __future__ import annotations

import numpy as np
import torch

def select_device() -> torch.device:
    """CUDA when present, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


ACTIVATIONS = {"softmax": lambda z: z.softmax(1), "sigmoid": torch.sigmoid}


@torch.no_grad()
def predict_proba(
    model: torch.nn.Module,
    inputs,
    indices: np.ndarray | None,
    batch_size: int = 256,
    tta_hflip: bool = False,
    autocast: bool = False,
    activation: str = "softmax",
) -> np.ndarray:
    """Class (or label) probabilities for rows of a cache.

    Args:
        model: the classifier (put in eval mode here).
        inputs: an ``Inputs`` object over the cache (``ImageInputs``/``SeriesInputs``).
        indices: rows to predict, or None for all.
        batch_size: rows per forward pass.
        tta_hflip: also predict the horizontal flip and average (images only).
        autocast: bf16 autocast (CUDA).
        activation: ``softmax`` (one class per row) or ``sigmoid`` (independent labels).

    Returns:
        ``(len(indices), K)`` float32 probabilities.
    """
    act = ACTIVATIONS[activation]
    flip = tta_hflip and inputs.supports_hflip
    model.eval()
    rows = np.arange(len(inputs.data)) if indices is None else np.asarray(indices)
    out = []
    for start in range(0, len(rows), batch_size):
        x = inputs.batch(rows[start : start + batch_size])
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=autocast):
            probs = act(model(x).float())
            if flip:
                probs = (probs + act(model(x.flip(-1)).float())) / 2
        out.append(probs.float().cpu().numpy())
    if not out:
        return np.zeros((0, 0), dtype=np.float32)
    return np.concatenate(out).astype(np.float32)
