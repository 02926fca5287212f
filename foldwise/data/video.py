"""The uint8 video cache: every clip of a split decoded once into an ``(N, T, H, W, C)`` ``.npy``.

A clip is either a video file (mp4, avi, mkv, webm, mov, ...; anything OpenCV's
``VideoCapture`` decodes) or a folder of frame images (png, jpg, bmp, webp, tif),
whose frames are taken in natural order of their names (``frame_2`` before
``frame_10``). Clips may differ in length and frame rate.

Frame sampling: ``T`` frames are taken uniformly over the clip's ``n`` frames,
at the centres of ``T`` equal segments (index ``floor((t + 0.5) * n / T)``), so
the cache holds the whole clip whatever its length or frame rate. A clip shorter
than ``T`` frames repeats frames (each about ``T / n`` times, in order); a
longer one skips frames. Frames are resized to the square cache size (area
interpolation when shrinking) and converted to RGB or grayscale.

Training opens the cache with ``mmap_mode='r'``: memory does not grow with the
number of clips.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from foldwise.errors import FoldwiseError
from foldwise.data.memmap import fill_cache

log = logging.getLogger(__name__)

FRAME_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")


def sample_indices(n: int, frames: int) -> np.ndarray:
    """Indices of ``frames`` frames spread uniformly over a clip of ``n`` frames.

    Args:
        n: frames in the clip (>= 1).
        frames: ``T``, frames to keep.

    Returns:
        ``(T,)`` int64, non-decreasing, in ``[0, n)``: the centre frame of each of
        ``T`` equal segments. When ``n < T`` frames repeat.
    """
    if n < 1:
        raise ValueError("a clip needs at least one frame")
    return np.minimum(((np.arange(frames) + 0.5) * n / frames).astype(np.int64), n - 1)


def _natural_key(name: str):
    return [int(p) if p.isdigit() else p.lower() for p in re.split(r"(\d+)", name)]


def frame_files(folder: str | Path) -> list[Path]:
    """The frame images of a frame folder, in natural order of their names."""
    files = [p for p in Path(folder).iterdir() if p.suffix.lower() in FRAME_SUFFIXES and p.is_file()]
    return sorted(files, key=lambda p: _natural_key(p.name))


def clip_files(root: str | Path, rel: list[str]) -> list[str]:
    """Every file the clips consist of, relative to ``root`` (a video file, or a folder's frames).

    Used for the cache's content digest: a changed frame re-builds the cache.
    """
    out = []
    for name in rel:
        path = Path(root) / name
        if path.is_dir():
            out.extend(f"{name}/{p.name}" for p in frame_files(path))
        else:
            out.append(name)
    return out


def _fit(img: np.ndarray, size: int, channels: int, cv2) -> np.ndarray:
    """One decoded BGR (or gray) frame -> ``(size, size, channels)`` uint8 RGB or gray."""
    if img.ndim == 3 and img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    if channels == 1 and img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    elif channels == 3:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB if img.ndim == 2 else cv2.COLOR_BGR2RGB)
    h, w = img.shape[:2]
    if (h, w) != (size, size):
        interp = cv2.INTER_AREA if (h > size or w > size) else cv2.INTER_LINEAR
        img = cv2.resize(img, (size, size), interpolation=interp)
    return img.reshape(size, size, channels)


def read_clip(path: str | Path, frames: int, size: int, channels: int = 3) -> np.ndarray:
    """Decode one clip into ``frames`` uniformly sampled, resized frames.

    Args:
        path: a video file or a folder of frame images.
        frames: ``T``.
        size: side of the square frames.
        channels: 1 (grayscale) or 3 (RGB).

    Returns:
        ``(T, size, size, channels)`` uint8.

    Raises:
        FoldwiseError: naming the clip, when it is missing, empty or not decodable.
    """
    import cv2

    path = Path(path)
    if path.is_dir():
        files = frame_files(path)
        if not files:
            raise FoldwiseError(f"{path}: frame folder holds no images ({', '.join(FRAME_SUFFIXES)})")
        out, prev = np.empty((frames, size, size, channels), np.uint8), -1
        for t, i in enumerate(sample_indices(len(files), frames)):
            if i == prev:  # a repeated frame: copy, do not decode again
                out[t] = out[t - 1]
                continue
            img = cv2.imread(str(files[i]), cv2.IMREAD_UNCHANGED)
            if img is None:
                raise FoldwiseError(f"{files[i]}: frame image cannot be decoded (corrupt or truncated?)")
            if img.dtype != np.uint8:
                img = (img / 257).astype(np.uint8)
            out[t], prev = _fit(img, size, channels, cv2), i
        return out
    if not path.is_file():
        raise FoldwiseError(f"{path}: clip not found")
    sampled = _read_sampled(path, frames, size, channels, cv2)
    if sampled is not None:
        return sampled
    cap = cv2.VideoCapture(str(path))  # the container's frame count was missing or wrong: decode every frame
    decoded = []
    try:
        while cap.isOpened():
            ok, img = cap.read()
            if not ok:
                break
            decoded.append(_fit(img, size, channels, cv2))  # resized at once: memory ~ n * size^2
    finally:
        cap.release()
    if not decoded:
        raise FoldwiseError(f"{path}: video cannot be decoded (corrupt, truncated or not a video?)")
    return np.stack([decoded[i] for i in sample_indices(len(decoded), frames)])


def _read_sampled(path: Path, frames: int, size: int, channels: int, cv2) -> np.ndarray | None:
    """Decode only the sampled frames, trusting the container's frame count; None if that count is wrong.

    Every frame is grabbed (demuxed and decoded), but only the ``T`` sampled ones are
    converted and resized. The count is checked against the frames actually read.
    """
    cap = cv2.VideoCapture(str(path))
    try:
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if cap.isOpened() else 0
        if n <= 0:
            return None
        wanted = sample_indices(n, frames)
        todo, kept, k = set(wanted.tolist()), {}, 0
        while cap.grab():
            if k in todo:
                ok, img = cap.retrieve()
                if not ok:
                    return None
                kept[k] = _fit(img, size, channels, cv2)
            k += 1
    finally:
        cap.release()
    if k != n or len(kept) != len(todo):
        return None
    return np.stack([kept[i] for i in wanted.tolist()])


def _decode_chunk(args) -> list[str]:
    import cv2

    cv2.setNumThreads(1)
    out_path, start, paths, frames, size, channels = args
    arr = np.load(out_path, mmap_mode="r+")
    failures = []
    for offset, path in enumerate(paths):
        try:
            arr[start + offset] = read_clip(path, frames, size, channels)
        except FoldwiseError as exc:
            failures.append(str(exc))
        except cv2.error as exc:  # OpenCV choked on a frame: name the clip, not the C++ line
            failures.append(f"{path}: cannot be decoded ({str(exc).strip().splitlines()[-1]})")
    del arr  # no msync here: atomic_path fsyncs the whole file once before the rename
    return failures


def build_video_cache(
    paths: list[Path], frames: int, size: int, channels: int, out_path: str, threads: int = 1
) -> None:
    """Decode ``paths`` into an ``(N, frames, size, size, channels)`` uint8 ``.npy``.

    Workers write straight into the output memmap (nothing decoded travels back
    through a pipe). The file appears only when every clip decoded.

    Args:
        paths: video files or frame folders, in row order.
        frames: ``T``, frames per clip (sampled uniformly; see the module doc).
        size: side of the square frames.
        channels: 1 (grayscale) or 3 (RGB).
        out_path: destination ``.npy``.
        threads: worker processes.

    Raises:
        FoldwiseError: naming the clips that are missing or cannot be decoded.
    """
    fill_cache(paths, (frames, size, size, channels), out_path, _decode_chunk, (frames, size, channels), threads,
               max_chunk=256, noun="clip")
    n = len(paths)
    log.info("cached %d clips at %dx%dx%dx%d into %s", n, frames, size, size, channels, out_path)


def cache_video(
    root: str, channels: int, table_path: str, frames: int, size: int, out_path: str, threads: int = 1
) -> None:
    """Build the video cache of one split in the row order of its table.

    Args:
        root: the competition folder (``data.dir``).
        channels: 1 (grayscale) or 3 (RGB).
        table_path: ``results/data/{split}.parquet``, whose ``path`` column holds each row's
            clip (file or frame folder) relative to ``root``, resolved from ``data.{split}_videos``.
        frames: ``T`` (``data.frames``).
        size: side of the square frames (the model's ``img_size``).
        out_path: destination ``.npy``.
        threads: worker processes.
    """
    rel = pd.read_parquet(table_path, columns=["path"])["path"]
    build_video_cache([Path(root) / p for p in rel], frames, size, channels, out_path, threads)
