"""Follow every training job of a run from a second terminal: ``python -m foldwise.runtime.watch``.

Reads the status files the jobs rewrite after every epoch
(``logs/train/{model}/fold{k}.progress.json``, see :mod:`foldwise.runtime.progress`)
and shows one row per (model, fold): state, epoch (with a bar on a terminal),
latest and best validation score, time per epoch and time left. On a terminal
the table is redrawn in place; otherwise (a pipe, a CI log) one plain line is
printed per change. It stops when the run's Snakemake lock is gone and no job
is running, or with Ctrl-C; ``--once`` prints the table once.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from foldwise.runtime.progress import BAR, _fmt_seconds, read_statuses


def _alive(status: dict) -> bool:
    if status.get("state") != "running":
        return False
    if status.get("host") not in (None, os.uname().nodename):
        return True  # another machine (a cluster job): trust the file
    try:
        os.kill(int(status["pid"]), 0)
        return True
    except (OSError, KeyError, TypeError, ValueError):
        return False


def _state(status: dict) -> str:
    if status.get("state") == "running" and not _alive(status):
        return "stopped"  # killed: rerun the same snakemake command to resume it
    return str(status.get("state"))


def row(status: dict, tty: bool) -> str:
    """One job as text: ``res  fold 0  running  epoch 3/10  valid_accuracy 0.9512  best 0.9512@3  4.1s/epoch  ETA 29s``."""
    epoch, epochs = status.get("epoch") or 0, status.get("epochs") or 0
    parts = [f"{status.get('model', '?'):<16} fold {status.get('fold')}", f"{_state(status):<8}"]
    if tty:
        filled = round(BAR * epoch / epochs) if epochs else 0
        parts.append("[" + "#" * filled + "." * (BAR - filled) + "]")
    parts.append(f"epoch {epoch}/{epochs or '?'}")
    metric = status.get("metric", "score")
    if status.get("score") is not None:
        parts.append(f"valid_{metric} {status['score']:.4f}")
    if status.get("best_score") is not None:
        parts.append(f"best {status['best_score']:.4f}@{status.get('best_epoch')}")
    if status.get("seconds_per_epoch"):
        parts.append(f"{status['seconds_per_epoch']:.1f}s/epoch")
    if _state(status) == "running" and status.get("eta_seconds") is not None:
        parts.append(f"ETA {_fmt_seconds(status['eta_seconds'])}")
    return "  ".join(parts)


def table(statuses: list[dict], tty: bool) -> str:
    """A heading with the counts, then one row per job."""
    states = [_state(s) for s in statuses]
    head = f"foldwise: {states.count('done')} done, {states.count('running')} running"
    head += "".join(f", {states.count(s)} {s}" for s in ("stopped", "failed") if s in states)
    return "\n".join([head + time.strftime("   %H:%M:%S"), *(row(s, tty) for s in statuses)])


def _locked(directory: str) -> bool:
    locks = os.path.join(directory, ".snakemake", "locks")
    return os.path.isdir(locks) and any(os.scandir(locks))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m foldwise.runtime.watch", description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", default=".", help="the run's working directory")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between looks")
    parser.add_argument("--once", action="store_true", help="print the table once and exit")
    args = parser.parse_args(argv)
    root = os.path.join(args.directory, "logs", "train")
    tty = sys.stdout.isatty()
    if args.once:
        print(table(read_statuses(root), tty))
        return 0
    seen: dict[tuple, tuple] = {}
    try:
        while True:
            statuses = read_statuses(root)
            if tty:
                sys.stdout.write("\x1b[H\x1b[2J" + table(statuses, tty) + "\n")
            else:
                for s in statuses:
                    key, value = (s.get("model"), s.get("fold")), (_state(s), s.get("epoch"))
                    if seen.get(key) != value:
                        seen[key] = value
                        print(row(s, tty))
            sys.stdout.flush()
            running = any(_state(s) == "running" for s in statuses)
            if not running and not _locked(args.directory):
                return 0
            time.sleep(args.interval)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
