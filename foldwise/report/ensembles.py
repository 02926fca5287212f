"""How a blend weighs its members."""

from __future__ import annotations

import numpy as np

from foldwise.io import read_json
from foldwise.report.common import color, figure, save


def plot_weights(ensemble: str, weights_json: str, out: str) -> None:
    """Member weights as horizontal bars, annotated with each member's own OOF objective.

    Args:
        ensemble: the ensemble's name (title).
        weights_json: ``results/ensembles/{name}/weights.json``.
        out: the PNG or SVG to write.
    """
    w = read_json(weights_json)
    members = list(w["weights"])
    values = np.array([w["weights"][m] for m in members], dtype=np.float64)
    member_obj = w.get("member_oof_objective", {})
    order = np.argsort(-values, kind="stable")
    fig, ax = figure(width=9, height=0.5 * len(members) + 1.6)
    ypos = np.arange(len(members))[::-1]
    for rank, i in enumerate(order):
        ax.barh(ypos[rank], values[i], color=color(i), height=0.6)
        text = f"{values[i]:.3f}"
        if members[i] in member_obj:
            text += f"   (alone: {w['objective']} {member_obj[members[i]]:.4f})"
        ax.text(values[i] + 0.01, ypos[rank], text, va="center", fontsize=9)
    ax.set_yticks(ypos, [members[i] for i in order])
    ax.set_xlim(0, 1.35)
    ax.set_xticks(np.linspace(0, 1, 6))
    ax.set_xlabel("weight (sums to 1)")
    ax.grid(axis="y", alpha=0)
    blend = f"; blend {w['objective']} {w['oof_objective']:.4f}" if "oof_objective" in w else ""
    ax.set_title(f"{ensemble}: member weights ({w.get('method', '?')} on OOF {w.get('objective', '')}{blend})")
    save(fig, out)
