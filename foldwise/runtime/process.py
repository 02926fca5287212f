"""Process set-up shared by every workflow script: logging, threads, clean failures.

Call :func:`configure_threads` before anything imports torch: OpenMP reads
``OMP_WAIT_POLICY`` once, when it loads, and its default busy-wait makes CPU
training several times slower when jobs share cores.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Callable

from foldwise.errors import FoldwiseError


def setup_logging(log_path: str | None = None, level: int = logging.INFO) -> None:
    """Send logging (and warnings) to ``log_path`` (the rule's ``log:``), or to stderr without one."""
    handlers: list[logging.Handler] = []
    if log_path:
        os.makedirs(os.path.dirname(log_path) or ".", exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="a"))
    else:
        handlers.append(logging.StreamHandler(sys.stderr))
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", handlers=handlers, force=True
    )
    logging.captureWarnings(True)


def configure_threads(threads: int) -> None:
    """Pin math libraries to ``threads`` and make idle OpenMP threads sleep.

    Must run before torch is imported; calling it later still sets torch's
    thread count but cannot change the OpenMP wait policy.
    """
    threads = max(1, int(threads))
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ["OMP_NUM_THREADS"] = str(threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # lets CUDA matmuls be deterministic
    if "torch" in sys.modules:
        import torch

        torch.set_num_threads(threads)


def numba_cache_dir() -> str:
    """Where the classic families' compiled numba kernels are kept: ``$XDG_CACHE_HOME/foldwise/numba``
    (``~/.cache/foldwise/numba``), shared by every job, run and project of the user; never site-packages,
    which may be read-only (conda envs, clusters)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "foldwise", "numba")



def configure_numba(threads: int) -> None:
    """Size numba's thread pool (ROCKET kernels) to ``threads`` and keep its compiled kernels in
    :func:`numba_cache_dir` (compiled once, then loaded by every later job); must run before numba is
    imported. ``NUMBA_CACHE_DIR`` set by the user wins."""
    if "numba" not in sys.modules:
        os.environ["NUMBA_NUM_THREADS"] = str(max(1, int(threads)))
        os.environ.setdefault("NUMBA_CACHE_DIR", numba_cache_dir())


def run_step(log_path: str | None, fn: Callable[[], None]) -> None:
    """Run one rule's work: log to ``log_path``; a :class:`FoldwiseError` becomes one line and exit 1."""
    setup_logging(log_path)
    try:
        fn()
    except FoldwiseError as exc:
        logging.getLogger("foldwise").error("%s", exc)
        print(f"foldwise error: {exc}", file=sys.stderr)
        sys.exit(1)
    except Exception:
        logging.getLogger("foldwise").exception("unexpected failure")
        raise
