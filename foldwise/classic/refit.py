"""The full-data refit of a classic model (``models.<name>.refit: full | blend``): the ``refit`` rule's CPU path.

The folds chose nothing a classic model needs besides the boosting rounds of
LightGBM: a refit fits the same chain (:class:`foldwise.classic.fit.ClassicModel`)
on every labelled row, with no validation rows, and predicts the test cache.
LightGBM, which early-stops each fold on its validation rows, trains for the
median of the folds' best rounds (their ``metrics.json``), as the nets train
for the epochs their folds selected. The refit has no honest score of its own:
its OOF, CV and leaderboard row stay the folds'.

Seed: :func:`foldwise.jobs.seeds.job_seed` of ``(seed, model, "refit")`` and the seed index.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from foldwise.classic.families import family_of
from foldwise.classic.fit import ClassicModel, predict_test
from foldwise.io import read_json, sha256_file, sha256_json
from foldwise.jobs.data import read_labelled
from foldwise.jobs.paths import TrainPaths
from foldwise.jobs.seeds import job_seed
from foldwise.jobs.writers import job_meta
from foldwise.tasks import get_task

log = logging.getLogger(__name__)


def refit_settings(settings: dict, fold_runs: list[dict]) -> tuple[dict, dict]:
    """The settings a refit fits with, and what was derived from the folds.

    LightGBM with early stopping: ``n_estimators`` = the median of the folds' best rounds
    (rounded half up), no early stopping; every other family: the settings as they are.

    Returns:
        ``(settings for the fit, {"rounds": ..., "fold_rounds": [...]} or {})``.
    """
    family = family_of(settings)
    hyper = dict(settings.get(family) or {})
    if family != "lightgbm" or not hyper["early_stopping_rounds"]:
        return settings, {}
    rounds = [int(r["best_epoch"]) for r in fold_runs]
    chosen = int(np.floor(np.median(rounds) + 0.5))
    hyper.update(n_estimators=max(1, chosen), early_stopping_rounds=0)
    return {**settings, family: hyper}, {"rounds": chosen, "fold_rounds": rounds}


def refit_classic(settings: dict, paths: TrainPaths, threads: int = 1, replica: int = 0) -> dict:
    """Fit a classic model on every labelled row and write its test predictions and state.

    ``paths`` name no OOF file or history; ``test`` and ``fold_runs`` (the same seed's fold
    ``metrics.json`` files) are a refit's.

    Returns:
        The summary for the refit's ``metrics.json``: rows, seconds, what came from the folds.
    """
    t_start = time.perf_counter()
    task = get_task(settings["task"])
    classes, table, y, data = read_labelled(paths, task)
    fit_settings, derived = refit_settings(settings, [read_json(p) for p in paths.fold_runs])
    seed = job_seed(settings["seed"], settings["model"], "refit", replica)
    rows = np.arange(len(table))
    model = ClassicModel(fit_settings, seed, threads).fit(data, y, rows, None, n_classes=len(classes))
    t_fit = time.perf_counter() - t_start
    config_sha, folds_sha = sha256_json(settings), sha256_file(paths.folds)
    meta = job_meta(folds_sha, config_sha, settings["model"], "refit", replica=replica)
    predict_test(model, paths.classes, paths.test_cache, paths.test_table, paths.test, meta)
    model.save(paths.weights, {"config_sha256": config_sha, "folds_sha256": folds_sha, "seed": seed,
                               "fold": "refit", "classes": list(classes)})
    seconds = time.perf_counter() - t_start
    log.info("%s refit on all %d labelled rows (%s) in %.1fs", settings["model"], len(rows), derived or "as the folds",
             seconds)
    return {"rows": len(rows), "seed": seed, "train_seconds": t_fit, "wall_seconds": seconds, "device": "cpu",
            "family": model.family, **derived}
