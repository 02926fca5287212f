"""Checkpoints of one fold's whole training state, saved atomically after every epoch.

They live in ``results/checkpoints/{model}/fold{k}/``, outside Snakemake's
outputs, so a killed job resumes from its last complete epoch when run again.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from foldwise.io import atomic_path

log = logging.getLogger(__name__)


def save_atomic(obj, path: Path) -> None:
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def save_checkpoint(path, state, run_id, model, optimizer, scheduler, gen, extra=None) -> None:
    """Save the whole training state; ``extra`` maps names to more objects with a ``state_dict``
    (the weight average), restored by :func:`try_resume` under the same names."""
    save_atomic(
        {
            "run_id": run_id,
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "generator": gen.get_state(),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "state": {**state, "history": [dict(r) for r in state["history"]]},
            "extra": {name: obj.state_dict() for name, obj in (extra or {}).items()},
        },
        path,
    )


def try_resume(path: Path, run_id, model, optimizer, scheduler, gen, extra=None) -> dict | None:
    """Restore the training state from ``path`` if it was made by this exact run.

    ``run_id`` covers the settings, the fold split, the package code, the
    training table and the image cache (and a student's teacher predictions);
    any difference starts training afresh. ``extra``: as for :func:`save_checkpoint`.
    """
    if not path.is_file():
        return None
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - an unreadable checkpoint is ignored, never trusted
        log.warning("ignoring unreadable checkpoint %s: %s", path, exc)
        return None
    if ckpt.get("run_id") != run_id:
        log.info("ignoring checkpoint %s: it was made with a different config, fold split, data or code", path)
        return None
    if not (path.parent / "best.pt").is_file():
        log.info("ignoring checkpoint %s: its best.pt is missing", path)
        return None
    saved_extra = ckpt.get("extra", {})
    if set(saved_extra) != set(extra or {}):
        log.info("ignoring checkpoint %s: it holds %s, this run needs %s", path, sorted(saved_extra), sorted(extra or {}))
        return None
    model.load_state_dict(ckpt["model"])
    for name, obj in (extra or {}).items():
        obj.load_state_dict(saved_extra[name])
    optimizer.load_state_dict(ckpt["optimizer"])
    scheduler.load_state_dict(ckpt["scheduler"])
    gen.set_state(ckpt["generator"])
    torch.set_rng_state(ckpt["torch_rng"])
    if ckpt["cuda_rng"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(ckpt["cuda_rng"])
    return ckpt["state"]
