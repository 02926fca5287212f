"""Video clips from the cache to model inputs, augmented the same way for every frame of a clip.

The cache holds ``T`` frames per clip (``data.frames``); the model sees
``clip_frames`` of them (``models.<name>.model_kwargs.clip_frames``, 0 = all).
Training picks, per clip, a window of ``clip_frames`` at a random offset and
moves each index by up to ``temporal_jitter`` frames (temporal order kept);
prediction gives the model every cached frame and the model averages its
windows (:class:`foldwise.models.video.ClipModel`, ``tta_offsets``).

Spatial augmentation (flip, shift/scale/rotate, cutout) is the image
augmentation of :class:`foldwise.train.augment.BatchAugment` applied to the
clip with its frames stacked along the channel axis, so that one random draw
moves every frame of a clip alike.
"""

from __future__ import annotations

import numpy as np
import torch

from foldwise.train.augment import AugmentConfig, BatchAugment
from foldwise.train.inputs_base import InputsBase, model_mean_std


def temporal_indices(t: int, length: int, n: int, gen: torch.Generator, jitter: int = 0) -> torch.Tensor:
    """Per-clip frame indices for training: a random window plus index jitter.

    Args:
        t: cached frames ``T``.
        length: frames to keep ``L <= T``.
        n: clips in the batch.
        gen: the training generator.
        jitter: largest move of one index, in frames.

    Returns:
        ``(n, L)`` int64 indices in ``[0, T)``, non-decreasing along each row.
    """
    starts = torch.randint(0, t - length + 1, (n, 1), generator=gen)
    idx = starts + torch.arange(length)[None, :]
    if jitter > 0:
        idx = idx + torch.randint(-jitter, jitter + 1, (n, length), generator=gen)
        idx = idx.clamp_(0, t - 1).sort(1).values
    return idx


class VideoInputs(InputsBase):
    """uint8 ``(N, T, H, W, C)`` cache -> normalised float ``(B, C, T', H, W)`` batches.

    Args:
        data: the cache (memmap).
        model: a :class:`~foldwise.models.video.ClipModel`: its ``pretrained_cfg`` gives mean/std,
            its ``clip_frames`` and ``temporal_jitter`` the training windows.
        device: target device.
        augment: augmentation settings (image keys are used, the same for all frames of a clip).
        train_rows: unused (statistics come from the model).
    """

    def __init__(self, data: np.ndarray, model: torch.nn.Module, device: torch.device, augment: dict, train_rows=None):
        self.data, self.device = data, device
        t = data.shape[1]
        self.clip_frames = min(t, getattr(model, "clip_frames", 0) or t)
        self.jitter = int(getattr(model, "temporal_jitter", 0))
        self.mean, self.std = model_mean_std(model, data.shape[-1], device, ndim=5)
        self.augment = BatchAugment(AugmentConfig(**augment))

    def _to_tensor(self, clips: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(np.ascontiguousarray(clips)).to(self.device)  # (B, T, H, W, C) uint8
        return x.permute(0, 4, 1, 2, 3).float().div_(255.0)

    def load(self, rows: np.ndarray) -> torch.Tensor:
        """Rows of the cache as float ``(B, C, T, H, W)`` in ``[0, 1]``, every cached frame.

        Test-time views (``tta: [hflip, ...]``) work on this raw batch: they move every frame alike.
        """
        return self._to_tensor(self.data[rows])

    def spatial(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """The image augmentations, one draw per clip for all its frames (frames stacked as channels)."""
        b, c, t, h, w = x.shape
        y = self.augment(x.transpose(1, 2).reshape(b, t * c, h, w), gen)
        return y.view(b, t, c, h, w).transpose(1, 2)

    def finish(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise with the model's mean/std."""
        return ((x - self.mean) / self.std).contiguous()

    def batch(self, rows: np.ndarray, gen: torch.Generator | None = None) -> torch.Tensor:
        """Rows of the cache as a normalised ``(B, C, T', H, W)`` batch; augmented when ``gen`` is given.

        Without ``gen`` every cached frame is returned (``T' = T``); with it, ``T' = clip_frames``
        frames picked per clip (:func:`temporal_indices`) before the spatial augmentation.
        """
        clips = self.data[rows]  # (B, T, H, W, C)
        if gen is None:
            return self.finish(self._to_tensor(clips))
        b, t = clips.shape[:2]
        idx = temporal_indices(t, self.clip_frames, b, gen, self.jitter).numpy()
        return self.finish(self.spatial(self._to_tensor(clips[np.arange(b)[:, None], idx]), gen))
