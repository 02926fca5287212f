"""Model factory: a net by name: foldwise's own (:mod:`foldwise.models.registry`) or any timm backbone.

Training never contacts a hub: ``pretrained`` is ``False`` or a path. A hub
file the ``weights`` rule fetched (``results/weights/{source}.safetensors``,
see :mod:`foldwise.models.weights`) goes through timm's own ``load_pretrained``
(its head dropped when the class count differs, its stem adapted to the input
channels); any other file through :func:`foldwise.models.state_dict.load_pretrained`.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from foldwise.errors import FoldwiseError
from foldwise.models import _builtin  # noqa: F401  (registers foldwise's own nets)
from foldwise.models.arcface import ArcFaceNet, HeadConfig
from foldwise.models.registry import check_timm_name, model_entrypoint, model_kind
from foldwise.models.state_dict import load_pretrained, read_state_dict  # noqa: F401  (also this module's API)

log = logging.getLogger(__name__)


def create_model(
    backbone: str,
    num_classes: int,
    in_chans: int = 3,
    pretrained: bool | str = False,
    head: dict | None = None,
    **kwargs,
) -> torch.nn.Module:
    """Create a classifier: a net registered in :mod:`foldwise.models.registry` (time series:
    :mod:`foldwise.models.sequence`; video: :mod:`foldwise.models.video`) or else a timm backbone.

    Args:
        backbone: a registered name (:func:`foldwise.models.registry.list_models`) or a timm model name.
        num_classes: size of the new head.
        in_chans: input channels (1 or 3); pretrained stems are adapted.
        pretrained: ``False`` or the path of a weights file. A head of a
            different size in the file is dropped and the new head trained.
            A file the ``weights`` rule fetched for this timm backbone loads
            through timm's ``load_pretrained`` (strict but for the head).
        head: the ``head`` settings (:class:`foldwise.models.arcface.HeadConfig`); ``kind: arcface``
            puts an :class:`~foldwise.models.arcface.ArcFaceNet` head on the backbone's pooled features.
        **kwargs: passed to the registered builder or :func:`timm.create_model`.

    Returns:
        The model, on the CPU.

    Raises:
        KeyError: unknown backbone (lists foldwise's own nets and close matches).
        FoldwiseError: ``pretrained: true`` (hub weights are fetched by the ``weights`` rule,
            :func:`foldwise.models.weights.fetch_weights`) or an unreadable file.
    """
    if pretrained is True:
        raise FoldwiseError(
            f"create_model never downloads: fetch '{backbone}' weights with foldwise.models.weights.fetch_weights "
            "(the pipeline's weights rule does) and give the file's path"
        )
    head_cfg = HeadConfig(**(head or {}))
    kind = model_kind(backbone)
    if kind == "video":  # clips (N, C, T, H, W); loads its own weights file
        if head_cfg.arcface:
            raise FoldwiseError(f"models.<name>.head.arcface is not available for the video net '{backbone}'")
        return model_entrypoint(backbone)(num_classes, in_chans, pretrained, **kwargs)
    outputs = 0 if head_cfg.arcface else num_classes
    hub = False
    if kind == "timeseries":
        model = model_entrypoint(backbone)(in_chans, outputs, **kwargs)
    else:
        import timm

        check_timm_name(backbone)
        hub = bool(pretrained) and _fetched_for(pretrained, backbone)
        overlay = {"pretrained_cfg_overlay": {"file": str(pretrained)}} if hub else {}
        model = timm.create_model(backbone, pretrained=hub, num_classes=outputs, in_chans=in_chans, **overlay, **kwargs)
        if hub:
            log.info("loaded %s through timm's load_pretrained (%d classes, %d input channels)", pretrained,
                     outputs, in_chans)
    if pretrained and not hub:
        load_pretrained(model, pretrained, in_chans)
    if head_cfg.arcface:
        features = getattr(model, "head_hidden_size", None) or model.num_features
        model = ArcFaceNet(model, features, num_classes, head_cfg.embedding_size, head_cfg.scale)
    return model


def _fetched_for(path: str | Path, backbone: str) -> bool:
    """Whether ``path`` is a timm hub file the ``weights`` rule fetched for ``backbone`` (its JSON record says so)."""
    import json

    info = Path(path).with_suffix(".json")
    if Path(path).suffix != ".safetensors" or not info.is_file():
        return False
    try:
        record = json.loads(info.read_text())
    except (OSError, ValueError):
        return False
    return record.get("library") == "timm" and record.get("architecture") == backbone.split(".", 1)[0]
