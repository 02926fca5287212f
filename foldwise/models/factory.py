"""Model factory: any timm backbone by name, from scratch or from a weights file.

Training never contacts a hub: ``pretrained`` is ``False`` or a path. A hub
file the ``weights`` rule fetched (``results/weights/{source}.safetensors``,
see :mod:`foldwise.models.weights`) goes through timm's own ``load_pretrained``
(its head dropped when the class count differs, its stem adapted to the input
channels); any other file through :func:`_load_pretrained`.
"""

from __future__ import annotations

import difflib
import logging
from pathlib import Path

import torch

from foldwise.errors import FoldwiseError
from foldwise.models.state_dict import read_state_dict  # noqa: F401  (also this module's API)

log = logging.getLogger(__name__)


def _check_name(name: str) -> None:
    import timm

    from foldwise.models.sequence import SEQUENCE_MODELS

    if not timm.is_model(name):
        close = difflib.get_close_matches(name, [*SEQUENCE_MODELS, *timm.list_models()], n=5, cutoff=0.6)
        raise KeyError(
            f"unknown backbone '{name}': not a time-series model ({', '.join(SEQUENCE_MODELS)}) nor a timm model"
            + (f"; close matches: {', '.join(close)}" if close else "; see timm.list_models()")
        )


def create_model(
    backbone: str,
    num_classes: int,
    in_chans: int = 3,
    pretrained: bool | str = False,
    head: dict | None = None,
    **kwargs,
) -> torch.nn.Module:
    """Create a classifier: a time-series net of :mod:`foldwise.models.sequence`, a video net of
    :mod:`foldwise.models.video` or a timm backbone.

    Args:
        backbone: time-series model or timm model name.
        num_classes: size of the new head.
        in_chans: input channels (1 or 3); pretrained stems are adapted.
        pretrained: ``False`` or the path of a weights file. A head of a
            different size in the file is dropped and the new head trained.
            A file the ``weights`` rule fetched for this timm backbone loads
            through timm's ``load_pretrained`` (strict but for the head).
        head: the ``head`` settings (:class:`foldwise.models.arcface.HeadConfig`); ``kind: arcface``
            puts an :class:`~foldwise.models.arcface.ArcFaceNet` head on the backbone's pooled features.
        **kwargs: passed to the time-series net or :func:`timm.create_model`.

    Returns:
        The model, on the CPU.

    Raises:
        KeyError: unknown backbone (lists close matches).
        FoldwiseError: ``pretrained: true`` (hub weights are fetched by the ``weights`` rule,
            :func:`foldwise.models.weights.fetch_weights`) or an unreadable file.
    """
    import timm

    from foldwise.models.sequence import SEQUENCE_MODELS

    if pretrained is True:
        raise FoldwiseError(
            f"create_model never downloads: fetch '{backbone}' weights with foldwise.models.weights.fetch_weights "
            "(the pipeline's weights rule does) and give the file's path"
        )
    from foldwise.models.arcface import ArcFaceNet, HeadConfig
    from foldwise.models.video import VIDEO_MODELS, create_video_model

    head_cfg = HeadConfig(**(head or {}))
    if backbone in VIDEO_MODELS:  # clips (N, C, T, H, W); loads its own weights file
        if head_cfg.arcface:
            raise FoldwiseError(f"models.<name>.head.arcface is not available for the video net '{backbone}'")
        return create_video_model(backbone, num_classes, in_chans, pretrained, **kwargs)
    outputs = 0 if head_cfg.arcface else num_classes
    hub = False
    if backbone in SEQUENCE_MODELS:
        model = SEQUENCE_MODELS[backbone](in_chans, outputs, **kwargs)
    else:
        _check_name(backbone)
        hub = bool(pretrained) and _fetched_for(pretrained, backbone)
        overlay = {"pretrained_cfg_overlay": {"file": str(pretrained)}} if hub else {}
        model = timm.create_model(backbone, pretrained=hub, num_classes=outputs, in_chans=in_chans, **overlay, **kwargs)
        if hub:
            log.info("loaded %s through timm's load_pretrained (%d classes, %d input channels)", pretrained,
                     outputs, in_chans)
    if pretrained and not hub:
        _load_pretrained(model, pretrained, in_chans)
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


def _load_pretrained(model: torch.nn.Module, path: str, in_chans: int) -> None:
    from timm.models._manipulate import adapt_input_conv

    state = read_state_dict(path)
    own = model.state_dict()
    cfg = getattr(model, "pretrained_cfg", {}) or {}
    first_conv = cfg.get("first_conv")
    if first_conv and in_chans != 3 and f"{first_conv}.weight" in state:
        state[f"{first_conv}.weight"] = adapt_input_conv(in_chans, state[f"{first_conv}.weight"])
    dropped = [k for k, v in state.items() if k in own and own[k].shape != v.shape]
    for k in dropped:
        del state[k]
    # Counted before loading: BatchNorm fills a missing num_batches_tracked, which hides it from `missing`.
    loaded = sum(k in own for k in state)
    if loaded == 0:
        raise FoldwiseError(f"weights file {path} has no tensor that fits '{type(model).__name__}'; wrong file?")
    missing, unexpected = model.load_state_dict(state, strict=False)
    log.info(
        "loaded %d/%d tensors from %s (re-initialised: %s; unused: %d)",
        loaded, len(own), path, ", ".join(sorted(missing)) or "none", len(unexpected),
    )
