"""Training of one (model, fold) job, resumable at every epoch.

The job writes its fold's OOF predictions, its test predictions, a per-epoch
``history.csv`` and the best weights. A checkpoint of the whole training state
is saved atomically after every epoch in a directory Snakemake does not manage,
so a killed job resumes from its last complete epoch when it is run again.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from foldwise.data import open_cache
from foldwise.folds import load_folds
from foldwise.io import atomic_path, load_classes, sha256_file, sha256_json, write_csv, write_parquet
from foldwise.losses import balanced_class_weights, create_loss
from foldwise.metrics import get_metric
from foldwise.models import create_model
from foldwise.inputs import create_inputs
from foldwise.predict import predict_proba
from foldwise.runtime import derive_seed
from foldwise.tasks import get_task

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    """One model's training settings (the schema's ``models.<name>`` plus globals)."""

    model: str
    backbone: str
    img_size: int = 224
    pretrained: bool | str = False
    model_kwargs: dict = field(default_factory=dict)
    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.05
    warmup_epochs: float = 1.0
    loss: str = "cross_entropy"
    label_smoothing: float = 0.0
    class_weights: str = "none"
    oversample: bool = False
    augment: dict = field(default_factory=dict)
    tta_hflip: bool = False
    patience: int | None = None
    predict_batch_size: int = 256
    metric: str = "accuracy"
    seed: int = 42
    deterministic: bool = True
    compile: bool = False
    task: str = "multiclass"
    kind: str = "images"

    @classmethod
    def from_params(cls, params: dict) -> "TrainConfig":
        """Build from the rule's params, rejecting keys this version does not know."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(params) - names
        if unknown:
            raise KeyError(f"unknown training settings {sorted(unknown)}; valid: {sorted(names)}")
        return cls(**params)


@dataclass(frozen=True)
class FoldPaths:
    """Inputs and outputs of one (model, fold) job."""

    train_table: str
    test_table: str
    classes: str
    folds: str
    train_cache: str
    test_cache: str
    oof: str
    test: str
    history: str
    weights: str
    checkpoint_dir: str


def cosine_with_warmup(step: int, total: int, warmup: int) -> float:
    """LR multiplier: linear warm-up to 1, then cosine decay to 0 at ``total``."""
    if warmup > 0 and step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


class _Progress:
    """A one-line progress bar on an interactive stderr; silent in logs and pipes."""

    def __init__(self, total: int, prefix: str):
        self.total, self.prefix = total, prefix
        self.enabled = sys.stderr.isatty()

    def update(self, done: int, loss: float) -> None:
        if self.enabled:
            filled = int(30 * done / max(1, self.total))
            bar = "#" * filled + "." * (30 - filled)
            sys.stderr.write(f"\r{self.prefix} [{bar}] {done}/{self.total} loss {loss:.4f}")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def sampling_weights(y: np.ndarray, n_classes: int) -> np.ndarray:
    """Row weights that oversample rare classes (or rows with rare labels) to balance.

    Shape:
        y: ``(N,)`` classes or ``(N, L)`` 0/1 labels. Returns ``(N,)`` float64.
    """
    if y.ndim == 1:
        counts = np.bincount(y, minlength=n_classes)
        return 1.0 / counts[y]
    counts = np.maximum(y.sum(0), 1)
    rare = (y / counts).max(1)  # weight of the rarest label a row carries
    return np.where(y.any(1), rare, 1.0 / max(1, (~y.any(1)).sum()))


