"""Figure 4: peak anonymous memory of a training job on a ~2 GB cache minus on a ~0.2 GB cache.

Each job is a child process running ``foldwise.train.train_fold``; the parent
polls the child's ``RssAnon`` (``/proc/<pid>/status``) every few milliseconds.
Pages of a memory-mapped cache are file-backed (``RssFile``) and do not count,
so a job that maps the cache shows the same anonymous peak on both sizes, while
one that loads it would add the cache size. The fold's rows are spread evenly
over the whole cache. Goal: < 150 MB.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.common import SCRATCH, Result, main_for, median, sub_env

GOAL_MB = 150
SIDE, BACKBONE = 224, "test_convnext"
ROW_BYTES = SIDE * SIDE * 3


def make_cache(path: Path, rows: int) -> None:
    if path.is_file() and path.stat().st_size >= rows * ROW_BYTES:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    arr = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(rows, SIDE, SIDE, 3))
    block = np.random.default_rng(0).integers(0, 256, (256, SIDE, SIDE, 3), dtype=np.uint8)
    for s in range(0, rows, 256):
        arr[s : s + 256] = block[: min(256, rows - s)]
    arr.flush()
    del arr
    os.replace(tmp, path)


def job_dir(rows: int) -> Path:
    from benchmarks.fold_setup import write_fold_inputs

    root = SCRATCH / f"memory_{rows}"
    make_cache(root / "train.npy", rows)
    make_cache(root / "test.npy", 32)
    y = np.arange(rows) % 10
    spread = np.linspace(0, rows - 1, 192).astype(np.int64)
    folds = [(np.setdiff1d(spread, spread[::3]), spread[::3])]  # 128 training, 64 validation rows
    write_fold_inputs(root, str(root / "train.npy"), str(root / "test.npy"), y, folds)
    return root


def child(root: str) -> None:
    """Run one training job on the prepared ``root`` (in this process)."""
    from foldwise.runtime.process import configure_threads

    configure_threads(1)
    from benchmarks.fold_setup import reset_outputs, write_fold_inputs  # noqa: F401
    from foldwise.jobs.paths import TrainPaths
    from foldwise.train.fold import train_fold
    from foldwise.train.settings import TrainConfig

    r = Path(root)
    out = r / "out"
    paths = TrainPaths(
        train_table=str(r / "train.parquet"), classes=str(r / "classes.json"),
        folds=str(r / "folds.pkl"), train_cache=str(r / "train.npy"),
        oof=str(out / "oof.parquet"), history=str(out / "history.csv"),
        weights=str(out / "best.pt"), checkpoint_dir=str(r / "ckpt"),
    )
    reset_outputs(paths)
    cfg = TrainConfig(model="mem", backbone=BACKBONE, img_size=SIDE, epochs=1, batch_size=32, predict_batch_size=64)
    train_fold(cfg, paths, 0, "label", threads=1)
    status = Path("/proc/self/status").read_text()
    print("CHILD-STATUS", " ".join(l.replace("\t", "").replace(" ", "") for l in status.splitlines() if l.startswith(("VmHWM", "RssAnon", "RssFile"))))


def peak_anon_mb(root: Path) -> tuple[float, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.bench_memory", "--child", str(root)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=sub_env(1),
    )
    status = Path(f"/proc/{proc.pid}/status")
    peak = 0
    while proc.poll() is None:
        try:
            for line in status.read_text().splitlines():
                if line.startswith("RssAnon:"):
                    peak = max(peak, int(line.split()[1]))
        except (OSError, ValueError):
            pass
        time.sleep(0.003)
    out = proc.stdout.read()
    if proc.returncode != 0:
        raise RuntimeError(f"training child failed:\n{out[-3000:]}")
    info = next((l for l in out.splitlines() if l.startswith("CHILD-STATUS")), "")
    return peak / 1024, info


def run(quick: bool = False) -> Result:
    small_rows, big_rows = (200, 2000) if quick else (1330, 13300)
    repeats = 1 if quick else 3
    roots = {"small": job_dir(small_rows), "big": job_dir(big_rows)}
    peaks: dict[str, list[float]] = {"small": [], "big": []}
    infos: dict[str, str] = {}
    for r in range(repeats):
        for name in (("small", "big") if r % 2 == 0 else ("big", "small")):
            mb, info = peak_anon_mb(roots[name])
            peaks[name].append(mb)
            infos[name] = info
    diff = median(peaks["big"]) - median(peaks["small"])
    gb = {k: (small_rows if k == "small" else big_rows) * ROW_BYTES / 1e9 for k in peaks}
    passed = diff < GOAL_MB
    notes = (
        f"Caches of {small_rows:,} and {big_rows:,} rows of {SIDE}²×3 uint8 ({gb['small']:.2f} GB and {gb['big']:.2f} GB); "
        f"one `train_fold` job each (`{BACKBONE}`, 1 epoch, 128 training and 64 validation rows spread evenly over "
        f"the cache, 1 thread), {repeats} runs per size, alternating. Peak RssAnon {median(peaks['small']):.0f} MB vs "
        f"{median(peaks['big']):.0f} MB. At exit: small {infos['small'].replace('CHILD-STATUS ', '')}; "
        f"big {infos['big'].replace('CHILD-STATUS ', '')}."
    )
    return Result(
        key="memory",
        figure="Memory: peak anonymous RSS of a training job on a ~2 GB cache minus on a ~0.2 GB cache",
        goal=f"< {GOAL_MB} MB",
        measured=f"{diff:+.0f} MB",
        passed=passed,
        notes=notes,
        details={"peaks_mb": peaks, "rows": [small_rows, big_rows], "gb": gb},
    )


if __name__ == "__main__":
    if "--child" in sys.argv:
        child(sys.argv[sys.argv.index("--child") + 1])
    else:
        main_for(run)
