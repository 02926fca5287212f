"""The epoch loop of one fold: learning-rate schedule, batch order, one pass over the data.

Shape:
    batches are arrays of cache rows; targets ``(N,)`` long (multiclass) or ``(N, L)`` float (multilabel).
"""

from __future__ import annotations

import math
import sys

import numpy as np
import torch


def cosine_with_warmup(step: int, total: int, warmup: int) -> float:
    """LR multiplier: linear warm-up to 1, then cosine decay to 0 at ``total``."""
    if warmup > 0 and step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


class Progress:
    """A one-line progress bar on an interactive stderr; silent in logs and pipes."""

    def __init__(self, total: int, prefix: str):
        self.total, self.prefix = total, prefix
        self.enabled = sys.stderr.isatty()

    def update(self, done: int, loss: float) -> None:
        if self.enabled:
            filled = int(30 * done / max(1, self.total))
            bar = "#" * filled + "." * (30 - filled)
            sys.stderr.write(f"\r{self.prefix} [{bar}] {done}/{self.total} loss {loss:.4f}")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def sampling_weights(y: np.ndarray, n_classes: int) -> np.ndarray:
    """Row weights that oversample rare classes (or rows with rare labels) to balance.

    Shape:
        y: ``(N,)`` classes or ``(N, L)`` 0/1 labels. Returns ``(N,)`` float64.
    """
    if y.ndim == 1:
        counts = np.bincount(y, minlength=n_classes)
        return 1.0 / counts[y]
    counts = np.maximum(y.sum(0), 1)
    rare = (y / counts).max(1)  # weight of the rarest label a row carries
    return np.where(y.any(1), rare, 1.0 / max(1, (~y.any(1)).sum()))


def train_one_epoch(
    net, inputs, batches, y, criterion, optimizer, scheduler, gen, progress=None, mix=None, after_step=None,
    train_mode=None,
) -> float:
    """One pass over ``batches`` (arrays of cache rows), stepping the scheduler per batch.

    Args:
        net: the model (possibly compiled).
        inputs: the fold's ``Inputs`` pipeline; batches are augmented with ``gen``.
        batches: row indices of each batch, in order.
        y: ``(N,)`` long or ``(N, K)`` float targets of all rows, on the CPU.
        criterion: the loss on ``(logits, target)``.
        optimizer, scheduler: stepped once per batch.
        gen: the fold's seeded generator (augmentation, mixing).
        progress: an optional progress bar with ``update(done, loss)`` and ``close()``.
        mix: an optional ``mix(x, target, gen) -> (x, target)`` (MixUp/CutMix) for this epoch.
        after_step: an optional callable run after every optimiser step (the weight average).
        train_mode: an optional ``train_mode(net)`` that sets training mode (frozen layers stay in eval);
            default ``net.train()``.

    Returns:
        The mean training loss.
    """
    (train_mode or (lambda m: m.train()))(net)
    total = 0.0
    for step, rows in enumerate(batches):
        x = inputs.batch(rows, gen)
        target = y[rows].to(x.device, non_blocking=True)
        if mix is not None:
            x, target = mix(x, target, gen)
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=x.device.type == "cuda"):
            loss = criterion(net(x).float(), target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        if after_step is not None:
            after_step()
        total += loss.item()
        if progress is not None:
            progress.update(step + 1, total / (step + 1))
    if progress is not None:
        progress.close()
    return total / max(1, len(batches))
