"""Hub caches laid out on disk as huggingface_hub and torch hub write them, for offline tests and benchmarks."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def hf_cache_file(cache: Path, repo: str, filename: str, data: bytes, revision: str | None = None) -> Path:
    """Put ``data`` into a Hugging Face hub cache as ``repo``'s ``filename`` at ``revision`` (made ``refs/main``).

    Layout: ``models--{org}--{name}/blobs/<sha256>``, ``snapshots/<revision>/<filename>`` (a link to
    the blob) and ``refs/main`` (the revision), as ``hf_hub_download`` leaves them.

    Returns:
        The snapshot path.
    """
    sha = hashlib.sha256(data).hexdigest()
    revision = revision or hashlib.sha1(data).hexdigest()
    root = Path(cache) / f"models--{repo.replace('/', '--')}"
    (root / "blobs").mkdir(parents=True, exist_ok=True)
    (root / "blobs" / sha).write_bytes(data)
    snap = root / "snapshots" / revision / filename
    snap.parent.mkdir(parents=True, exist_ok=True)
    if snap.is_symlink() or snap.exists():
        snap.unlink()
    os.symlink(os.path.relpath(root / "blobs" / sha, snap.parent), snap)
    (root / "refs").mkdir(exist_ok=True)
    (root / "refs" / "main").write_text(revision)
    return snap


def safetensors_bytes(state: dict) -> bytes:
    """A state dict as safetensors bytes."""
    from safetensors.torch import save

    return save({k: v.contiguous() for k, v in state.items()})


def timm_state(name: str, seed: int = 0) -> dict:
    """A real state dict of timm model ``name`` (its hub class count and 3 channels), from a seeded init."""
    import timm
    import torch

    torch.manual_seed(seed)
    return timm.create_model(name, pretrained=False).state_dict()
