"""Live progress of training jobs: one line per epoch on the terminal, and a status file.

A training job's stderr is the terminal (or the log) of the ``snakemake`` process
that started it, so :class:`EpochProgress` writes one line per epoch there, e.g.::

    [foldwise] res fold 1 epoch 3/10 valid_accuracy 0.9512 best 0.9512@3 train_loss 0.412 valid_loss 0.201 4.1s/epoch ETA 29s

Where stderr is a terminal the line starts with a bar of the epochs done.
It also rewrites ``<log>.progress.json`` beside the job's log
(``logs/train/{model}/fold{k}.progress.json``) after every epoch, which
``python -m foldwise.runtime.watch`` reads to show every job at once.
Nothing here changes what a job computes.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from typing import TextIO

from foldwise.io import write_text

BAR = 12


def status_path(log_path: str) -> str:
    """The status file of a job whose log is ``log_path`` (``x.log`` -> ``x.progress.json``)."""
    root, ext = os.path.splitext(log_path)
    return (root if ext == ".log" else log_path) + ".progress.json"


def _fmt_seconds(s: float) -> str:
    s = int(round(s))
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


class EpochProgress:
    """Reports one training job's epochs; call it with each epoch's row (``train_fold(on_epoch=...)``).

    Args:
        model: the model's name.
        fold: the fold.
        log_path: the job's log file; the status file goes beside it.
        epochs: the epochs the job will train, when known.
        stream: where the per-epoch line goes (the job's stderr).
    """

    def __init__(self, model: str, fold: int, log_path: str, epochs: int | None = None, stream: TextIO | None = None):
        self.model, self.fold, self.log_path = model, fold, log_path
        self.path = status_path(log_path)
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = time.time()
        self.status: dict = {
            "model": model, "fold": fold, "state": "running", "epoch": 0, "epochs": epochs, "pid": os.getpid(),
            "host": socket.gethostname(), "log": log_path, "started": self.started,
        }
        self._write()
        self._line(f"{model} fold {fold} started; follow it with: tail -f {log_path}")

    def __call__(self, row: dict) -> None:
        epoch, epochs, metric = row["epoch"], row["epochs"], row["metric"]
        elapsed = time.time() - self.started
        per_epoch = row.get("seconds") or 0.0
        eta = per_epoch * max(0, epochs - epoch)
        self.status.update(
            epoch=epoch, epochs=epochs, metric=metric, score=row.get(f"valid_{metric}"),
            best_score=row.get("best_score"), best_epoch=row.get("best_epoch"), train_loss=row.get("train_loss"),
            valid_loss=row.get("valid_loss"), seconds_per_epoch=per_epoch, elapsed=elapsed, eta_seconds=eta,
        )
        self._write()
        bar = ""
        if self.tty:
            filled = round(BAR * epoch / max(1, epochs))
            bar = "[" + "#" * filled + "." * (BAR - filled) + "] "
        best = f" best {row['best_score']:.4f}@{row['best_epoch']}" if row.get("best_score") is not None else ""
        self._line(
            f"{self.model} fold {self.fold} {bar}epoch {epoch}/{epochs} valid_{metric} "
            f"{row[f'valid_{metric}']:.4f}{best} train_loss {row['train_loss']:.4f} valid_loss "
            f"{row['valid_loss']:.4f} {per_epoch:.1f}s/epoch ETA {_fmt_seconds(eta)}"
        )

    def finish(self, summary: dict | None = None, failed: bool = False) -> None:
        """Mark the job done (or failed) in its status file, with one closing line."""
        self.status.update(state="failed" if failed else "done", elapsed=time.time() - self.started, eta_seconds=0)
        if summary:
            self.status.update(best_score=summary.get("best_score"), best_epoch=summary.get("best_epoch"))
        self._write()
        if failed:
            self._line(f"{self.model} fold {self.fold} failed; see {self.log_path}")
        else:
            self._line(
                f"{self.model} fold {self.fold} done in {_fmt_seconds(self.status['elapsed'])}: best "
                f"{self.status.get('metric', 'score')} {self.status.get('best_score') or float('nan'):.4f} "
                f"at epoch {self.status.get('best_epoch')}"
            )

    def _line(self, text: str) -> None:
        try:
            self.stream.write(f"[foldwise] {text}\n")
            self.stream.flush()
        except (OSError, ValueError):  # a closed terminal must not stop training
            pass

    def _write(self) -> None:
        self.status["updated"] = time.time()
        try:
            write_text(self.path, json.dumps(self.status, sort_keys=True) + "\n")
        except OSError:
            pass


def read_statuses(root: str = "logs/train") -> list[dict]:
    """Every job's latest status under ``root``, sorted by model and fold."""
    out = []
    for folder, _, files in os.walk(root):
        for name in files:
            if name.endswith(".progress.json"):
                try:
                    with open(os.path.join(folder, name)) as fh:
                        out.append(json.load(fh))
                except (OSError, ValueError):
                    continue
    return sorted(out, key=lambda s: (str(s.get("model")), int(s.get("fold") or 0)))
