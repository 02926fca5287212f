"""Reading a weights file safely: safetensors, or a torch pickle with ``weights_only``."""

from __future__ import annotations

from pathlib import Path

import torch

from foldwise.errors import FoldwiseError


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
