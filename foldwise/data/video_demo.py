"""Moving-digits video competition: a scikit-learn digit moves across a canvas in one of 8 motions.

Classes: ``left``, ``right``, ``up``, ``down`` (translation), ``cw``, ``ccw``
(rotation), ``zoom_in``, ``zoom_out`` (scale). Each clip draws a random digit,
a random length (``min_frames``..``max_frames``) and frame rate, and random
start position, angle and scale, drawn uniformly so that the path stays on
the canvas: every parameter takes, over the whole data set, the same range of
values whatever the class. One frame shows a digit at some place, angle and
size, which every motion produces, so a single frame cannot tell the class:
only the order of frames can. (A model that pools frame features over time
without order can still see *which* parameter changed, though not in which
direction: at best half of the clips.)

Clips are written as small mp4 files (``cv2.VideoWriter``, ``mp4v``) or as
folders of PNG frames, with ``train.csv``, ``test.csv``,
``sample_submission.csv`` and a held-back ``solution.csv``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from foldwise.io import write_csv

MOTIONS = ("left", "right", "up", "down", "cw", "ccw", "zoom_in", "zoom_out")
FPS = (8, 12, 15, 24, 30)


def render_clip(digit: np.ndarray, motion: str, n_frames: int, canvas: int, rng: np.random.Generator) -> np.ndarray:
    """The frames of one clip.

    Args:
        digit: ``(8, 8)`` uint8 image (0..255).
        motion: one of :data:`MOTIONS`.
        n_frames: frames to render.
        canvas: side of the square frames.
        rng: randomness of the start state.

    Returns:
        ``(n_frames, canvas, canvas)`` uint8.
    """
    import cv2

    side = canvas // 3
    sprite = cv2.resize(digit, (side, side), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    travel, turn, a_max, (s_lo, s_hi), zoom = canvas / 3, 90.0, 90.0, (0.6, 1.5), np.log(1.8)
    c_lo, c_hi = side * 0.8, canvas - side * 0.8  # centre range that keeps the digit on the canvas
    state = {"x": rng.uniform(c_lo, c_hi), "y": rng.uniform(c_lo, c_hi), "a": rng.uniform(-a_max, a_max),
             "s": np.exp(rng.uniform(np.log(s_lo), np.log(s_hi)))}
    axis, span, lo, hi = {
        "left": ("x", -travel, c_lo, c_hi), "right": ("x", travel, c_lo, c_hi),
        "up": ("y", -travel, c_lo, c_hi), "down": ("y", travel, c_lo, c_hi),
        "cw": ("a", -turn, -a_max, a_max), "ccw": ("a", turn, -a_max, a_max),
        "zoom_in": ("s", zoom, np.log(s_lo), np.log(s_hi)), "zoom_out": ("s", -zoom, np.log(s_lo), np.log(s_hi)),
    }[motion]
    # The moving parameter starts where its whole path fits in [lo, hi] (the static parameters' range).
    start = rng.uniform(lo - min(0, span), hi - max(0, span))
    out = np.zeros((n_frames, canvas, canvas), np.uint8)
    for t in range(n_frames):
        p = dict(state)
        value = start + span * t / max(1, n_frames - 1)
        p[axis] = np.exp(value) if axis == "s" else value
        m = cv2.getRotationMatrix2D((side / 2, side / 2), p["a"], p["s"])
        m[:, 2] += (p["x"] - side / 2, p["y"] - side / 2)
        out[t] = np.clip(cv2.warpAffine(sprite, m, (canvas, canvas), flags=cv2.INTER_LINEAR), 0, 255).astype(np.uint8)
    return out


def write_clip(frames: np.ndarray, path: Path, fps: int, layout: str = "mp4") -> str:
    """Write one clip as ``<path>.mp4`` or as a folder ``<path>/`` of ``frame_<k>.png``; returns the name used."""
    import cv2

    if layout == "frames":
        path.mkdir(parents=True, exist_ok=True)
        for k, frame in enumerate(frames):
            cv2.imwrite(str(path / f"frame_{k}.png"), frame)
        return path.name
    h, w = frames.shape[1:3]
    writer = cv2.VideoWriter(str(path.with_suffix(".mp4")), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h), True)
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
    writer.release()
    return path.with_suffix(".mp4").name


def make_video_digits_competition(
    out_dir: str | Path, n_train: int = 600, n_test: int = 300, seed: int = 0, canvas: int = 48,
    min_frames: int = 12, max_frames: int = 40, layouts: tuple[str, str] = ("mp4", "mp4"),
) -> dict:
    """Write the moving-digits competition folder.

    Args:
        out_dir: destination folder (created).
        n_train, n_test: clips per split (classes balanced by cycling through :data:`MOTIONS`).
        seed: randomness of everything.
        canvas: frame side in pixels.
        min_frames, max_frames: clip length range (frame rates are drawn from :data:`FPS`).
        layouts: ``mp4`` or ``frames`` (PNG folders) for the train and the test split:
            ``train_videos/{id}.mp4`` or ``train_frames/{id}/``, likewise for test.

    Returns:
        Counts: ``{"train": n_train, "test": n_test}``.
    """
    from sklearn.datasets import load_digits

    rng = np.random.default_rng(seed)
    digits = np.clip(load_digits().images * 16, 0, 255).astype(np.uint8)
    out = Path(out_dir)
    for split, n, layout in (("train", n_train, layouts[0]), ("test", n_test, layouts[1])):
        folder = out / (f"{split}_videos" if layout == "mp4" else f"{split}_frames")
        folder.mkdir(parents=True, exist_ok=True)
        ids = [f"{split}_{i:04d}" for i in range(n)]
        labels = [MOTIONS[i] for i in rng.permutation(np.arange(n) % len(MOTIONS))]
        for clip_id, motion in zip(ids, labels):
            frames = render_clip(digits[rng.integers(len(digits))], motion, int(rng.integers(min_frames, max_frames + 1)),
                                 canvas, rng)
            write_clip(frames, folder / clip_id, int(rng.choice(FPS)), layout)
        if split == "train":
            write_csv(pd.DataFrame({"id": ids, "label": labels}), out / "train.csv")
        else:
            write_csv(pd.DataFrame({"id": ids}), out / "test.csv")
            write_csv(pd.DataFrame({"id": ids, "label": MOTIONS[0]}), out / "sample_submission.csv")
            write_csv(pd.DataFrame({"id": ids, "label": labels}), out / "solution.csv")
    return {"train": n_train, "test": n_test}
