"""The files one job reads and writes: one shape for nets, classic families and refits."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrainPaths:
    """Inputs and outputs of one training job: a (model, fold) of a net or a classic family, or a classic refit.

    A fold job writes ``oof`` and ``history``; a refit (every labelled row, no
    validation rows) writes neither (None), but its test predictions ``test``,
    and reads the same seed's fold ``metrics.json`` files (``fold_runs``).
    """

    train_table: str
    classes: str
    folds: str
    train_cache: str
    oof: str | None
    history: str | None
    weights: str
    checkpoint_dir: str | None = None  # a net's per-epoch checkpoint, outside the files Snakemake manages
    teacher: str | None = None  # a pseudo-labelled student: its teacher's test predictions
    test_cache: str | None = None  # the student's pseudo-labelled rows; a refit's test rows
    test_table: str | None = None
    test: str | None = None  # a refit's test predictions
    fold_runs: tuple[str, ...] = ()  # a refit: its folds' metrics.json


@dataclass(frozen=True)
class PredictPaths:
    """Inputs and output of one test prediction: one fold's fitted model over the test cache.

    A net also reads the training cache (series statistics and an ArcFace
    model's reference embeddings come from the fold's training rows) and, for
    ArcFace, the training table's labels.
    """

    weights: str
    classes: str
    folds: str
    test_cache: str
    test_table: str
    test: str
    train_cache: str | None = None
    train_table: str | None = None
