"""Figure 2: one epoch of batches from the memmap cache vs decoding the image files.

Random order, batch 64, every row once, on one core: fancy-indexing the
``mmap_mode='r'`` cache (what the trainer does) against ``cv2.imread`` of the
batch's files. Goal: >= 20× faster with a warm page cache. The cold figure
evicts this benchmark's own files (``POSIX_FADV_DONTNEED``) before each epoch.
"""

from __future__ import annotations

import os
import time

import numpy as np

from benchmarks.common import SCRATCH, Result, alternate, drop_file_cache, jpeg_dataset, main_for, median

GOAL = 20.0
BATCH = 64


def epoch_memmap(path: str, rng: np.random.Generator) -> float:
    from foldwise.io import open_cache

    t0 = time.perf_counter()
    images = open_cache(path)
    order = rng.permutation(len(images))
    total = 0
    for s in range(0, len(order), BATCH):
        batch = np.ascontiguousarray(images[np.sort(order[s : s + BATCH])])
        total += batch.shape[0]
    assert total == len(images)
    return time.perf_counter() - t0


def epoch_decode(paths, rng: np.random.Generator) -> float:
    import cv2

    cv2.setNumThreads(1)
    t0 = time.perf_counter()
    order = rng.permutation(len(paths))
    for s in range(0, len(order), BATCH):
        batch = np.stack([cv2.cvtColor(cv2.imread(str(paths[i])), cv2.COLOR_BGR2RGB) for i in order[s : s + BATCH]])
        assert batch.dtype == np.uint8
    return time.perf_counter() - t0


def run(quick: bool = False) -> Result:
    from foldwise.data.images import build_image_cache

    n, repeats = (200, 1) if quick else (4000, 5)
    paths = jpeg_dataset(n)
    cache = SCRATCH / f"loading_{n}.npy"
    if not cache.is_file():
        build_image_cache(paths, 224, 3, str(cache), threads=os.cpu_count() or 1)
    rng = np.random.default_rng(0)
    for p in paths:
        p.read_bytes()
    cache.read_bytes()
    warm = alternate({"memmap": lambda: epoch_memmap(str(cache), rng), "decode": lambda: epoch_decode(paths, rng)}, repeats)

    def cold(fn):
        def inner():
            drop_file_cache([cache, *paths])
            return fn()

        return inner

    cold_s = alternate(
        {"memmap": cold(lambda: epoch_memmap(str(cache), rng)), "decode": cold(lambda: epoch_decode(paths, rng))},
        max(1, repeats - 2), warmup=0,
    )
    w = median(warm["decode"]) / median(warm["memmap"])
    c = median(cold_s["decode"]) / median(cold_s["memmap"])
    mb_cache = cache.stat().st_size / 2**20
    mb_jpeg = sum(p.stat().st_size for p in paths) / 2**20
    passed = w >= GOAL
    notes = (
        f"{n} images 224² RGB, batch {BATCH}, random order, one core. Warm: memmap {median(warm['memmap']):.3f} s vs "
        f"decode {median(warm['decode']):.3f} s per epoch. **Cold page cache: {c:.1f}×** (memmap "
        f"{median(cold_s['memmap']):.3f} s reading {mb_cache:.0f} MiB vs decode {median(cold_s['decode']):.3f} s reading "
        f"{mb_jpeg:.0f} MiB of JPEG; files evicted with POSIX_FADV_DONTNEED, not a machine-wide drop_caches). "
        f"Medians of {repeats} warm / {max(1, repeats - 2)} cold epochs."
    )
    if c < 1:
        notes += " Cold, the raw cache is several times larger than the JPEGs, so a disk-bound first epoch can be slower than decoding."
    return Result(
        key="loading",
        figure="Loading: one epoch (random order, batch 64) from the memmap cache vs decoding the image files, warm page cache",
        goal=f"≥ {GOAL:.0f}× faster",
        measured=f"{w:.0f}×",
        passed=passed,
        notes=notes,
        details={"n": n, "warm": warm, "cold": cold_s, "warm_ratio": w, "cold_ratio": c, "cache_mib": mb_cache, "jpeg_mib": mb_jpeg},
    )


if __name__ == "__main__":
    main_for(run)
