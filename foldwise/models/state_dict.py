"""Weights files: reading one safely (safetensors, or a torch pickle with ``weights_only``) and loading
it into a net whose head or stem may differ from the file's."""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from foldwise.errors import FoldwiseError

log = logging.getLogger(__name__)


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


def load_pretrained(model: torch.nn.Module, path: str | Path, in_chans: int) -> None:
    """Load a weights file into ``model``: tensors of another shape (a head of another size) are dropped
    and re-initialised, a 3-channel stem is adapted to ``in_chans`` (timm's ``adapt_input_conv``).

    Raises:
        FoldwiseError: no tensor of the file fits the model, or the file is missing or unsafe.
    """
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
