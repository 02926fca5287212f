"""Figure 1: image-cache build throughput vs cores × a single-core cv2 loop.

``foldwise.data.build_image_cache`` with ``threads = cores`` against the ideal
linear scaling of the plainest decoder: one process running ``cv2.imread`` +
``cv2.resize`` (``INTER_AREA``, the interpolation the cache uses when it
shrinks) over the same page-cached files, times the number of cores.
Goal: >= 0.85.

On a machine that other jobs share, ``cores ×`` one core is not available to
anybody, so a second figure compares with ``cores`` plain loops actually run
side by side (a fork pool, its start-up included) on the same files.
"""

from __future__ import annotations

import os
import tempfile
import time

from benchmarks.common import SCRATCH, Result, alternate, cores, jpeg_dataset, main_for, median

GOAL = 0.85


def plain_loop(paths, size: int) -> float:
    import cv2

    cv2.setNumThreads(1)
    t0 = time.perf_counter()
    for p in paths:
        img = cv2.imread(str(p), cv2.IMREAD_COLOR)
        cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
    return time.perf_counter() - t0


def parallel_plain_loops(paths, size: int, workers: int) -> float:
    import multiprocessing as mp

    t0 = time.perf_counter()
    parts = [paths[i::workers] for i in range(workers)]
    with mp.get_context("fork").Pool(workers) as pool:
        pool.starmap(plain_loop, [(p, size) for p in parts])
    return time.perf_counter() - t0


def run(quick: bool = False) -> Result:
    from foldwise.data.images import build_image_cache

    n, size, repeats = (200, 64, 1) if quick else (3000, 128, 5)
    ncores = cores()
    paths = jpeg_dataset(n)
    for p in paths:  # warm the page cache
        p.read_bytes()
    SCRATCH.mkdir(parents=True, exist_ok=True)
    out_dir = tempfile.mkdtemp(dir=SCRATCH)
    out = os.path.join(out_dir, "cache.npy")

    def build() -> float:
        t0 = time.perf_counter()
        build_image_cache(paths, size, 3, out, threads=ncores)
        dt = time.perf_counter() - t0
        os.unlink(out)
        return dt

    load0 = os.getloadavg()[0]
    s = alternate(
        {
            "loop": lambda: plain_loop(paths, size),
            "cache": build,
            "parallel_loops": lambda: parallel_plain_loops(paths, size, ncores),
        },
        repeats,
    )
    load1 = os.getloadavg()[0]
    os.rmdir(out_dir)
    t_loop, t_cache, t_par = median(s["loop"]), median(s["cache"]), median(s["parallel_loops"])
    got, single = n / t_cache, n / t_loop
    ratio = got / (ncores * single)
    vs_par = t_par / t_cache
    passed = ratio >= GOAL
    notes = (
        f"{n} synthetic JPEGs 224² → {size}² RGB, warm page cache, {ncores} worker processes, medians of {repeats}: "
        f"cache {got:.0f} img/s; one core {single:.0f} img/s ({1e3 * t_loop / n:.2f} ms/image); "
        f"{ncores} plain loops run side by side {n / t_par:.0f} img/s. "
        f"**vs {ncores} plain loops actually run in parallel: {vs_par:.2f}** "
        f"(1-min load average {load0:.1f} → {load1:.1f} on {ncores} cores during the run)."
    )
    if not passed:
        notes += (
            f" Why the miss: the machine is shared, so {ncores} processes never get {ncores}× one core — "
            f"{ncores} bare cv2 loops side by side reach only {n / t_par / single:.2f}× one core here; "
            f"against them the cache runs at {vs_par:.2f}. What closes it: run on an idle machine "
            "(the remaining per-image cost of the cache over the bare loop is the BGR→RGB conversion and the "
            "page-cache write of the row)."
        )
    return Result(
        key="cache",
        figure="Cache build: img/s of `build_image_cache` (threads = cores) ÷ (cores × one-core `cv2.imread`+`cv2.resize` loop)",
        goal=f"≥ {GOAL}",
        measured=f"{ratio:.2f}",
        passed=passed,
        notes=notes,
        details={
            "n": n, "size": size, "cores": ncores, "samples": s, "cache_img_s": got, "single_core_img_s": single,
            "parallel_loops_img_s": n / t_par, "vs_parallel_loops": vs_par, "loadavg": [load0, load1],
        },
    )


if __name__ == "__main__":
    main_for(run)
