"""The data kind of a competition folder and its inputs' shapes.

``timeseries`` when long CSVs repeat the ids (one row per id and step);
``images`` or ``video`` when files (or frame folders) are found by id under
any folder, or named by a path column; otherwise ``tabular`` (the training
table's own columns). For images and clips a sample of files is decoded to
measure channels (grayscale when every sampled one is) and sizes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .notes import Notes
from .tables import Tables

IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}
VIDEO_EXTS = {".mp4", ".avi", ".mkv", ".webm", ".mov", ".mpg", ".mpeg", ".m4v", ".wmv"}
SAMPLED = 24  # ids per split whose files are looked up and decoded


@dataclass(frozen=True)
class Inputs:
    """What the inputs are.

    Attributes:
        kind: ``images``, ``video``, ``timeseries`` or ``tabular``.
        data: the ``data`` keys that read them (templates, series files, step column ...).
        channels: 1 or 3 (images, video), the raw channel count (timeseries), or features (tabular).
        size: the median longer side of the sampled images or frames (0 if none).
        length: steps per recording (timeseries), or median frames per clip (video).
        reserved: training columns that are inputs' paths, not targets.
    """

    kind: str
    data: dict
    channels: int = 0
    size: int = 0
    length: int = 0
    reserved: set[str] = field(default_factory=set)


def index_files(root: Path) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Every file and folder under ``root`` by its name without extension (files) or name (folders).

    Returns:
        ``(files, dirs)``: stem -> relative POSIX paths of files; name -> relative paths of folders.
    """
    files: dict[str, list[str]] = {}
    dirs: dict[str, list[str]] = {}
    for here, subdirs, names in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        rel = Path(here).relative_to(root)
        for d in subdirs:
            dirs.setdefault(d, []).append((rel / d).as_posix())
        for n in names:
            ext = os.path.splitext(n)[1].lower()
            if ext in IMAGE_EXTS or ext in VIDEO_EXTS:
                files.setdefault(os.path.splitext(n)[0], []).append((rel / n).as_posix())
    return files, dirs


def _is_frame_dir(root: Path, rel: str) -> bool:
    return any(os.path.splitext(n)[1].lower() in IMAGE_EXTS for n in os.listdir(root / rel))


def _templates_for(rel: str, row: dict, id_col: str) -> list[str]:
    """Candidate path templates for one row's file: ``dir/{id}.ext``, or with a column's value as a folder."""
    parent, name = rel.rsplit("/", 1) if "/" in rel else ("", rel)
    ext = name[len(row[id_col]):]
    out = [f"{parent}/{{id}}{ext}" if parent else f"{{id}}{ext}"]
    for col, value in row.items():
        if col != id_col and value and (parent == value or parent.endswith("/" + value)):
            prefix = parent[: len(parent) - len(value)]
            out.append(f"{prefix}{{{col}}}/{{id}}{ext}")
    return out


def _fill(template: str, row: dict, id_col: str) -> str:
    """``template`` with ``{id}`` as the row's id and every other ``{field}`` as that column's value."""
    return template.format_map({**row, "id": row[id_col]})


def _path_column(root: Path, df, id_col: str) -> tuple[str, list[str]] | None:
    """A column whose cells are paths of existing image/video files or frame folders, with those paths."""
    rows = df.head(SAMPLED)
    for col in df.columns:
        if col == id_col:
            continue
        paths = [str(v).strip() for v in rows[col]]
        if paths and all(p and (root / p).exists() and (root / p) != root for p in paths):
            ok = [p for p in paths if (root / p).is_dir() or Path(p).suffix.lower() in IMAGE_EXTS | VIDEO_EXTS]
            if len(ok) == len(paths):
                return col, paths
    return None


def find_template(root: Path, df, id_col: str, files: dict, dirs: dict) -> tuple[str, list[str]] | None:
    """The path template that finds every sampled row's file (or frame folder) by id, with those paths."""
    pc = _path_column(root, df, id_col)
    if pc:
        return f"{{{pc[0]}}}", pc[1]
    rows = df.head(SAMPLED).to_dict("records")
    if not rows:
        return None
    first = rows[0][id_col]
    found = files.get(first, []) + [d for d in dirs.get(first, []) if _is_frame_dir(root, d)]
    for rel in found:
        for template in _templates_for(rel, rows[0], id_col):
            try:
                paths = [_fill(template, r, id_col) for r in rows]
            except (KeyError, IndexError, ValueError):
                continue
            if all((root / p).exists() for p in paths):
                return template, paths
    return None


