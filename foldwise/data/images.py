"""The uint8 image cache: every image of a split decoded once into an ``(N, H, W, C)`` ``.npy``.

Training opens the cache with ``mmap_mode='r'``. Images may be PNG (8- or
16-bit, grayscale, RGB, RGBA or palette), JPEG, BMP, TIFF or WebP of any size;
OpenCV converts each to 8-bit grayscale or RGB (alpha dropped) and resizes it
to the square cache size.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from foldwise.data.memmap import fill_cache

log = logging.getLogger(__name__)


def _decode_chunk(args) -> list[str]:
    import cv2

    cv2.setNumThreads(1)
    out_path, start, paths, size, channels = args
    arr = np.load(out_path, mmap_mode="r+")
    flag = cv2.IMREAD_GRAYSCALE if channels == 1 else cv2.IMREAD_COLOR
    failures = []
    for offset, path in enumerate(paths):
        img = cv2.imread(str(path), flag)
        if img is None:
            failures.append(str(path))
            continue
        h, w = img.shape[:2]
        interp = cv2.INTER_AREA if (h > size or w > size) else cv2.INTER_LINEAR
        if (h, w) != (size, size):
            img = cv2.resize(img, (size, size), interpolation=interp)
        if channels == 1:
            arr[start + offset, :, :, 0] = img
        else:
            # Convert straight into the memmap row: no intermediate RGB copy.
            row = arr[start + offset]
            if not np.shares_memory(cv2.cvtColor(img, cv2.COLOR_BGR2RGB, dst=row), row):
                row[...] = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)  # dst not usable: copy
    # No flush (msync) here: the pages are shared with every other mapping of
    # the file, and atomic_path fsyncs the whole file once before the rename.
    del arr
    return failures


def build_image_cache(paths: list[Path], size: int, channels: int, out_path: str, threads: int = 1) -> None:
    """Decode and resize ``paths`` into an ``(N, size, size, channels)`` uint8 ``.npy``.

    Workers write straight into the output memmap (nothing decoded travels back
    through a pipe). The file appears only when every image decoded.

    Args:
        paths: image files, in row order.
        size: output side length.
        channels: 1 (grayscale) or 3 (RGB).
        out_path: destination ``.npy``.
        threads: worker processes.

    Raises:
        FoldwiseError: naming the images that are missing or cannot be decoded.
    """
    fill_cache(paths, (size, size, channels), out_path, _decode_chunk, (size, channels), threads, noun="image")
    n = len(paths)
    log.info("cached %d images at %dx%dx%d into %s", n, size, size, channels, out_path)


def cache_images(root: str, channels: int, table_path: str, size: int, out_path: str, threads: int = 1) -> None:
    """Build the cache of one split in the row order of its table.

    Args:
        root: the competition folder (``data.dir``).
        channels: 1 (grayscale) or 3 (RGB).
        table_path: ``results/data/{split}.parquet``, whose ``path`` column holds each
            row's image path relative to ``root`` (resolved from the template by the tables rule).
        size: output side length.
        out_path: destination ``.npy``.
        threads: worker processes.
    """
    rel = pd.read_parquet(table_path, columns=["path"])["path"]
    build_image_cache([Path(root) / p for p in rel], size, channels, out_path, threads)
