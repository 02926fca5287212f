"""A fold's net, built one way for training, test prediction and the refit.

:func:`build_net` creates the model (timm or a registered net, with the
configured head), loads fitted weights when given, puts it on its device
(``channels_last`` for images on CUDA) and wraps it in ``torch.compile`` when
``compile: true``. :func:`arcface_reference` embeds the fold's labelled
training rows when the head is ArcFace: validation and test rows are then
classified against the same reference.
"""

from __future__ import annotations

import numpy as np
import torch

from foldwise.models.arcface import HeadConfig
from foldwise.models.factory import create_model
from foldwise.train.predict import Reference, build_reference
from foldwise.train.settings import TrainConfig


def build_net(cfg: TrainConfig, n_classes: int, in_chans: int, device: torch.device, pretrained: bool | str = False,
              weights: str | None = None) -> tuple[torch.nn.Module, torch.nn.Module]:
    """The model on ``device`` and the module to call (the same object, or its compiled wrapper).

    Args:
        cfg: the model's settings (backbone, head, ``model_kwargs``, ``kind``, ``compile``).
        n_classes: outputs of the head.
        in_chans: input channels (the cache's last axis).
        device: where the model runs.
        pretrained: ``cfg.pretrained`` when training; False when ``weights`` are loaded.
        weights: a fitted state dict (``best.pt``) to load, or None.

    Returns:
        ``(model, net)``: ``model`` owns the parameters (optimiser, EMA, checkpoints, state dict);
        ``net`` shares them and is what forward passes call.
    """
    model = create_model(cfg.backbone, n_classes, in_chans=in_chans, pretrained=pretrained, head=cfg.head,
                         **cfg.model_kwargs)
    if weights is not None:
        model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    channels_last = device.type == "cuda" and cfg.kind == "images"
    model = model.to(device, memory_format=torch.channels_last if channels_last else torch.contiguous_format)
    return model, (torch.compile(model) if cfg.compile else model)


def uses_arcface(cfg: TrainConfig) -> bool:
    """Whether the model's head is ArcFace (its predictions need :func:`arcface_reference`)."""
    return HeadConfig(**cfg.head).arcface


def arcface_reference(cfg: TrainConfig, net: torch.nn.Module, inputs, rows: np.ndarray, y: np.ndarray,
                      n_classes: int, autocast: bool) -> Reference | None:
    """The embeddings of the labelled ``rows`` an ArcFace head classifies against; None for a linear head.

    Shape:
        ``rows``: ``(R,)`` indices into ``inputs``; ``y``: ``(R,)`` their classes.
    """
    if not uses_arcface(cfg):
        return None
    head = HeadConfig(**cfg.head)
    return build_reference(net, inputs, rows, y, n_classes, head.neighbours, head.scale, cfg.predict_batch_size,
                           autocast)
