"""The full-data refit of a net (``models.<name>.refit: full | blend``): the ``refit`` rule's torch path.

Once the folds have chosen the settings, one more net trains on every labelled
row, with no validation rows, and predicts the test set (as the classic
families' :mod:`foldwise.classic.refit`). Its length comes from the folds:

- ``select_epoch: last``: the configured ``epochs`` (the folds chose nothing);
- ``best`` or ``inner``: the median of the folds' selected epochs (their
  ``metrics.json`` ``best_epoch``), rounded half up, at least 1. The warm-up and
  cosine schedule span those epochs, as a fold's would had it been configured so.

The weights kept are the last epoch's: the raw weights, or the weight average
(``ema``) when most folds kept theirs. The refit has no honest score of its own:
its OOF, CV and leaderboard row stay the folds'. Its seed is
:func:`foldwise.jobs.seeds.job_seed` of ``(seed, model, "refit")`` and the seed index.
"""

from __future__ import annotations

import dataclasses
import logging
import time

import numpy as np

from foldwise.io import read_json
from foldwise.jobs.paths import PredictPaths, TrainPaths
from foldwise.train.fold import FoldTrainer
from foldwise.train.infer import predict_test_fold
from foldwise.train.settings import TrainConfig

log = logging.getLogger(__name__)


def refit_schedule(cfg: TrainConfig, fold_runs: list[dict]) -> tuple[TrainConfig, dict]:
    """The settings a net's refit trains with, and what was derived from its folds.

    Args:
        cfg: the model's settings (as its folds trained with).
        fold_runs: the same seed's folds' ``metrics.json`` contents.

    Returns:
        ``(settings with epochs and select_epoch: last, {"epochs", "fold_epochs", "weights"})``.
    """
    fold_epochs = [int(r["best_epoch"]) for r in fold_runs]
    if cfg.select_epoch == "last" or not fold_epochs:
        epochs = cfg.epochs
    else:
        epochs = max(1, int(np.floor(np.median(fold_epochs) + 0.5)))
    kept = [r.get("best_weights") or "raw" for r in fold_runs]  # a run without EMA records raw
    weights = "ema" if kept.count("ema") * 2 > len(kept) else "raw"
    refit_cfg = dataclasses.replace(cfg, epochs=epochs, select_epoch="last", patience=None)
    return refit_cfg, {"epochs": epochs, "fold_epochs": fold_epochs, "weights": weights}


def refit_net(cfg: TrainConfig, paths: TrainPaths, threads: int = 1, code_version: str = "",
              replica: int = 0) -> dict:
    """Train a net on every labelled row for the folds' epochs, keep its weights and predict the test set.

    Args:
        cfg: the model's settings.
        paths: a refit's files (no ``oof`` or ``history``; ``test``, ``test_cache``, ``test_table``
            and ``fold_runs`` set).
        threads: CPU threads for torch.
        code_version: hash of the package code; a checkpoint made by other code is not resumed.
        replica: the seed index (``models.<name>.seeds``).

    Returns:
        The summary for the refit's ``metrics.json``.
    """
    t_start = time.perf_counter()
    fit_cfg, derived = refit_schedule(cfg, [read_json(p) for p in paths.fold_runs])
    trainer = FoldTrainer(fit_cfg, paths, None, "", threads, code_version, replica, refit_weights=derived["weights"])
    summary = trainer.set_up().run_epochs().finish_refit()
    predict = PredictPaths(weights=paths.weights, classes=paths.classes, folds=paths.folds,
                           test_cache=paths.test_cache, test_table=paths.test_table, test=paths.test,
                           train_cache=paths.train_cache, train_table=paths.train_table)
    predict_test_fold(cfg, predict, None, threads)
    seconds = time.perf_counter() - t_start
    log.info("%s refit on all %d labelled rows for %d epochs (folds: %s) in %.1fs", cfg.model, summary["rows"],
             derived["epochs"], derived["fold_epochs"], seconds)
    return {**summary, **derived, "wall_seconds": seconds}