def _media(root: Path, paths: list[str]) -> str:
    p = root / paths[0]
    return "video" if p.is_dir() or p.suffix.lower() in VIDEO_EXTS else "images"


def is_gray(img: np.ndarray) -> bool:
    """Whether a decoded image (H, W[, C]) is grayscale: one channel, gray + alpha, or colour channels that
    differ only by compression noise (at most 12 levels anywhere, under 1.5 on average)."""
    if img.ndim == 2 or img.shape[2] < 3:
        return True
    c = img[..., :3].astype(np.int32)
    d = np.maximum(np.abs(c[..., 0] - c[..., 1]), np.abs(c[..., 1] - c[..., 2]))
    scale = 257 if img.dtype == np.uint16 else 1
    return bool(d.max() <= 12 * scale and d.mean() < 1.5 * scale)


def _image_stats(root: Path, paths: list[str]) -> tuple[bool, list[int]]:
    """Whether every image is grayscale (one channel, gray + alpha, or equal colour channels) and their longer sides."""
    import cv2

    gray, sides = True, []
    for p in paths:
        img = cv2.imread(str(root / p), cv2.IMREAD_UNCHANGED)
        if img is None:
            continue
        sides.append(max(img.shape[:2]))
        gray &= is_gray(img)
    return gray, sides


def _clip_stats(root: Path, paths: list[str]) -> tuple[bool, list[int], list[int]]:
    """Grayscale, longer sides and frame counts of sampled clips (video files or frame folders)."""
    import cv2

    gray, sides, lengths = True, [], []
    for p in paths[:8]:
        full = root / p
        if full.is_dir():
            frames = sorted(n for n in os.listdir(full) if os.path.splitext(n)[1].lower() in IMAGE_EXTS)
            g, s = _image_stats(full, frames[:1])
            gray, sides, lengths = gray and g, sides + s, lengths + [len(frames)]
            continue
        cap = cv2.VideoCapture(str(full))
        ok, frame = cap.read()
        lengths.append(int(cap.get(cv2.CAP_PROP_FRAME_COUNT)))
        cap.release()
        if ok:
            sides.append(max(frame.shape[:2]))
            gray &= is_gray(frame)
    return gray, sides, lengths


def infer_media(t: Tables, notes: Notes) -> Inputs | None:
    """Images or clips found for the training and test ids, or None when there are none."""
    files, dirs = index_files(t.dir)
    if not files and not dirs:
        return None
    train = find_template(t.dir, t.train_df, t.id_col, files, dirs)
    if train is None:
        return None
    test_df = t.test_df if t.test_df is not None else t.sample_df[[t.id_col]]
    test = find_template(t.dir, test_df, t.id_col, files, dirs)
    kind = _media(t.dir, train[1])
    key = "videos" if kind == "video" else "images"
    notes.fact("data.kind", kind, f"a file for each of {len(train[1])} sampled training ids, e.g. {train[1][0]}")
    data = {"kind": kind, f"train_{key}": notes.fact(f"data.train_{key}", train[0], f"finds {len(train[1])} of "
                                                     f"{len(train[1])} sampled training ids")}
    if test is None:
        notes.todo.append((f"data.test_{key}", f"no template finds the test ids' files (e.g. {test_df[t.id_col].iloc[0]!r})"))
        data[f"test_{key}"] = None
    else:
        data[f"test_{key}"] = notes.fact(f"data.test_{key}", test[0], f"finds {len(test[1])} of {len(test[1])} sampled test ids")
    reserved = {c.strip("{}") for c in (train[0], (test or ("",))[0]) if c.startswith("{") and c.endswith("}")}
    if kind == "images":
        gray, sides = _image_stats(t.dir, train[1])
        length = 0
    else:
        gray, sides, lengths = _clip_stats(t.dir, train[1])
        length = int(np.median(lengths)) if lengths else 0
        notes.fact("clip frames", length, f"median frame count of {len(lengths)} sampled clips "
                   f"(min {min(lengths, default=0)}, max {max(lengths, default=0)})")
    data["channels"] = notes.fact("data.channels", 1 if gray else 3,
                                  f"every one of {len(sides)} sampled {key} is grayscale" if gray else
                                  f"some of {len(sides)} sampled {key} have colour")
    size = int(np.median(sides)) if sides else 0
    notes.fact("image side", size, f"median longer side of {len(sides)} sampled {key} "
               f"(min {min(sides, default=0)}, max {max(sides, default=0)})")
    return Inputs(kind, data, channels=1 if gray else 3, size=size, length=length, reserved=reserved)
