"""Training of one (model, fold) job, resumable at every epoch.

The job writes its fold's OOF predictions, a per-epoch ``history.csv`` and the
best weights; the ``predict`` rule (:mod:`foldwise.train.infer`) predicts the
test set from those weights, so new test data never retrains a model. A checkpoint of the whole training state
is saved atomically after every epoch in a directory Snakemake does not manage,
so a killed job resumes from its last complete epoch when it is run again.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import torch

from foldwise.folds import load_folds
from foldwise.io import atomic_path, load_classes, open_cache, sha256_file, sha256_json, write_csv, write_parquet
from foldwise.metrics import get_metric
from foldwise.models.factory import create_model
from foldwise.tasks import get_task
from foldwise.train.settings import TrainConfig
from foldwise.train.checkpoint import save_atomic, save_checkpoint, try_resume
from foldwise.train.inputs import create_inputs
from foldwise.train.losses import balanced_class_weights, create_loss
from foldwise.train.loop import Progress, cosine_with_warmup, derive_seed, sampling_weights, train_one_epoch
from foldwise.train.predict import predict_proba, select_device
from foldwise.train.selection import fold_predictions, selection_rows

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FoldPaths:
    """Inputs and outputs of one (model, fold) job."""

    train_table: str
    classes: str
    folds: str
    train_cache: str
    oof: str
    history: str
    weights: str
    checkpoint_dir: str


def train_fold(
    cfg: TrainConfig, paths: FoldPaths, fold: int, target_col: str, threads: int = 1, code_version: str = "",
    on_epoch: Callable[[dict], None] | None = None,
) -> dict:
    """Train ``cfg`` on one fold and write its predictions.

    Args:
        cfg: model settings.
        paths: inputs and outputs.
        fold: which fold of ``folds.pkl`` to validate on.
        target_col: name of the target column written in the OOF file.
        threads: CPU threads for torch.
        code_version: hash of the package code; a checkpoint made by other code is not resumed.
        on_epoch: called after each epoch's log line with that epoch's history row plus
            ``epochs``, ``metric``, ``improved``, ``best_epoch`` and ``best_score`` (live
            progress, experiment tracking); it must not change anything the job computes.

    Returns:
        A summary dict: best epoch, best score, epochs run, seconds, samples/s.
    """
    t_start = time.perf_counter()
    torch.set_num_threads(max(1, threads))
    device = select_device()
    task = get_task(cfg.task)
    metric = get_metric(cfg.metric, task.name)
    classes = load_classes(paths.classes)
    n_classes = len(classes)
    table = pd.read_parquet(paths.train_table)
    folds = load_folds(paths.folds)
    if not 0 <= fold < len(folds):
        raise IndexError(f"fold {fold} does not exist: folds.pkl has {len(folds)} folds")
    tr_idx, va_idx = folds[fold]
    folds_sha = sha256_file(paths.folds)
    config_sha = sha256_json(dataclasses.asdict(cfg))
    cache_stat = Path(paths.train_cache).stat()
    run_id = sha256_json(
        {
            "config": config_sha,
            "folds": folds_sha,
            "code": code_version,
            "table": sha256_file(paths.train_table),
            "cache": [cache_stat.st_size, cache_stat.st_mtime_ns],
        }
    )
    y = task.encode(table["label"], classes)
    data = open_cache(paths.train_cache)
    if len(data) != len(table):
        raise ValueError(f"{paths.train_cache} has {len(data)} rows but the table has {len(table)}")

    seed = derive_seed(cfg.seed, cfg.model, fold)
    groups = table["group"].to_numpy() if "group" in table else None
    # The rows that pick the epoch: the validation rows, or (inner) a slice of the training rows.
    tr_idx, sel_idx = selection_rows(cfg.select_epoch, y, tr_idx, va_idx, cfg.inner_fraction, seed, groups)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    # Deterministic kernels for reproducible runs; cuDNN autotuning when speed matters more.
    # CPU kernels are deterministic at a fixed thread count already, and the flag costs ~3% there
    # (BENCHMARKS.md, trainer figure); CPU reruns stay byte-identical (tests/test_rerun.py).
    torch.use_deterministic_algorithms(cfg.deterministic and device.type == "cuda", warn_only=True)
    torch.backends.cudnn.benchmark = not cfg.deterministic
    use_cuda = device.type == "cuda"

    in_chans = data.shape[-1]
    model = create_model(cfg.backbone, n_classes, in_chans=in_chans, pretrained=cfg.pretrained, **cfg.model_kwargs)
    channels_last = use_cuda and cfg.kind == "images"
    model = model.to(device, memory_format=torch.channels_last if channels_last else torch.contiguous_format)
    inputs = create_inputs(cfg.kind, data, model, device, cfg.augment, folds[fold][0])  # as test prediction does
    net = torch.compile(model) if cfg.compile else model  # shares parameters with `model`

    from timm.optim import create_optimizer_v2

    optimizer = create_optimizer_v2(model, "adamw", lr=cfg.lr, weight_decay=cfg.weight_decay)
    drop_last = len(tr_idx) > cfg.batch_size
    steps_per_epoch = len(tr_idx) // cfg.batch_size if drop_last else 1
    total, warmup = steps_per_epoch * cfg.epochs, int(round(cfg.warmup_epochs * steps_per_epoch))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: cosine_with_warmup(s, total, warmup))
    weights = balanced_class_weights(y[tr_idx], n_classes) if cfg.class_weights == "balanced" else None
    criterion = create_loss(cfg.loss, label_smoothing=cfg.label_smoothing, class_weights=weights).to(device)
    sample_p = None
    if cfg.oversample:
        sample_p = torch.as_tensor(sampling_weights(y[tr_idx], n_classes), dtype=torch.float64)

    ckpt_dir = Path(paths.checkpoint_dir)
    state = {"epoch": 0, "best_score": None, "best_epoch": -1, "bad_epochs": 0, "history": [], "best_valid": None,
             "last_valid": None}
    resumed = try_resume(ckpt_dir / "last.pt", run_id, model, optimizer, scheduler, gen)
    if resumed is not None:
        state = resumed
        log.info("resuming %s fold %d from the checkpoint of epoch %d/%d", cfg.model, fold, state["epoch"], cfg.epochs)

    y_tr = torch.tensor(y, dtype=torch.long if y.ndim == 1 else torch.float32)
    seen, t_train = 0, 0.0
    while state["epoch"] < cfg.epochs and not _stopped_early(cfg, state):
        epoch = state["epoch"] + 1
        t0 = time.perf_counter()
        order = (
            torch.multinomial(sample_p, len(tr_idx), replacement=True, generator=gen)
            if sample_p is not None
            else torch.randperm(len(tr_idx), generator=gen)
        ).numpy()
        batches = [
            np.sort(tr_idx[order[k * cfg.batch_size : (k + 1) * cfg.batch_size]]) for k in range(steps_per_epoch)
        ]
        train_loss = train_one_epoch(
            net, inputs, batches, y_tr, criterion, optimizer, scheduler, gen,
            progress=Progress(steps_per_epoch, f"{cfg.model} fold {fold} epoch {epoch}/{cfg.epochs}"),
        )
        seen += sum(len(b) for b in batches)
        t_train += time.perf_counter() - t0
        probs = predict_proba(
            net, inputs, sel_idx, cfg.predict_batch_size, cfg.tta_hflip, use_cuda, task.activation
        )
        score = metric(y[sel_idx], probs)
        valid_loss = get_metric("log_loss", task.name)(y[sel_idx], probs)
        row = {
            "epoch": epoch,
            "lr": optimizer.param_groups[0]["lr"],
            "train_loss": train_loss,
            "valid_loss": valid_loss,
            f"valid_{cfg.metric}": score,
            "seconds": time.perf_counter() - t0,
        }
        state["history"].append(row)
        improved = cfg.select_epoch == "last" or _improves(metric, score, valid_loss, state)
        state["last_valid"] = torch.from_numpy(probs)
        if improved:
            state.update(
                best_score=score, best_loss=valid_loss, best_epoch=epoch, bad_epochs=0, best_valid=torch.from_numpy(probs)
            )
            save_atomic(model.state_dict(), ckpt_dir / "best.pt")
        else:
            state["bad_epochs"] += 1
        state["epoch"] = epoch
        save_checkpoint(ckpt_dir / "last.pt", state, run_id, model, optimizer, scheduler, gen)
        log.info(
            "%s fold %d epoch %d/%d train_loss %.4f valid_loss %.4f valid_%s %.4f%s lr %.2e %.1fs",
            cfg.model, fold, epoch, cfg.epochs, row["train_loss"], valid_loss, cfg.metric, score,
            " *" if improved else "", row["lr"], row["seconds"],
        )
        if on_epoch is not None:
            on_epoch({**row, "epochs": cfg.epochs, "metric": cfg.metric, "improved": improved,
                      "best_epoch": state["best_epoch"], "best_score": state["best_score"]})

    meta = {"folds_sha256": folds_sha, "config_sha256": config_sha, "model": cfg.model, "fold": str(fold),
            "select_epoch": cfg.select_epoch}
    oof_probs, last_probs = fold_predictions(
        cfg.select_epoch, state, lambda: predict_proba(
            net, inputs, va_idx, cfg.predict_batch_size, cfg.tta_hflip, use_cuda, task.activation
        ), model, ckpt_dir / "best.pt",
    )
    _write_oof(paths.oof, table, va_idx, fold, target_col, classes, oof_probs, meta, last_probs)
    write_csv(pd.DataFrame(state["history"]), paths.history)
    with atomic_path(paths.weights) as tmp:
        shutil.copyfile(ckpt_dir / "best.pt", tmp)
    summary = {
        "best_epoch": state["best_epoch"],
        "best_score": state["best_score"],
        "epochs_run": len(state["history"]),
        "train_seconds": t_train,
        "samples_per_second": seen / t_train if t_train > 0 else None,
        "wall_seconds": time.perf_counter() - t_start,
        "peak_gpu_memory_mb": torch.cuda.max_memory_allocated() / 2**20 if use_cuda else None,
        "device": str(device),
        "select_epoch": cfg.select_epoch,
    }
    log.info("done %s fold %d: best %s %.4f at epoch %d", cfg.model, fold, cfg.metric, state["best_score"], state["best_epoch"])
    return summary


def _improves(metric, score: float, valid_loss: float, state: dict) -> bool:
    """Best by the metric; a tie (common with accuracy on small folds) goes to the lower validation loss."""
    best = state["best_score"]
    return (
        best is None
        or metric.better(score, best)
        or (score == best and valid_loss < state.get("best_loss", float("inf")))
    )


def _write_oof(path, table, va_idx, fold, target_col, classes, probs, meta, last_probs) -> None:
    oof = pd.DataFrame(probs, columns=[f"prob_{c}" for c in classes])
    oof[[f"last_epoch_{c}" for c in classes]] = last_probs  # gather reports the CV at the last epoch
    oof.insert(0, "row", va_idx)
    oof.insert(1, "id", table["id"].to_numpy()[va_idx])
    oof.insert(2, "fold", fold)
    oof.insert(3, target_col, table["label"].to_numpy()[va_idx])
    write_parquet(oof, path, meta)


def _stopped_early(cfg: TrainConfig, state: dict) -> bool:
    # patience 0 stops at the first epoch without improvement, as 1 does: it must not stop before epoch 1.
    return cfg.patience is not None and state["bad_epochs"] >= max(1, cfg.patience)


