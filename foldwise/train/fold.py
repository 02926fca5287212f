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
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import torch

from foldwise.io import atomic_path, sha256_file, sha256_json, write_csv
from foldwise.jobs.data import fold_split, read_labelled
from foldwise.jobs.paths import TrainPaths
from foldwise.jobs.seeds import job_seed
from foldwise.jobs.writers import job_meta, write_oof
from foldwise.metrics import get_metric
from foldwise.models.arcface import HeadConfig
from foldwise.tasks import get_task
from foldwise.train.checkpoint import save_atomic, save_checkpoint, try_resume
from foldwise.train.ema import create_ema
from foldwise.train.freeze import FreezeConfig, Freezer, create_optimizer
from foldwise.train.inputs import create_inputs
from foldwise.train.losses import balanced_class_weights, create_loss, with_arc_margin
from foldwise.train.loop import Progress, cosine_with_warmup, sampling_weights, train_one_epoch
from foldwise.train.mixing import MixConfig, create_mixer
from foldwise.train.net import arcface_reference, build_net
from foldwise.train.predict import predict_views, select_device
from foldwise.train.pseudo import with_pseudo_labels
from foldwise.train.selection import selection_rows
from foldwise.train.settings import TrainConfig
from foldwise.train.state import Evaluation, FoldSetup, TrainState, better_weights, hard_targets, improves, stopped_early
from foldwise.train.tta import tta_views

log = logging.getLogger(__name__)


