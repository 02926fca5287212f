"""Decoding a split's files into one uint8 ``.npy`` with worker processes that write straight into it.

Shared by the image cache (:mod:`foldwise.data.images`) and the video cache
(:mod:`foldwise.data.video`): each supplies a chunk decoder; nothing decoded
travels back through a pipe, and the file appears only when every row decoded.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from foldwise.errors import FoldwiseError
from foldwise.io import atomic_path

# (cache path, first row, the chunk's paths, *settings) -> descriptions of the rows that failed
ChunkDecoder = Callable[[tuple], list[str]]


def fill_cache(
    paths: Sequence[Path], row_shape: tuple[int, ...], out_path: str, decode_chunk: ChunkDecoder,
    settings: tuple = (), threads: int = 1, max_chunk: int = 2048, noun: str = "file",
) -> None:
    """Create an ``(N, *row_shape)`` uint8 ``.npy`` at ``out_path`` and fill it chunk by chunk.

    Args:
        paths: one input per row, in row order.
        row_shape: the shape of one row, e.g. ``(H, W, C)`` or ``(T, H, W, C)``.
        out_path: destination ``.npy`` (written atomically).
        decode_chunk: a module-level function (it runs in worker processes) given
            ``(tmp path, first row, paths of the chunk, *settings)``; it opens the file with
            ``mmap_mode='r+'``, writes its rows and returns what failed, one description each.
        settings: passed to every chunk after the paths.
        threads: worker processes (1 = decode in this process).
        max_chunk: the most rows per chunk (chunks are otherwise about N / (4 threads)).
        noun: what a row is, for the error message (``image``, ``clip``).

    Raises:
        FoldwiseError: naming the first three inputs that are missing or cannot be decoded.

    Shape:
        The file holds ``(len(paths), *row_shape)`` uint8.
    """
    n = len(paths)
    with atomic_path(out_path, suffix=".npy") as tmp:
        arr = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(n, *row_shape))
        del arr
        chunk = max(1, min(max_chunk, -(-n // max(1, threads * 4))))
        jobs = [(str(tmp), s, list(paths[s : s + chunk]), *settings) for s in range(0, n, chunk)]
        if threads <= 1 or len(jobs) == 1:
            failures = [f for r in map(decode_chunk, jobs) for f in r]
        else:
            import multiprocessing as mp

            ctx = mp.get_context("fork" if os.name == "posix" else "spawn")
            with ProcessPoolExecutor(max_workers=threads, mp_context=ctx) as pool:
                failures = [f for r in pool.map(decode_chunk, jobs) for f in r]
        if failures:
            raise FoldwiseError(
                f"{len(failures)} {noun}(s) missing or not decodable (corrupt or truncated?): "
                f"{'; '.join(failures[:3])}{' ...' if len(failures) > 3 else ''}"
            )
