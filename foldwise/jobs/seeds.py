"""The seed of a job, derived from the run's seed and what the job is."""

from __future__ import annotations

import hashlib


def derive_seed(*parts: object) -> int:
    """A 31-bit seed from any values, stable across processes and Python versions."""
    blob = "\x1f".join(map(str, parts)).encode()
    return int.from_bytes(hashlib.sha256(blob).digest()[:4], "little") & 0x7FFFFFFF


def job_seed(seed: int, model: str, fold: int | str, replica: int = 0) -> int:
    """The seed of one job: ``(seed, model, fold)``, the fold being ``"refit"`` for a full-data refit.

    ``replica`` is the seed index of ``models.<name>.seeds``: 0 draws the single run's seed;
    s > 0 adds s to the derivation.
    """
    return derive_seed(seed, model, fold, *([replica] if replica else []))
