"""From cached arrays to model inputs, per data kind (``data.kind``).

An ``Inputs`` object turns rows of a cache into a batch tensor on the device,
augmented when a generator is given. :data:`INPUTS` maps the data kind to its
class, so the trainer and the predictor never branch on the kind.
"""

from __future__ import annotations

import numpy as np
import torch

from foldwise.jobs.scaling import CHANNELS, Standardiser
from foldwise.train.augment import AugmentConfig, BatchAugment, SeriesAugment
from foldwise.train.inputs_base import InputsBase, model_mean_std
from foldwise.train.video_inputs import VideoInputs


class ImageInputs(InputsBase):
    """uint8 ``(N, H, W, C)`` cache -> normalised float ``(B, C, H, W)`` batches.

    Args:
        data: the cache (memmap).
        model: the network; its timm ``pretrained_cfg`` gives mean/std.
        device: target device.
        augment: augmentation settings (image keys are used).
        train_rows: rows of the training fold (unused: image statistics come from the model).
    """

    def __init__(self, data: np.ndarray, model: torch.nn.Module, device: torch.device, augment: dict, train_rows=None):
        self.data, self.device = data, device
        self.channels_last = device.type == "cuda"
        self.mean, self.std = model_mean_std(model, data.shape[-1], device, ndim=4)
        self.augment = BatchAugment(AugmentConfig(**augment))

    def load(self, rows: np.ndarray) -> torch.Tensor:
        """Rows of the cache as float ``(B, C, H, W)`` in ``[0, 1]`` on the device."""
        t = torch.from_numpy(np.ascontiguousarray(self.data[rows]))
        if self.device.type == "cuda":
            t = t.pin_memory().to(self.device, non_blocking=True)
        return t.permute(0, 3, 1, 2).float().div_(255.0)

    def finish(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise with the model's mean/std (channels_last on CUDA)."""
        x = (x - self.mean) / self.std
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x.contiguous()


class SeriesInputs(InputsBase):
    """float32 ``(N, T, C)`` cache -> standardised ``(B, C, T)`` batches.

    Per-channel mean and standard deviation come from the training fold's rows
    only (:class:`foldwise.jobs.scaling.Standardiser`, as a classic model's series),
    so nothing of the validation rows leaks into the scaling; the batches are
    standardised on the device, in float32.
    """

    def __init__(self, data: np.ndarray, model: torch.nn.Module, device: torch.device, augment: dict, train_rows=None):
        rows = np.arange(len(data)) if train_rows is None else np.sort(np.asarray(train_rows))
        scaler = Standardiser(**CHANNELS).fit(data[rows])  # float64 statistics, as a classic model's series
        self.data, self.device = data, device
        self.mean = torch.tensor(scaler.mean_, dtype=torch.float32, device=device).view(1, -1, 1)
        self.std = torch.tensor(scaler.scale_, dtype=torch.float32, device=device).view(1, -1, 1)
        self.augment = SeriesAugment(AugmentConfig(**augment))

    def load(self, rows: np.ndarray) -> torch.Tensor:
        """Rows of the cache as standardised ``(B, C, T)`` on the device."""
        x = torch.from_numpy(np.ascontiguousarray(self.data[rows], dtype=np.float32)).to(self.device)
        return (x.permute(0, 2, 1) - self.mean) / self.std

    def finish(self, x: torch.Tensor) -> torch.Tensor:
        return x.contiguous()


INPUTS = {"images": ImageInputs, "timeseries": SeriesInputs, "video": VideoInputs}


def create_inputs(kind: str, data, model, device, augment: dict, train_rows=None):
    """Build the input pipeline for a data kind.

    Raises:
        KeyError: listing the valid kinds.
    """
    try:
        cls = INPUTS[kind]
    except KeyError:
        raise KeyError(f"unknown data kind '{kind}'; valid: {', '.join(sorted(INPUTS))}") from None
    return cls(data, model, device, augment, train_rows)
