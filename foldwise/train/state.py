"""What a fold's training has reached, what its epochs need, and how an epoch is judged.

:class:`TrainState` is saved in every checkpoint (a killed job resumes from it);
:class:`FoldSetup` is built once by :meth:`foldwise.train.fold.FoldTrainer.set_up`;
the functions decide which weights an epoch keeps and when training stops.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd
import torch

from foldwise.train.settings import TrainConfig


class Evaluation(NamedTuple):
    """One set of weights on the validation rows: probabilities averaged over the test-time views,
    the plain (identity view) probabilities, the metric and the log loss."""

    probs: np.ndarray
    plain: np.ndarray
    score: float
    loss: float


@dataclass
class TrainState:
    """What a fold's training has reached; saved in every checkpoint, so a killed job resumes from it.

    Shape:
        best_valid, best_plain, last_valid: ``(V, K)`` float tensors of the selection rows' probabilities.
    """

    epoch: int = 0  # epochs completed
    best_score: float | None = None  # the metric at the selected epoch so far
    best_loss: float = float("inf")  # its validation log loss (breaks metric ties)
    best_epoch: int = -1
    bad_epochs: int = 0  # epochs since the last improvement (patience)
    history: list = field(default_factory=list)  # one dict per epoch: history.csv
    best_valid: torch.Tensor | None = None  # probabilities at the selected epoch (TTA-averaged)
    best_plain: torch.Tensor | None = None  # the same without test-time views
    best_weights: str = "raw"  # raw | ema: which weights scored them
    last_valid: torch.Tensor | None = None  # probabilities at the last epoch run
    last_weights: str = "raw"

    def to_checkpoint(self) -> dict:
        return {**dataclasses.asdict(self), "history": [dict(r) for r in self.history]}

    @classmethod
    def from_checkpoint(cls, saved: dict) -> "TrainState":
        return cls(**saved)


@dataclass
class FoldSetup:
    """Everything the epochs need, built once by :meth:`foldwise.train.fold.FoldTrainer.set_up`."""

    device: torch.device
    task: object
    metric: object
    log_loss: object
    classes: list
    table: pd.DataFrame
    va_idx: np.ndarray
    tr_idx: np.ndarray  # the rows trained on (the fold's training rows, less the inner slice)
    sel_idx: np.ndarray  # the rows that select the epoch
    y: np.ndarray
    y_all: np.ndarray  # targets of every row the batches index (pseudo-labelled rows included)
    y_train: torch.Tensor  # the same as a tensor
    rows_train: np.ndarray  # the rows the batches are drawn from
    n_pseudo: int
    folds_sha: str
    config_sha: str
    run_id: str
    seed: int


def hard_targets(targets: np.ndarray, multilabel: bool) -> np.ndarray:
    """Targets as oversampling reads them: class indices, or 0/1 labels."""
    if targets.ndim == 1:
        return targets
    return (targets >= 0.5).astype(np.float32) if multilabel else targets.argmax(1)


def better_weights(metric, evals: dict[str, Evaluation]) -> str:
    """``raw``, or ``ema`` when the average scores better (a tie goes to the lower validation loss)."""
    raw, ema = evals["raw"], evals.get("ema")
    if ema is not None and improves(metric, ema.score, ema.loss, raw.score, raw.loss):
        return "ema"
    return "raw"


def improves(metric, score: float, valid_loss: float, best_score: float | None,
              best_loss: float = float("inf")) -> bool:
    """Best by the metric; a tie (common with accuracy on small folds) goes to the lower validation loss."""
    return (
        best_score is None
        or metric.better(score, best_score)
        or (score == best_score and valid_loss < best_loss)
    )


def stopped_early(cfg: TrainConfig, state: TrainState) -> bool:
    # patience 0 stops at the first epoch without improvement, as 1 does: it must not stop before epoch 1.
    return cfg.patience is not None and state.bad_epochs >= max(1, cfg.patience)
