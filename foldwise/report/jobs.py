"""What each training job cost: wall time, throughput and peak GPU memory."""

from __future__ import annotations

import numpy as np

from foldwise.io import read_json
from foldwise.report.common import color, figure, save


def plot_jobs(labels: list[str], runs: list[str], out: str) -> None:
    """Three bar panels over the (model, fold) jobs, from their ``metrics.json``.

    Args:
        labels: one ``model/fold`` label per job, in the order of ``runs``; the model is
            the part before the slash and picks the colour.
        runs: each job's ``metrics.json``.
        out: the PNG or SVG to write.
    """
    recs = [read_json(p) for p in runs]
    models = list(dict.fromkeys(lab.split("/")[0] for lab in labels))
    colors = [color(models.index(lab.split("/")[0])) for lab in labels]
    panels = [
        ("wall_seconds", "wall time per job (s)", "{:.0f}"),
        ("samples_per_second", "training samples / s", "{:.0f}"),
        ("peak_gpu_memory_mb", "peak GPU memory (MiB)", "{:.0f}"),
    ]
    fig, axes = figure(1, 3, width=9.5, height=0.32 * len(labels) + 1.8)
    ypos = np.arange(len(labels))[::-1]
    for ax, (key, title, fmt) in zip(axes, panels):
        values = np.array([np.nan if r.get(key) is None else float(r[key]) for r in recs])
        ax.set_title(title)
        ax.set_yticks(ypos, labels if ax is axes[0] else [""] * len(labels))
        ax.grid(axis="y", alpha=0)
        if np.isnan(values).all():
            devices = sorted({str(r.get("device")) for r in recs})
            ax.text(0.5, 0.5, f"not measured\n(device: {', '.join(devices)})", ha="center", va="center",
                    transform=ax.transAxes, color="#6b7280")
            ax.set_xticks([])
            ax.set_yticks([])
            for side in ("left", "bottom"):
                ax.spines[side].set_visible(False)
            continue
        ax.barh(ypos, np.nan_to_num(values), color=colors, height=0.65)
        top = np.nanmax(values)
        for y, v in zip(ypos, values):
            if not np.isnan(v):
                ax.text(v + 0.01 * top, y, f"{v:.1f}" if v < 10 else fmt.format(v), va="center", fontsize=8)
        ax.set_xlim(0, top * 1.25 if top > 0 else 1)
    total = sum(r.get("wall_seconds") or 0 for r in recs)
    fig.suptitle(f"Training jobs: {len(recs)} (model, fold) jobs, {total / 60:.1f} min of job time in all", fontsize=12)
    save(fig, out)
