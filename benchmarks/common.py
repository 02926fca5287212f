"""Shared helpers of the benchmark suite: side-by-side timing, results, machine facts.

Every figure is a ratio of two things measured in the same process run,
alternating the two sides and taking medians, so that a shared, noisy machine
moves both sides alike. Absolute seconds are reported only where the goal is
absolute (the ensemble search).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
SCRATCH = Path(os.environ.get("FOLDWISE_BENCH_DIR", "/tmp/foldwise-bench"))


@dataclass
class Result:
    """One row of BENCHMARKS.md.

    Args:
        key: benchmark module name (``cache``, ``loading``, ...).
        figure: what is compared, in words.
        goal: the target, e.g. ``>= 0.85``.
        measured: the headline figure as shown in the table.
        passed: whether ``measured`` meets ``goal`` (None when not applicable).
        notes: sizes, secondary figures, and for a miss: why and what would close it.
        details: raw numbers (medians, all samples), kept in results.json.
    """

    key: str
    figure: str
    goal: str
    measured: str
    passed: bool | None
    notes: str = ""
    details: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return asdict(self)


def alternate(sides: dict[str, Callable[[], float | None]], repeats: int, warmup: int = 1) -> dict[str, list[float]]:
    """Run each side ``warmup + repeats`` times, interleaved (A B A B ... with the order flipped each round).

    A side returns its own elapsed seconds (to leave set-up out of the timing)
    or None, in which case the wall time of the call is used. Warm-up rounds
    are discarded.
    """
    names = list(sides)
    samples: dict[str, list[float]] = {n: [] for n in names}
    for r in range(warmup + repeats):
        order = names if r % 2 == 0 else names[::-1]
        for n in order:
            t0 = time.perf_counter()
            got = sides[n]()
            dt = time.perf_counter() - t0 if got is None else float(got)
            if r >= warmup:
                samples[n].append(dt)
    return samples


def median(xs: list[float]) -> float:
    return float(statistics.median(xs))


def cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


def machine() -> str:
    """``<cores>-core <lscpu model name>, <RAM> GiB RAM, <GPU or no GPU>``."""
    model = platform.processor() or "unknown CPU"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
                break
    except (OSError, subprocess.CalledProcessError):
        pass
    ram = ""
    try:
        kb = int(next(l for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")).split()[1])
        ram = f", {kb / 2**20:.0f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    gpu = "no GPU"
    try:
        import torch

        if torch.cuda.is_available():
            gpu = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return f"{cores()}-core {model}{ram}, {gpu}"


def drop_file_cache(paths) -> None:
    """Evict files from the page cache (``POSIX_FADV_DONTNEED``), for cold-cache timings.

    Only this benchmark's own files are evicted; the machine-wide
    ``/proc/sys/vm/drop_caches`` would slow everyone else on a shared machine.
    """
    for p in paths:
        fd = os.open(p, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def sub_env(threads: int | None = None) -> dict:
    """Environment for a child Python: this checkout first on the path, quiet OpenMP, no hubs."""
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}".rstrip(os.pathsep)}
    env["OMP_WAIT_POLICY"] = "PASSIVE"
    env["HF_HUB_OFFLINE"] = "1"
    if threads is not None:
        env["OMP_NUM_THREADS"] = str(threads)
    return env


def emit(result: Result) -> None:
    """Print a result as the last line of stdout (read by the runner)."""
    print("BENCH-RESULT " + json.dumps(result.to_json()), flush=True)


def fmt_ratio(x: float) -> str:
    return f"{x:.2f}×"


def main_for(run: Callable[[bool], Result]) -> None:
    """``python -m benchmarks.<name> [--quick]``: run one benchmark and print its result."""
    quick = "--quick" in sys.argv[1:]
    emit(run(quick))


def jpeg_dataset(n: int, side: int = 224, seed: int = 0) -> list[Path]:
    """``n`` synthetic ``side``×``side`` JPEGs (shapes and noise drawn with cv2), written once and reused."""
    import cv2
    import numpy as np

    folder = SCRATCH / f"jpeg{side}_{n}_{seed}"
    paths = [folder / f"img{i:05d}.jpg" for i in range(n)]
    done = folder / ".done"
    if done.is_file():
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for p in paths:
        img = np.empty((side, side, 3), np.uint8)
        img[:] = rng.integers(0, 256, 3, dtype=np.uint8)
        for _ in range(6):
            c = tuple(int(v) for v in rng.integers(0, 256, 3))
            x, y, r = (int(v) for v in rng.integers(0, side, 3))
            cv2.circle(img, (x, y), r // 3 + 4, c, -1)
            cv2.line(img, (x, 0), (side - y, side), c, 3)
        img = cv2.add(img, rng.integers(0, 24, img.shape, dtype=np.uint8))
        cv2.imwrite(str(p), img, [cv2.IMWRITE_JPEG_QUALITY, 90])
    done.touch()
    return paths
