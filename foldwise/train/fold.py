"""Training of one (model, fold) job, resumable at every epoch.

The job writes its fold's OOF predictions, a per-epoch ``history.csv`` and the
best weights; the ``predict`` rule (:mod:`foldwise.train.infer`) predicts the
test set from those weights, so new test data never retrains a model. A checkpoint of the whole training state
is saved atomically after every epoch in a directory Snakemake does not manage,
so a killed job resumes from its last complete epoch when it is run again.

The training techniques are each in their own module and switched on by the
model's settings: pseudo-labels (:mod:`~foldwise.train.pseudo`), MixUp/CutMix
(:mod:`~foldwise.train.mixing`), the weight average (:mod:`~foldwise.train.ema`),
staged unfreezing (:mod:`~foldwise.train.freeze`), test-time views
(:mod:`~foldwise.train.tta`) and the ArcFace head (:mod:`foldwise.models.arcface`).
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np
import pandas as pd
import torch

from foldwise.folds import load_folds
from foldwise.io import atomic_path, load_classes, open_cache, sha256_file, sha256_json, write_csv, write_parquet
from foldwise.metrics import get_metric
from foldwise.models.arcface import HeadConfig
from foldwise.models.factory import create_model
from foldwise.tasks import get_task
from foldwise.train.checkpoint import save_atomic, save_checkpoint, try_resume
from foldwise.train.ema import create_ema
from foldwise.train.freeze import FreezeConfig, Freezer, create_optimizer
from foldwise.train.inputs import create_inputs
from foldwise.train.losses import balanced_class_weights, create_loss, with_arc_margin
from foldwise.train.loop import Progress, cosine_with_warmup, derive_seed, sampling_weights, train_one_epoch
from foldwise.train.mixing import MixConfig, create_mixer
from foldwise.train.predict import build_reference, predict_views, select_device
from foldwise.train.pseudo import PseudoConfig, StackedCache, read_teacher, select_pseudo, stack_targets
from foldwise.train.selection import selection_rows
from foldwise.train.settings import TrainConfig
from foldwise.train.tta import tta_views

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FoldPaths:
    """Inputs and outputs of one (model, fold) job; the teacher's files only for a pseudo-labelled student."""

    train_table: str
    classes: str
    folds: str
    train_cache: str
    oof: str
    history: str
    weights: str
    checkpoint_dir: str
    teacher: str | None = None
    test_cache: str | None = None
    test_table: str | None = None


