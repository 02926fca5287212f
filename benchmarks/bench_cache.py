"""Figure 1: image-cache build throughput vs cores × a single-core cv2 loop.

``foldwise.data.build_image_cache`` with ``threads = cores`` against the ideal
linear scaling of the plainest possible decoder: one process running
``cv2.imread`` + ``cv2.resize`` over the same (page-cached) files, times the
number of cores. Goal: >= 0.85.
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


def run(quick: bool = False) -> Result:
    from foldwise.data import build_image_cache

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

    s = alternate({"loop": lambda: plain_loop(paths, size), "cache": build}, repeats)
    t_loop, t_cache = median(s["loop"]), median(s["cache"])
    ideal = ncores * n / t_loop
    got = n / t_cache
    ratio = got / ideal
    os.rmdir(out_dir)
    return Result(
        key="cache",
        figure="Cache build: images/s of `build_image_cache` (threads = cores) / (cores × single-core `cv2.imread`+`cv2.resize` loop)",
        goal=f"≥ {GOAL}",
        measured=f"{ratio:.2f}",
        passed=ratio >= GOAL,
        notes=(
            f"{n} JPEGs 224² → {size}² RGB, warm page cache, {ncores} worker processes; "
            f"cache {got:.0f} img/s vs single core {n / t_loop:.0f} img/s "
            f"({1e3 * t_loop / n:.2f} ms/image); medians of {repeats}."
        ),
        details={"n": n, "size": size, "cores": ncores, "samples": s, "cache_img_s": got, "single_core_img_s": n / t_loop},
    )


if __name__ == "__main__":
    main_for(run)
