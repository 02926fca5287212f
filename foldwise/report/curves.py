"""Learning curves of one model: every fold in one figure, the best epoch marked."""

from __future__ import annotations

import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from foldwise.io import read_json
from foldwise.report.common import color, figure, save


def plot_learning_curves(model: str, histories: list[str], runs: list[str], out: str) -> None:
    """Train loss, validation loss and the validation metric per epoch, one colour per fold.

    Args:
        model: the model's name (title).
        histories: each fold's ``history.csv`` (``epoch, train_loss, valid_loss, valid_<metric>, ...``), fold order.
        runs: each fold's ``metrics.json`` (its ``best_epoch`` and ``best_score`` are marked).
        out: the PNG or SVG to write.
    """
    fig, axes = figure(1, 3, width=9.5, height=3.6)
    metric_col, epochs = None, set()
    for k, (hist_path, run_path) in enumerate(zip(histories, runs)):
        hist = pd.read_csv(hist_path)
        run = read_json(run_path)
        metric_col = next(c for c in hist.columns if c.startswith("valid_") and c != "valid_loss")
        epochs.update(hist["epoch"].tolist())
        style = {"color": color(k), "marker": "o", "markersize": 3.5, "linewidth": 1.6}
        axes[0].plot(hist["epoch"], hist["train_loss"], **style)
        axes[1].plot(hist["epoch"], hist["valid_loss"], **style)
        axes[2].plot(hist["epoch"], hist[metric_col], **style)
        best = hist[hist["epoch"] == run.get("best_epoch")]
        for ax, col in ((axes[1], "valid_loss"), (axes[2], metric_col)):
            ax.scatter(best["epoch"], best[col], marker="*", s=180, color=color(k), edgecolor="#111827",
                       linewidth=0.8, zorder=5)
    titles = ("train loss", "validation loss", (metric_col or "valid_metric").replace("_", " "))
    for ax, title in zip(axes, titles):
        ax.set_title(title)
        ax.set_xlabel("epoch")
        if len(epochs) <= 12:
            ax.set_xticks(sorted(epochs))
        else:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if len(epochs) == 1:
            ax.set_xlim(min(epochs) - 1, min(epochs) + 1)
    handles = [Line2D([], [], color=color(k), marker="o", markersize=3.5, label=f"fold {k}") for k in range(len(histories))]
    handles.append(Line2D([], [], linestyle="none", marker="*", markersize=12, color="#9ca3af",
                          markeredgecolor="#111827", label="best epoch"))
    axes[2].legend(handles=handles, loc="best", fontsize=9)
    fig.suptitle(f"{model}: learning curves ({len(histories)} folds; ★ = best epoch, whose weights are kept)",
                 fontsize=12)
    save(fig, out)