class Evaluation(NamedTuple):
    """One set of weights on the validation rows: probabilities averaged over the test-time views,
    the plain (identity view) probabilities, the metric and the log loss."""

    probs: np.ndarray
    plain: np.ndarray
    score: float
    loss: float


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
        A summary dict: best epoch, best score, epochs run, seconds, samples/s, pseudo-labelled rows,
        which weights (raw or EMA) were kept.
    """
    t_start = time.perf_counter()
    torch.set_num_threads(max(1, threads))
    device = select_device()
    task = get_task(cfg.task)
    metric = get_metric(cfg.metric, task.name)
    log_loss = get_metric("log_loss", task.name)
    classes = load_classes(paths.classes)
    n_classes = len(classes)
    table = pd.read_parquet(paths.train_table)
    folds = load_folds(paths.folds)
    if not 0 <= fold < len(folds):
        raise IndexError(f"fold {fold} does not exist: folds.pkl has {len(folds)} folds")
    tr_idx, va_idx = folds[fold]
    folds_sha = sha256_file(paths.folds)
    config_sha = sha256_json(dataclasses.asdict(cfg))
    y = task.encode(table["label"], classes)
    data = open_cache(paths.train_cache)
    if len(data) != len(table):
        raise ValueError(f"{paths.train_cache} has {len(data)} rows but the table has {len(table)}")
    seed = derive_seed(cfg.seed, cfg.model, fold)
    groups = table["group"].to_numpy() if "group" in table else None
    # The rows that pick the epoch: the validation rows, or (inner) a slice of the training rows.
    tr_idx, sel_idx = selection_rows(cfg.select_epoch, y, tr_idx, va_idx, cfg.inner_fraction, seed, groups)
    data, y_all, rows_tr, n_pseudo = _with_pseudo_labels(cfg, paths, data, y, tr_idx, classes, task)
    run_id = sha256_json(
        {
            "config": config_sha,
            "folds": folds_sha,
            "code": code_version,
            "table": sha256_file(paths.train_table),
            "cache": _stat(paths.train_cache),
            **({"teacher": sha256_file(paths.teacher), "test_cache": _stat(paths.test_cache)} if paths.teacher else {}),
        }
    )

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    # Deterministic kernels for reproducible runs; cuDNN autotuning when speed matters more.
    # CPU kernels are deterministic at a fixed thread count already, and the flag costs ~3% there
    # (BENCHMARKS.md, trainer figure); CPU reruns stay byte-identical (tests/test_rerun.py).
    torch.use_deterministic_algorithms(cfg.deterministic and device.type == "cuda", warn_only=True)
    torch.backends.cudnn.benchmark = not cfg.deterministic
    use_cuda = device.type == "cuda"

    in_chans = data.shape[-1]
    head = HeadConfig(**cfg.head)
    model = create_model(
        cfg.backbone, n_classes, in_chans=in_chans, pretrained=cfg.pretrained, head=cfg.head, **cfg.model_kwargs
    )
    channels_last = use_cuda and cfg.kind == "images"
    model = model.to(device, memory_format=torch.channels_last if channels_last else torch.contiguous_format)
    inputs = create_inputs(cfg.kind, data, model, device, cfg.augment, folds[fold][0])  # as test prediction does
    net = torch.compile(model) if cfg.compile else model  # shares parameters with `model`

    freeze = FreezeConfig(**cfg.freeze)
    optimizer = create_optimizer(model, cfg.lr, cfg.weight_decay, freeze)
    freezer = Freezer(model, freeze)
    ema = create_ema(model, cfg.ema)
    mix, mixer = MixConfig(**cfg.mix), create_mixer(cfg.mix, n_classes)
    views = tta_views(cfg.tta, cfg.kind, cfg.tta_shift, cfg.tta_roll)
    drop_last = len(rows_tr) > cfg.batch_size
    steps_per_epoch = len(rows_tr) // cfg.batch_size if drop_last else 1
    total, warmup = steps_per_epoch * cfg.epochs, int(round(cfg.warmup_epochs * steps_per_epoch))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: cosine_with_warmup(s, total, warmup))
    weights = balanced_class_weights(y[tr_idx], n_classes) if cfg.class_weights == "balanced" else None
    criterion = create_loss(cfg.loss, label_smoothing=cfg.label_smoothing, class_weights=weights).to(device)
    if head.arcface:
        criterion = with_arc_margin(criterion, head.scale, head.margin)
    sample_p = None
    if cfg.oversample:
        sample_p = torch.as_tensor(sampling_weights(_hard(y_all[rows_tr], y.ndim == 2), n_classes), dtype=torch.float64)

    def evaluate(module, rows: np.ndarray) -> Evaluation:
        reference = None
        if head.arcface:
            reference = build_reference(module, inputs, tr_idx, y[tr_idx], n_classes, head.neighbours, head.scale,
                                        cfg.predict_batch_size, use_cuda)
        out = predict_views(module, inputs, rows, cfg.predict_batch_size, views, use_cuda, task.activation, reference)
        probs = out.mean(0)
        return Evaluation(probs, out[0], metric(y[rows], probs), log_loss(y[rows], probs))

    ckpt_dir = Path(paths.checkpoint_dir)
    state = {"epoch": 0, "best_score": None, "best_epoch": -1, "bad_epochs": 0, "history": [], "best_valid": None,
             "last_valid": None, "last_weights": "raw", "best_plain": None, "best_weights": "raw"}
    extra = {"ema": ema} if ema is not None else {}
    resumed = try_resume(ckpt_dir / "last.pt", run_id, model, optimizer, scheduler, gen, extra)
    if resumed is not None:
        state = resumed
        log.info("resuming %s fold %d from the checkpoint of epoch %d/%d", cfg.model, fold, state["epoch"], cfg.epochs)
    if n_pseudo:
        log.info("%s fold %d: %d training rows + %d pseudo-labelled test rows", cfg.model, fold, len(tr_idx), n_pseudo)

    y_tr = torch.tensor(y_all, dtype=torch.long if y_all.ndim == 1 else torch.float32)
    seen, t_train = 0, 0.0
    while state["epoch"] < cfg.epochs and not _stopped_early(cfg, state):
        epoch = state["epoch"] + 1
        t0 = time.perf_counter()
        freezer.set_epoch(epoch)
        order = (
            torch.multinomial(sample_p, len(rows_tr), replacement=True, generator=gen)
            if sample_p is not None
            else torch.randperm(len(rows_tr), generator=gen)
        ).numpy()
        batches = [
            np.sort(rows_tr[order[k * cfg.batch_size : (k + 1) * cfg.batch_size]]) for k in range(steps_per_epoch)
        ]
        train_loss = train_one_epoch(
            net, inputs, batches, y_tr, criterion, optimizer, scheduler, gen,
            progress=Progress(steps_per_epoch, f"{cfg.model} fold {fold} epoch {epoch}/{cfg.epochs}"),
            mix=mixer if mix.active(epoch, cfg.epochs) else None,
            after_step=(lambda: ema.update(model, scheduler.last_epoch)) if ema is not None else None,
            train_mode=freezer.train_mode,
        )
        seen += sum(len(b) for b in batches)
        t_train += time.perf_counter() - t0
        evals = {"raw": evaluate(net, sel_idx)}
        if ema is not None:
            evals["ema"] = evaluate(ema.module, sel_idx)
        source = _better_weights(metric, evals)
        ev = evals[source]
        row = {
            "epoch": epoch,
            "lr": max(g["lr"] for g in optimizer.param_groups),
            "train_loss": train_loss,
            "valid_loss": ev.loss,
            f"valid_{cfg.metric}": ev.score,
        }
        if len(views) > 1:
            row[f"valid_{cfg.metric}_no_tta"] = metric(y[sel_idx], ev.plain)
        if ema is not None:
            row.update({"weights": source, **{f"valid_{cfg.metric}_{k}": e.score for k, e in evals.items()}})
        row["seconds"] = time.perf_counter() - t0
        state["history"].append(row)
        improved = cfg.select_epoch == "last" or _improves(metric, ev.score, ev.loss, state)
        state.update(last_valid=torch.from_numpy(ev.probs), last_weights=source)
        if improved:
            state.update(
                best_score=ev.score, best_loss=ev.loss, best_epoch=epoch, bad_epochs=0,
                best_valid=torch.from_numpy(ev.probs), best_plain=torch.from_numpy(ev.plain), best_weights=source,
            )
            save_atomic((model if source == "raw" else ema.module).state_dict(), ckpt_dir / "best.pt")
        else:
            state["bad_epochs"] += 1
        state["epoch"] = epoch
        save_checkpoint(ckpt_dir / "last.pt", state, run_id, model, optimizer, scheduler, gen, extra)
        log.info(
            "%s fold %d epoch %d/%d train_loss %.4f valid_loss %.4f valid_%s %.4f%s%s lr %.2e %.1fs",
            cfg.model, fold, epoch, cfg.epochs, row["train_loss"], ev.loss, cfg.metric, ev.score,
            f" ({source})" if ema is not None else "", " *" if improved else "", row["lr"], row["seconds"],
        )
        if on_epoch is not None:
            on_epoch({**row, "epochs": cfg.epochs, "metric": cfg.metric, "improved": improved,
                      "best_epoch": state["best_epoch"], "best_score": state["best_score"]})

    meta = {"folds_sha256": folds_sha, "config_sha256": config_sha, "model": cfg.model, "fold": str(fold),
            "select_epoch": cfg.select_epoch}
    if cfg.select_epoch == "inner":  # the validation rows are predicted once, at the last and the chosen epoch
        last = evaluate(ema.module if state.get("last_weights") == "ema" else model, va_idx)
        model.load_state_dict(torch.load(ckpt_dir / "best.pt", map_location=device, weights_only=True))
        chosen = evaluate(model, va_idx)
        oof_probs, plain, last_probs = chosen.probs, chosen.plain, last.probs
    else:
        oof_probs, plain, last_probs = (state[k].numpy() for k in ("best_valid", "best_plain", "last_valid"))
    plain = plain if len(views) > 1 else None
    _write_oof(paths.oof, table, va_idx, fold, target_col, classes, oof_probs, meta, last_probs, plain)
    write_csv(pd.DataFrame(state["history"]), paths.history)
    with atomic_path(paths.weights) as tmp:
        shutil.copyfile(ckpt_dir / "best.pt", tmp)
    summary = {
        "best_epoch": state["best_epoch"],
        "best_score": state["best_score"],
        "best_weights": state.get("best_weights", "raw"),
        "epochs_run": len(state["history"]),
        "pseudo_rows": n_pseudo,
        "train_seconds": t_train,
        "samples_per_second": seen / t_train if t_train > 0 else None,
        "wall_seconds": time.perf_counter() - t_start,
        "peak_gpu_memory_mb": torch.cuda.max_memory_allocated() / 2**20 if use_cuda else None,
        "device": str(device),
        "select_epoch": cfg.select_epoch,
    }
    log.info("done %s fold %d: best %s %.4f at epoch %d", cfg.model, fold, cfg.metric, state["best_score"], state["best_epoch"])
    return summary


def _stat(path: str) -> list[int]:
    st = Path(path).stat()
    return [st.st_size, st.st_mtime_ns]


def _hard(targets: np.ndarray, multilabel: bool) -> np.ndarray:
    """Targets as oversampling reads them: class indices, or 0/1 labels."""
    if targets.ndim == 1:
        return targets
    return (targets >= 0.5).astype(np.float32) if multilabel else targets.argmax(1)


def _with_pseudo_labels(cfg: TrainConfig, paths: FoldPaths, data, y, tr_idx, classes, task):
    """The training data, targets and rows, with the teacher's confident test rows added for a student.

    Returns:
        ``(data, targets, training rows, pseudo-labelled row count)``; without a teacher, the
        train cache, ``y``, ``tr_idx`` and 0.
    """
    if not cfg.teacher:
        return data, y, tr_idx, 0
    test = open_cache(paths.test_cache)
    probs = read_teacher(paths.teacher, paths.test_table, classes)
    if len(probs) != len(test):
        raise ValueError(f"{paths.test_cache} has {len(test)} rows but the teacher predicted {len(probs)}")
    pcfg = PseudoConfig(**cfg.pseudo)
    pseudo = select_pseudo(probs, pcfg, multilabel=task.activation == "sigmoid")
    dense = y.ndim == 2 or pcfg.labels == "soft"
    targets = stack_targets(y, len(classes), len(test), pseudo, dense)
    return StackedCache(data, test), targets, np.concatenate([tr_idx, len(y) + pseudo.rows]), len(pseudo.rows)


def _better_weights(metric, evals: dict[str, Evaluation]) -> str:
    """``raw``, or ``ema`` when the average scores better (a tie goes to the lower validation loss)."""
    raw, ema = evals["raw"], evals.get("ema")
    if ema is not None and _improves(metric, ema.score, ema.loss, {"best_score": raw.score, "best_loss": raw.loss}):
        return "ema"
    return "raw"


def _improves(metric, score: float, valid_loss: float, state: dict) -> bool:
    """Best by the metric; a tie (common with accuracy on small folds) goes to the lower validation loss."""
    best = state["best_score"]
    return (
        best is None
        or metric.better(score, best)
        or (score == best and valid_loss < state.get("best_loss", float("inf")))
    )


def _write_oof(path, table, va_idx, fold, target_col, classes, probs, meta, last_probs, plain=None) -> None:
    """The fold's OOF file, with the last epoch's probabilities as ``last_epoch_<class>`` (gather reports the
    CV at the last epoch from them) and, with test-time views, the plain probabilities as ``plain_prob_<class>``
    (gather scores them as the CV without TTA); gather leaves both out of the model's OOF file."""
    oof = pd.DataFrame(probs, columns=[f"prob_{c}" for c in classes])
    oof[[f"last_epoch_{c}" for c in classes]] = last_probs
    oof.insert(0, "row", va_idx)
    oof.insert(1, "id", table["id"].to_numpy()[va_idx])
    oof.insert(2, "fold", fold)
    oof.insert(3, target_col, table["label"].to_numpy()[va_idx])
    if plain is not None:
        oof[[f"plain_prob_{c}" for c in classes]] = plain
    write_parquet(oof, path, meta)


def _stopped_early(cfg: TrainConfig, state: dict) -> bool:
    # patience 0 stops at the first epoch without improvement, as 1 does: it must not stop before epoch 1.
    return cfg.patience is not None and state["bad_epochs"] >= max(1, cfg.patience)


