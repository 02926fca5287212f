"""Figure 9: video-cache build rate vs a plain ``cv2.VideoCapture`` loop; memory flat in the cache size.

Rate: ``foldwise.data.video.build_video_cache`` (threads = cores, T = 16 frames,
64² RGB) against the plainest decoder of the same clips: one process opening
each mp4 with ``cv2.VideoCapture``, reading every frame and resizing it, then
``cores`` such loops side by side (a fork pool, start-up included). Ratio =
cache clips/s ÷ the side-by-side loops' clips/s. Goal: >= 0.85.

Memory: peak anonymous RSS (``RssAnon``, polled) of a child process that builds
a cache in-process (threads = 1) and then reads it all in training batches
through :class:`foldwise.train.video_inputs.VideoInputs`, for N and 8·N clips.
Cache pages are file-backed, so the difference stays small whatever the cache size.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import SCRATCH, Result, alternate, cores, main_for, median, sub_env

GOAL, FRAMES, SIZE = 0.85, 16, 64


def clips(n: int) -> list[Path]:
    """``n`` moving-digit mp4 clips (96², 20-40 frames), written once and reused."""
    import numpy as np

    from foldwise.data.video_demo import MOTIONS, render_clip, write_clip

    folder = SCRATCH / f"video_{n}"
    paths = [folder / f"clip{i:05d}.mp4" for i in range(n)]
    if (folder / ".done").is_file():
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    digit = (np.eye(8, dtype=np.uint8) * 255) | np.eye(8, dtype=np.uint8)[::-1] * 255
    for i, p in enumerate(paths):
        frames = render_clip(digit, MOTIONS[i % len(MOTIONS)], int(rng.integers(20, 41)), 96, rng)
        write_clip(frames, p.with_suffix(""), 24)
    (folder / ".done").touch()
    return paths


def plain_loop(paths) -> float:
    import cv2

    cv2.setNumThreads(1)
    t0 = time.perf_counter()
    for p in paths:
        cap = cv2.VideoCapture(str(p))
        while True:
            ok, img = cap.read()
            if not ok:
                break
            cv2.resize(img, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
        cap.release()
    return time.perf_counter() - t0


def parallel_loops(paths, workers: int) -> float:
    import multiprocessing as mp

    t0 = time.perf_counter()
    with mp.get_context("fork").Pool(workers) as pool:
        pool.map(plain_loop, [paths[i::workers] for i in range(workers)])
    return time.perf_counter() - t0


def child(n_clips: int, out: str) -> None:
    """Build a cache of ``n_clips`` (cycling over the clip files) and read it all in batches of 32."""
    import numpy as np
    import torch

    from foldwise.data.video import build_video_cache
    from foldwise.models.video import create_video_model
    from foldwise.train.video_inputs import VideoInputs

    torch.set_num_threads(1)
    files = clips(100)
    build_video_cache([files[i % len(files)] for i in range(n_clips)], FRAMES, SIZE, 3, out, threads=1)
    data = np.load(out, mmap_mode="r")
    inputs = VideoInputs(data, create_video_model("slowfast", 8, width=4), torch.device("cpu"), {})
    gen = torch.Generator().manual_seed(0)
    for s in range(0, n_clips, 32):
        inputs.batch(np.arange(s, min(n_clips, s + 32)), gen)
    os.unlink(out)


def peak_anon_mb(n_clips: int) -> float:
    out = str(SCRATCH / f"video_mem_{n_clips}.npy")
    code = f"from benchmarks.bench_video import child; child({n_clips}, {out!r})"
    proc = subprocess.Popen([sys.executable, "-c", code], env=sub_env(1))
    peak = 0
    while proc.poll() is None:
        try:
            for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                if line.startswith("RssAnon:"):
                    peak = max(peak, int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.005)
    if proc.returncode != 0:
        raise RuntimeError(f"memory child failed ({proc.returncode})")
    return peak / 1024


def run(quick: bool = False) -> Result:
    from foldwise.data.video import build_video_cache

    n, repeats, mem_n = (24, 1, 40) if quick else (400, 3, 250)
    ncores = cores()
    SCRATCH.mkdir(parents=True, exist_ok=True)
    files = clips(100)
    paths = [files[i % len(files)] for i in range(n)]
    for p in files:  # warm the page cache
        p.read_bytes()
    out = str(SCRATCH / "video_cache.npy")

    def build() -> float:
        t0 = time.perf_counter()
        build_video_cache(paths, FRAMES, SIZE, 3, out, threads=ncores)
        dt = time.perf_counter() - t0
        os.unlink(out)
        return dt

    load0 = os.getloadavg()[0]
    s = alternate({"loop": lambda: plain_loop(paths), "cache": build,
                   "parallel": lambda: parallel_loops(paths, ncores)}, repeats)
    load1 = os.getloadavg()[0]
    rate_cache, rate_loop, rate_par = (n / median(s[k]) for k in ("cache", "loop", "parallel"))
    ratio = rate_cache / rate_par
    small, big = peak_anon_mb(mem_n), peak_anon_mb(8 * mem_n)
    cache_mb = lambda k: k * FRAMES * SIZE * SIZE * 3 / 2**20  # noqa: E731
    notes = (
        f"{n} mp4 clips (100 distinct files, 96², 20-40 frames, mp4v) → T={FRAMES} × {SIZE}² RGB, warm page cache, "
        f"medians of {repeats}: cache {rate_cache:.0f} clips/s with {ncores} workers; plain VideoCapture loop one core "
        f"{rate_loop:.0f} clips/s; {ncores} plain loops side by side {rate_par:.0f} clips/s. 1-min load average "
        f"{load0:.1f} → {load1:.1f} on {ncores} cores (shared machine). **Memory: peak RssAnon {small:.0f} MB "
        f"({mem_n} clips, cache {cache_mb(mem_n):.0f} MB) vs {big:.0f} MB ({8 * mem_n} clips, cache "
        f"{cache_mb(8 * mem_n):.0f} MB)**: build + one pass of training batches, in one process."
    )
    return Result(
        key="video",
        figure="Video cache build: clips/s of `build_video_cache` (threads = cores) ÷ cores plain `cv2.VideoCapture` "
               "read+resize loops run side by side",
        goal=f"≥ {GOAL}",
        measured=f"{ratio:.2f} ({rate_cache:.0f} vs {rate_par:.0f} clips/s)",
        passed=ratio >= GOAL,
        notes=notes,
        details={"n": n, "cores": ncores, "samples": s, "cache_clips_s": rate_cache, "loop_clips_s": rate_loop,
                 "parallel_loops_clips_s": rate_par, "peak_anon_mb": [small, big], "loadavg": [load0, load1]},
    )


if __name__ == "__main__":
    main_for(run)