def select_device() -> torch.device:
    """CUDA when present, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def train_fold(
    cfg: TrainConfig, paths: FoldPaths, fold: int, target_col: str, threads: int = 1, code_version: str = ""
) -> dict:
    """Train ``cfg`` on one fold and write its predictions.

    Args:
        cfg: model settings.
        paths: inputs and outputs.
        fold: which fold of ``folds.pkl`` to validate on.
        target_col: name of the target column written in the OOF file.
        threads: CPU threads for torch.
        code_version: hash of the package code; a checkpoint made by other code is not resumed.

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
    inputs = create_inputs(cfg.kind, data, model, device, cfg.augment, tr_idx)
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
    state = {"epoch": 0, "best_score": None, "best_epoch": -1, "bad_epochs": 0, "history": [], "best_valid": None}
    resumed = _try_resume(ckpt_dir / "last.pt", run_id, model, optimizer, scheduler, gen)
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
            progress=_Progress(steps_per_epoch, f"{cfg.model} fold {fold} epoch {epoch}/{cfg.epochs}"),
        )
        seen += sum(len(b) for b in batches)
        t_train += time.perf_counter() - t0
        probs = predict_proba(
            net, inputs, va_idx, cfg.predict_batch_size, cfg.tta_hflip, use_cuda, task.activation
        )
        score = metric(y[va_idx], probs)
        valid_loss = get_metric("log_loss", task.name)(y[va_idx], probs)
        row = {
            "epoch": epoch,
            "lr": optimizer.param_groups[0]["lr"],
            "train_loss": train_loss,
            "valid_loss": valid_loss,
            f"valid_{cfg.metric}": score,
            "seconds": time.perf_counter() - t0,
        }
        state["history"].append(row)
        improved = _improves(metric, score, valid_loss, state)
        if improved:
            state.update(
                best_score=score, best_loss=valid_loss, best_epoch=epoch, bad_epochs=0, best_valid=torch.from_numpy(probs)
            )
            _save_atomic(model.state_dict(), ckpt_dir / "best.pt")
        else:
            state["bad_epochs"] += 1
        state["epoch"] = epoch
        _save_checkpoint(ckpt_dir / "last.pt", state, run_id, model, optimizer, scheduler, gen)
        log.info(
            "%s fold %d epoch %d/%d train_loss %.4f valid_loss %.4f valid_%s %.4f%s lr %.2e %.1fs",
            cfg.model, fold, epoch, cfg.epochs, row["train_loss"], valid_loss, cfg.metric, score,
            " *" if improved else "", row["lr"], row["seconds"],
        )

    model.load_state_dict(torch.load(ckpt_dir / "best.pt", map_location=device, weights_only=True))
    oof_probs = state["best_valid"].numpy()
    test_inputs = inputs.over(open_cache(paths.test_cache))  # the training fold's scaling
    test_probs = predict_proba(
        net, test_inputs, None, cfg.predict_batch_size, cfg.tta_hflip, use_cuda, task.activation
    )
    meta = {"folds_sha256": folds_sha, "config_sha256": config_sha, "model": cfg.model, "fold": str(fold)}
    _write_predictions(paths, table, va_idx, fold, target_col, classes, oof_probs, test_probs, meta)
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
    }
    log.info("done %s fold %d: best %s %.4f at epoch %d", cfg.model, fold, cfg.metric, state["best_score"], state["best_epoch"])
    return summary


def train_one_epoch(net, inputs, batches, y, criterion, optimizer, scheduler, gen, progress=None) -> float:
    """One pass over ``batches`` (arrays of cache rows), stepping the scheduler per batch.

    Args:
        net: the model (possibly compiled), in training mode.
        inputs: the fold's ``Inputs`` pipeline; batches are augmented with ``gen``.
        batches: row indices of each batch, in order.
        y: ``(N,)`` long or ``(N, L)`` float targets of all rows, on the CPU.
        progress: an optional progress bar with ``update(done, loss)`` and ``close()``.

    Returns:
        The mean training loss.
    """
    net.train()
    total = 0.0
    for step, rows in enumerate(batches):
        x = inputs.batch(rows, gen)
        target = y[rows].to(x.device, non_blocking=True)
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=x.device.type == "cuda"):
            loss = criterion(net(x).float(), target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        total += loss.item()
        if progress is not None:
            progress.update(step + 1, total / (step + 1))
    if progress is not None:
        progress.close()
    return total / max(1, len(batches))


def _improves(metric, score: float, valid_loss: float, state: dict) -> bool:
    """Best by the metric; a tie (common with accuracy on small folds) goes to the lower validation loss."""
    best = state["best_score"]
    return (
        best is None
        or metric.better(score, best)
        or (score == best and valid_loss < state.get("best_loss", float("inf")))
    )


def _write_predictions(paths, table, va_idx, fold, target_col, classes, oof_probs, test_probs, meta) -> None:
    prob_cols = [f"prob_{c}" for c in classes]
    oof = pd.DataFrame(oof_probs, columns=prob_cols)
    oof.insert(0, "row", va_idx)
    oof.insert(1, "id", table["id"].to_numpy()[va_idx])
    oof.insert(2, "fold", fold)
    oof.insert(3, target_col, table["label"].to_numpy()[va_idx])
    test = pd.DataFrame(test_probs, columns=prob_cols)
    test.insert(0, "id", pd.read_parquet(paths.test_table)["id"].to_numpy())
    write_parquet(oof, paths.oof, meta)
    write_parquet(test, paths.test, meta)


def _stopped_early(cfg: TrainConfig, state: dict) -> bool:
    return cfg.patience is not None and state["bad_epochs"] >= cfg.patience


def _save_atomic(obj, path: Path) -> None:
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def _save_checkpoint(path, state, run_id, model, optimizer, scheduler, gen) -> None:
    _save_atomic(
        {
            "run_id": run_id,
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "generator": gen.get_state(),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "state": {**state, "history": [dict(r) for r in state["history"]]},
        },
        path,
    )


def _try_resume(path: Path, run_id, model, optimizer, scheduler, gen) -> dict | None:
    """Restore the training state from ``path`` if it was made by this exact run.

    ``run_id`` covers the settings, the fold split, the package code, the
    training table and the image cache; any difference starts training afresh.
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
    model.load_state_dict(ckpt["model"])
    optimizer.load_state_dict(ckpt["optimizer"])
    scheduler.load_state_dict(ckpt["scheduler"])
    gen.set_state(ckpt["generator"])
    torch.set_rng_state(ckpt["torch_rng"])
    if ckpt["cuda_rng"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(ckpt["cuda_rng"])
    return ckpt["state"]
