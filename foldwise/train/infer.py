"""Test predictions of one (model, fold): the fold's best weights over the test cache.

Its own rule (``predict``), apart from training: new or changed test data
re-runs this and what follows, never the training jobs.
"""

from __future__ import annotations

import dataclasses
import logging
import time

import numpy as np
import pandas as pd
import torch

from foldwise.io import load_classes, open_cache, sha256_file, sha256_json
from foldwise.jobs.data import fold_split
from foldwise.jobs.paths import PredictPaths
from foldwise.jobs.writers import job_meta, write_test
from foldwise.tasks import get_task
from foldwise.train.inputs import create_inputs
from foldwise.train.net import arcface_reference, build_net, uses_arcface
from foldwise.train.predict import predict_views, select_device
from foldwise.train.settings import TrainConfig
from foldwise.train.tta import tta_views

log = logging.getLogger(__name__)


def predict_test_fold(cfg: TrainConfig, paths: PredictPaths, fold: int | None, threads: int = 1) -> dict:
    """Predict the test set with one fold's best weights and write ``id, prob_<class>...``.

    Series inputs are standardised with the statistics of the fold's training
    rows, and predictions averaged over the same test-time views, exactly as for
    the fold's validation rows. An ArcFace model's probabilities come from the
    nearest embeddings of the fold's training rows, as for its validation rows.

    Args:
        cfg: the model's settings (as for training).
        paths: inputs and output.
        fold: the fold whose weights are used; None for a refit (statistics of every labelled row).
        threads: CPU threads for torch.

    Returns:
        ``{"rows": N, "seconds": s, "device": ...}``.
    """
    t0 = time.perf_counter()
    torch.set_num_threads(max(1, threads))
    device = select_device()
    task = get_task(cfg.task)
    classes = load_classes(paths.classes)
    train_data, test_data = open_cache(paths.train_cache), open_cache(paths.test_cache)
    # fold None: a refit's weights, fitted on every labelled row (foldwise.train.refit)
    tr_idx = np.arange(len(train_data)) if fold is None else fold_split(paths.folds, fold)[0]
    model, net = build_net(cfg, len(classes), train_data.shape[-1], device, weights=paths.weights)
    train_inputs = create_inputs(cfg.kind, train_data, model, device, cfg.augment, tr_idx)
    inputs = train_inputs.over(test_data)
    use_cuda = device.type == "cuda"
    reference = None
    if uses_arcface(cfg):  # the fold's training rows' embeddings, as for its validation rows
        y = task.encode(pd.read_parquet(paths.train_table)["label"], classes)
        reference = arcface_reference(cfg, net, train_inputs, tr_idx, y[tr_idx], len(classes), use_cuda)
    views = tta_views(cfg.tta, cfg.kind, cfg.tta_shift, cfg.tta_roll)
    probs = predict_views(
        net, inputs, None, cfg.predict_batch_size, views, use_cuda, task.activation, reference
    ).mean(0)
    meta = job_meta(sha256_file(paths.folds), sha256_json(dataclasses.asdict(cfg)), cfg.model,
                    "refit" if fold is None else fold)
    test = write_test(paths.test, probs, classes, paths.test_table, paths.test_cache, meta)
    seconds = time.perf_counter() - t0
    log.info("predicted %d test rows with %s %s in %.1fs", len(test), cfg.model,
             "refit" if fold is None else f"fold {fold}", seconds)
    return {"rows": len(test), "seconds": seconds, "device": str(device)}