class FoldTrainer:
    """Training of one (model, fold) in named phases: :meth:`set_up`, :meth:`run_epochs`, :meth:`select`,
    :meth:`finish`. :func:`train_fold` runs them in order.

    Args:
        cfg: model settings.
        paths: inputs and outputs.
        fold: which fold of ``folds.pkl`` to validate on.
        target_col: name of the target column written in the OOF file.
        threads: CPU threads for torch.
        code_version: hash of the package code; a checkpoint made by other code is not resumed.
    """

    def __init__(self, cfg: TrainConfig, paths: TrainPaths, fold: int | None, target_col: str, threads: int = 1,
                 code_version: str = "", replica: int = 0, refit_weights: str = "raw"):
        self.cfg, self.paths, self.fold, self.target_col = cfg, paths, fold, target_col
        self.replica = replica  # models.<name>.seeds: seed s > 0 adds s to the seed's derivation
        # fold None: a refit (foldwise.train.refit) trains on every labelled row, scores none, and keeps the
        # last epoch's raw weights or their average (refit_weights: what most folds kept)
        self.refit_weights = refit_weights
        self.where = "refit" if fold is None else f"fold {fold}"
        self.threads, self.code_version = threads, code_version
        self.t_start = time.perf_counter()
        self.state = TrainState()
        self.seen, self.t_train = 0, 0.0

    # ----- set up -----

    def set_up(self) -> "FoldTrainer":
        """Read the inputs, split the rows, build the net, optimiser, schedule and loss; resume if possible."""
        cfg, paths = self.cfg, self.paths
        torch.set_num_threads(max(1, self.threads))
        self.s = s = self._read_inputs()
        torch.manual_seed(s.seed)
        self.gen = torch.Generator().manual_seed(s.seed)
        # Deterministic kernels for reproducible CUDA runs; cuDNN autotuning when speed matters more.
        # CPU kernels are deterministic at a fixed thread count already (tests/test_rerun.py), and the
        # flag costs ~3% there (BENCHMARKS.md), so it is not set for CPU runs.
        torch.use_deterministic_algorithms(cfg.deterministic and s.device.type == "cuda", warn_only=True)
        torch.backends.cudnn.benchmark = not cfg.deterministic
        self.use_cuda = s.device.type == "cuda"
        self.head = HeadConfig(**cfg.head)
        self._build_net()
        self._build_optimisation()
        self.ckpt_dir = Path(paths.checkpoint_dir)
        self.extra = {"ema": self.ema} if self.ema is not None else {}
        resumed = try_resume(self.ckpt_dir / "last.pt", s.run_id, self.model, self.optimizer, self.scheduler,
                             self.gen, self.extra)
        if resumed is not None:
            self.state = TrainState.from_checkpoint(resumed)
            log.info("resuming %s %s from the checkpoint of epoch %d/%d", cfg.model, self.where,
                     self.state.epoch, cfg.epochs)
        if s.n_pseudo:
            log.info("%s %s: %d training rows + %d pseudo-labelled test rows", cfg.model, self.where,
                     len(s.tr_idx), s.n_pseudo)
        return self

    def _read_inputs(self) -> FoldSetup:
        cfg, paths, fold = self.cfg, self.paths, self.fold
        task = get_task(cfg.task)
        classes, table, y, data = read_labelled(paths, task)
        if fold is None:  # a refit: every labelled row trains, none is scored
            tr_idx, va_idx = np.arange(len(table)), np.arange(0)
        else:
            tr_idx, va_idx = fold_split(paths.folds, fold)
        self.fold_train_rows = tr_idx  # input statistics come from the whole training fold, as in prediction
        seed = job_seed(cfg.seed, cfg.model, "refit" if fold is None else fold, self.replica)
        groups = table["group"].to_numpy() if "group" in table else None
        # The rows that pick the epoch: the validation rows, or (inner) a slice of the training rows.
        tr_idx, sel_idx = selection_rows(cfg.select_epoch, y, tr_idx, va_idx, cfg.inner_fraction, seed, groups)
        self.data, y_all, rows_tr, n_pseudo = with_pseudo_labels(cfg, paths, data, y, tr_idx, classes, task)
        folds_sha, config_sha = sha256_file(paths.folds), sha256_json(dataclasses.asdict(cfg))
        run_id = sha256_json({
            "config": config_sha, "folds": folds_sha, "code": self.code_version,
            "table": sha256_file(paths.train_table), "cache": _stat(paths.train_cache),
            **({"teacher": sha256_file(paths.teacher), "test_cache": _stat(paths.test_cache)} if paths.teacher else {}),
        })
        return FoldSetup(
            device=select_device(), task=task, metric=get_metric(cfg.metric, task.name),
            log_loss=get_metric("log_loss", task.name), classes=classes, table=table, va_idx=va_idx, tr_idx=tr_idx,
            sel_idx=sel_idx, y=y, y_all=y_all, y_train=torch.tensor(y_all, dtype=torch.long if y_all.ndim == 1 else torch.float32),
            rows_train=rows_tr, n_pseudo=n_pseudo, folds_sha=folds_sha, config_sha=config_sha, run_id=run_id,
            seed=seed,
        )

    def _build_net(self) -> None:
        cfg, s = self.cfg, self.s
        self.model, self.net = build_net(cfg, len(s.classes), self.data.shape[-1], s.device, cfg.pretrained)
        self.inputs = create_inputs(cfg.kind, self.data, self.model, s.device, cfg.augment, self.fold_train_rows)

    def _build_optimisation(self) -> None:
        cfg, s = self.cfg, self.s
        freeze = FreezeConfig(**cfg.freeze)
        self.optimizer = create_optimizer(self.model, cfg.lr, cfg.weight_decay, freeze)
        self.freezer = Freezer(self.model, freeze)
        self.ema = create_ema(self.model, cfg.ema)
        self.mix, self.mixer = MixConfig(**cfg.mix), create_mixer(cfg.mix, len(s.classes))
        self.views = tta_views(cfg.tta, cfg.kind, cfg.tta_shift, cfg.tta_roll)
        n_rows = len(s.rows_train)
        self.steps_per_epoch = n_rows // cfg.batch_size if n_rows > cfg.batch_size else 1
        total = self.steps_per_epoch * cfg.epochs
        warmup = int(round(cfg.warmup_epochs * self.steps_per_epoch))
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer,
                                                           lambda k: cosine_with_warmup(k, total, warmup))
        n_classes = len(s.classes)
        weights = balanced_class_weights(s.y[s.tr_idx], n_classes) if cfg.class_weights == "balanced" else None
        criterion = create_loss(cfg.loss, label_smoothing=cfg.label_smoothing, class_weights=weights).to(s.device)
        self.criterion = with_arc_margin(criterion, self.head.scale, self.head.margin) if self.head.arcface else criterion
        self.sample_p = None
        if cfg.oversample:
            hard = hard_targets(s.y_all[s.rows_train], s.y.ndim == 2)
            self.sample_p = torch.as_tensor(sampling_weights(hard, n_classes), dtype=torch.float64)

    # ----- run epochs -----

    def run_epochs(self, on_epoch: Callable[[dict], None] | None = None) -> "FoldTrainer":
        """Train until ``epochs`` (or patience), checkpointing after every epoch."""
        while self.state.epoch < self.cfg.epochs and not stopped_early(self.cfg, self.state):
            row, improved = self._one_epoch(self.state.epoch + 1)
            if on_epoch is not None:
                on_epoch({**row, "epochs": self.cfg.epochs, "metric": self.cfg.metric, "improved": improved,
                          "best_epoch": self.state.best_epoch, "best_score": self.state.best_score})
        return self

    def _batches(self) -> list[np.ndarray]:
        """This epoch's batches of cache rows (each sorted, for memmap reads in file order)."""
        cfg, rows = self.cfg, self.s.rows_train
        order = (
            torch.multinomial(self.sample_p, len(rows), replacement=True, generator=self.gen)
            if self.sample_p is not None
            else torch.randperm(len(rows), generator=self.gen)
        ).numpy()
        size = cfg.batch_size
        return [np.sort(rows[order[k * size : (k + 1) * size]]) for k in range(self.steps_per_epoch)]

    def _train_epoch(self, epoch: int) -> float:
        """One pass over this epoch's batches; the mean training loss."""
        cfg, s = self.cfg, self.s
        t0 = time.perf_counter()
        self.freezer.set_epoch(epoch)
        batches = self._batches()
        ema = self.ema
        train_loss = train_one_epoch(
            self.net, self.inputs, batches, s.y_train, self.criterion, self.optimizer, self.scheduler, self.gen,
            progress=Progress(self.steps_per_epoch, f"{cfg.model} {self.where} epoch {epoch}/{cfg.epochs}"),
            mix=self.mixer if self.mix.active(epoch, cfg.epochs) else None,
            after_step=(lambda: ema.update(self.model, self.scheduler.last_epoch)) if ema is not None else None,
            train_mode=self.freezer.train_mode,
        )
        self.seen += sum(len(b) for b in batches)
        self.t_train += time.perf_counter() - t0
        return train_loss

    def _one_epoch(self, epoch: int) -> tuple[dict, bool]:
        cfg, s, state = self.cfg, self.s, self.state
        t0 = time.perf_counter()
        train_loss = self._train_epoch(epoch)
        if self.fold is None:
            return self._refit_epoch(epoch, train_loss, t0), True
        ema = self.ema
        evals = {"raw": self.evaluate(self.net, s.sel_idx)}
        if ema is not None:
            evals["ema"] = self.evaluate(ema.module, s.sel_idx)
        source = better_weights(s.metric, evals)
        ev = evals[source]
        row = {"epoch": epoch, "lr": max(g["lr"] for g in self.optimizer.param_groups), "train_loss": train_loss,
               "valid_loss": ev.loss, f"valid_{cfg.metric}": ev.score}
        if len(self.views) > 1:
            row[f"valid_{cfg.metric}_no_tta"] = s.metric(s.y[s.sel_idx], ev.plain)
        if ema is not None:
            row.update({"weights": source, **{f"valid_{cfg.metric}_{k}": e.score for k, e in evals.items()}})
        row["seconds"] = time.perf_counter() - t0
        state.history.append(row)
        improved = cfg.select_epoch == "last" or improves(s.metric, ev.score, ev.loss, state.best_score,
                                                             state.best_loss)
        state.last_valid, state.last_weights = torch.from_numpy(ev.probs), source
        if improved:
            state.best_score, state.best_loss, state.best_epoch, state.bad_epochs = ev.score, ev.loss, epoch, 0
            state.best_valid, state.best_plain = torch.from_numpy(ev.probs), torch.from_numpy(ev.plain)
            state.best_weights = source
            save_atomic(self._weights(source).state_dict(), self.ckpt_dir / "best.pt")
        else:
            state.bad_epochs += 1
        state.epoch = epoch
        save_checkpoint(self.ckpt_dir / "last.pt", state.to_checkpoint(), s.run_id, self.model, self.optimizer,
                        self.scheduler, self.gen, self.extra)
        log.info(
            "%s fold %d epoch %d/%d train_loss %.4f valid_loss %.4f valid_%s %.4f%s%s lr %.2e %.1fs",
            cfg.model, self.fold, epoch, cfg.epochs, row["train_loss"], ev.loss, cfg.metric, ev.score,
            f" ({source})" if ema is not None else "", " *" if improved else "", row["lr"], row["seconds"],
        )
        return row, improved

    def _refit_epoch(self, epoch: int, train_loss: float, t0: float) -> dict:
        """A refit's epoch: no rows to score; after the last one its weights are kept (``best.pt``)."""
        cfg, state = self.cfg, self.state
        source = self.refit_weights if self.ema is not None else "raw"
        row = {"epoch": epoch, "lr": max(g["lr"] for g in self.optimizer.param_groups), "train_loss": train_loss,
               "seconds": time.perf_counter() - t0}
        state.history.append(row)
        state.epoch, state.best_epoch, state.best_weights, state.last_weights = epoch, epoch, source, source
        if epoch == cfg.epochs:  # before the checkpoint: a resumed, finished refit finds its weights
            save_atomic(self._weights(source).state_dict(), self.ckpt_dir / "best.pt")
        save_checkpoint(self.ckpt_dir / "last.pt", state.to_checkpoint(), self.s.run_id, self.model, self.optimizer,
                        self.scheduler, self.gen, self.extra)
        log.info("%s refit epoch %d/%d train_loss %.4f lr %.2e %.1fs", cfg.model, epoch, cfg.epochs, train_loss,
                 row["lr"], row["seconds"])
        return row

    def _weights(self, source: str) -> torch.nn.Module:
        return self.model if source == "raw" else self.ema.module

    def evaluate(self, module: torch.nn.Module, rows: np.ndarray) -> Evaluation:
        """``module`` on ``rows`` through the test-time views (ArcFace: against the training rows' embeddings)."""
        cfg, s = self.cfg, self.s
        reference = arcface_reference(cfg, module, self.inputs, s.tr_idx, s.y[s.tr_idx], len(s.classes), self.use_cuda)
        out = predict_views(module, self.inputs, rows, cfg.predict_batch_size, self.views, self.use_cuda,
                            s.task.activation, reference)
        probs = out.mean(0)
        return Evaluation(probs, out[0], s.metric(s.y[rows], probs), s.log_loss(s.y[rows], probs))

    # ----- select -----

    def select(self) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """The validation rows' probabilities at the chosen epoch, without test-time views (None without
        views), and at the last epoch. ``inner`` predicts them here, once, with the last and the chosen weights."""
        state = self.state
        if self.cfg.select_epoch == "inner":
            va = self.s.va_idx
            last = self.evaluate(self._weights(state.last_weights), va)
            self.model.load_state_dict(torch.load(self.ckpt_dir / "best.pt", map_location=self.s.device,
                                                  weights_only=True))
            chosen = self.evaluate(self.model, va)
            oof, plain, last_probs = chosen.probs, chosen.plain, last.probs
        else:
            oof, plain, last_probs = (t.numpy() for t in (state.best_valid, state.best_plain, state.last_valid))
        return oof, (plain if len(self.views) > 1 else None), last_probs

    # ----- finish -----

    def finish(self) -> dict:
        """Write the OOF file, ``history.csv`` and the kept weights; return the job's summary."""
        cfg, s, state, paths = self.cfg, self.s, self.state, self.paths
        oof, plain, last_probs = self.select()
        # No replica in the metadata: a net's seed s > 0 writes the same metadata as its seed 0.
        meta = job_meta(s.folds_sha, s.config_sha, cfg.model, self.fold, select_epoch=cfg.select_epoch)
        write_oof(paths.oof, s.table, s.va_idx, self.fold, self.target_col, s.classes, oof, meta, last_probs, plain)
        write_csv(pd.DataFrame(state.history), paths.history)
        with atomic_path(paths.weights) as tmp:
            shutil.copyfile(self.ckpt_dir / "best.pt", tmp)
        log.info("done %s fold %d: best %s %.4f at epoch %d", cfg.model, self.fold, cfg.metric, state.best_score,
                 state.best_epoch)
        return {
            "best_epoch": state.best_epoch,
            "best_score": state.best_score,
            "best_weights": state.best_weights,
            "epochs_run": len(state.history),
            "pseudo_rows": s.n_pseudo,
            "train_seconds": self.t_train,
            "samples_per_second": self.seen / self.t_train if self.t_train > 0 else None,
            "wall_seconds": time.perf_counter() - self.t_start,
            "peak_gpu_memory_mb": torch.cuda.max_memory_allocated() / 2**20 if self.use_cuda else None,
            "device": str(s.device),
            "select_epoch": cfg.select_epoch,
        }


    def finish_refit(self) -> dict:
        """A refit's end: keep the last epoch's weights (``paths.weights``); return the job's summary."""
        s, state = self.s, self.state
        with atomic_path(self.paths.weights) as tmp:
            shutil.copyfile(self.ckpt_dir / "best.pt", tmp)
        return {
            "rows": len(s.tr_idx),
            "pseudo_rows": s.n_pseudo,
            "seed": s.seed,
            "epochs_run": len(state.history),
            "best_weights": state.best_weights,
            "train_seconds": self.t_train,
            "samples_per_second": self.seen / self.t_train if self.t_train > 0 else None,
            "peak_gpu_memory_mb": torch.cuda.max_memory_allocated() / 2**20 if self.use_cuda else None,
            "device": str(s.device),
        }


def train_fold(
    cfg: TrainConfig, paths: TrainPaths, fold: int, target_col: str, threads: int = 1, code_version: str = "",
    on_epoch: Callable[[dict], None] | None = None, replica: int = 0,
) -> dict:
    """Train ``cfg`` on one fold and write its predictions (:class:`FoldTrainer`'s phases in order).

    Args:
        cfg, paths, fold, target_col, threads, code_version: as :class:`FoldTrainer`.
        replica: the seed index (``models.<name>.seeds``); 0 is the single run's seed.
        on_epoch: called after each epoch's log line with that epoch's history row plus
            ``epochs``, ``metric``, ``improved``, ``best_epoch`` and ``best_score`` (live
            progress, experiment tracking); it must not change anything the job computes.

    Returns:
        A summary dict: best epoch, best score, epochs run, seconds, samples/s, pseudo-labelled rows,
        which weights (raw or EMA) were kept.
    """
    trainer = FoldTrainer(cfg, paths, fold, target_col, threads, code_version, replica)
    return trainer.set_up().run_epochs(on_epoch).finish()


def _stat(path: str) -> list[int]:
    st = Path(path).stat()
    return [st.st_size, st.st_mtime_ns]
