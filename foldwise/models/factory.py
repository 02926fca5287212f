"""Model factory: any timm backbone by name, from scratch or from a local weights file.

Model hubs are never contacted: ``pretrained`` is ``False`` or a path.
"""

from __future__ import annotations

import difflib
import logging
from pathlib import Path

import torch

from foldwise.errors import FoldwiseError

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


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Load a weights file safely (safetensors, or ``torch.load(weights_only=True)``).

    Unwraps the ``state_dict`` / ``model`` / ``state_dict_ema`` wrappers that
    training scripts commonly save.
    """
    path = Path(path)
    if not path.is_file():
        raise FoldwiseError(f"pretrained weights file not found: {path} (config key models.<name>.pretrained)")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(str(path))
    else:
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001
            raise FoldwiseError(f"cannot load weights file {path} safely (weights_only): {exc}") from None
    for key in ("state_dict_ema", "state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
            break
    return {k.removeprefix("module."): v for k, v in state.items() if isinstance(v, torch.Tensor)}


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
        pretrained: ``False`` or the path of a local weights file. A head of a
            different size in the file is dropped and the new head trained.
        head: the ``head`` settings (:class:`foldwise.models.arcface.HeadConfig`); ``kind: arcface``
            puts an :class:`~foldwise.models.arcface.ArcFaceNet` head on the backbone's pooled features.
        **kwargs: passed to the time-series net or :func:`timm.create_model`.

    Returns:
        The model, on the CPU.

    Raises:
        KeyError: unknown backbone (lists close matches).
        FoldwiseError: ``pretrained: true`` (no hubs here) or an unreadable file.
    """
    import timm

    from foldwise.models.sequence import SEQUENCE_MODELS

    if pretrained is True:
        raise FoldwiseError(
            f"models.<name>.pretrained: true would download '{backbone}' weights from a hub; "
            "give the path of a local weights file instead"
        )
    from foldwise.models.arcface import ArcFaceNet, HeadConfig
    from foldwise.models.video import VIDEO_MODELS, create_video_model

    head_cfg = HeadConfig(**(head or {}))
    if backbone in VIDEO_MODELS:  # clips (N, C, T, H, W); loads its own weights file
        if head_cfg.arcface:
            raise FoldwiseError(f"models.<name>.head.arcface is not available for the video net '{backbone}'")
        return create_video_model(backbone, num_classes, in_chans, pretrained, **kwargs)
    outputs = 0 if head_cfg.arcface else num_classes
    if backbone in SEQUENCE_MODELS:
        model = SEQUENCE_MODELS[backbone](in_chans, outputs, **kwargs)
    else:
        _check_name(backbone)
        model = timm.create_model(backbone, pretrained=False, num_classes=outputs, in_chans=in_chans, **kwargs)
    if pretrained:
        _load_pretrained(model, pretrained, in_chans)
    if head_cfg.arcface:
        features = getattr(model, "head_hidden_size", None) or model.num_features
        model = ArcFaceNet(model, features, num_classes, head_cfg.embedding_size, head_cfg.scale)
    return model


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
