"""Shared figure style, atomic saving and reading of prediction files."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")  # no display: figures are only saved

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from foldwise.io import atomic_path, read_json  # noqa: E402
from foldwise.oof import prob_columns  # noqa: E402
from foldwise.tasks import get_task  # noqa: E402

# Colour-blind safe (Okabe-Ito), in a fixed order so a model keeps its colour across figures.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 90,  # figures are at most 9.5 in wide: 855 px fit beside the report's menu
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
    "svg.hashsalt": "foldwise",
}


def figure(nrows: int = 1, ncols: int = 1, width: float = 9.0, height: float = 4.0, **kwargs):
    """A new figure in the report's style: ``(fig, axes)`` as :func:`matplotlib.pyplot.subplots` returns."""
    plt.rcParams.update(STYLE)
    return plt.subplots(nrows, ncols, figsize=(width, height), layout="constrained", **kwargs)


def color(i: int) -> str:
    """The ``i``-th colour of the palette (cycling)."""
    return PALETTE[i % len(PALETTE)]


def save(fig, path: str | os.PathLike) -> None:
    """Write ``fig`` atomically as PNG or SVG (by extension), without a timestamp, and close it."""
    suffix = os.path.splitext(os.fspath(path))[1]
    metadata = {"Date": None} if suffix == ".svg" else {"Software": None}
    with atomic_path(path, suffix=suffix) as tmp:
        fig.savefig(tmp, format=suffix.lstrip("."), metadata=metadata)
    plt.close(fig)


def load_predictions(path: str, target_col: str, classes: list[str], task: str) -> tuple[np.ndarray, np.ndarray]:
    """Targets and probabilities of an OOF file.

    Shape:
        multiclass: y ``(N,)`` class indices; multilabel: y ``(N, L)`` 0/1. probs ``(N, K)``.
    """
    oof = pd.read_parquet(path)
    return get_task(task).encode(oof[target_col], classes), oof[prob_columns(oof)].to_numpy(np.float64)


def best_entry(leaderboard: str, names: list[str]) -> str:
    """The leaderboard's top row among ``names`` (the leaderboard is sorted best first)."""
    board = pd.read_csv(leaderboard, dtype={"name": str})
    ranked = [n for n in board["name"] if n in names]
    if not ranked:
        raise ValueError(f"none of {names} is on the leaderboard {leaderboard}")
    return ranked[0]


def thresholds_of(report: str | None, classes: list[str]) -> np.ndarray:
    """Multilabel decision thresholds from a submission report, in ``classes`` order; 0.5 each without one."""
    thr = read_json(report).get("thresholds") if report else None
    if thr:
        return np.asarray([thr[str(c)] for c in classes], dtype=np.float64)
    return np.full(len(classes), 0.5)


def short(label: str, width: int = 14) -> str:
    """A class label cut to ``width`` characters for tick labels."""
    label = str(label)
    return label if len(label) <= width else label[: width - 1] + "…"


def class_ticks(ax, labels: list[str], width: int = 12) -> None:
    """Class names on the x axis, cut to ``width`` characters and slanted when they would collide."""
    names = [short(c, width) for c in labels]
    crowded = sum(len(n) + 2 for n in names) > 7 * ax.figure.get_figwidth()  # ~7 tick characters per inch
    ax.set_xticks(range(len(names)), names, rotation=35 if crowded else 0, ha="right" if crowded else "center",
                  rotation_mode="anchor")
