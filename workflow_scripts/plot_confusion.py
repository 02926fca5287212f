"""Rule plot_confusion: the best submission's OOF confusion matrix (multilabel: per-label AUC and F1)."""

from typing import TYPE_CHECKING

from foldwise.io import load_classes
from foldwise.report.common import best_entry
from foldwise.report.predictions import plot_confusion
from foldwise.runtime.process import run_step

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main() -> None:
    i, p = snakemake.input, snakemake.params.settings
    best = best_entry(i.leaderboard, p["submissions"])
    k = p["submissions"].index(best)
    plot_confusion(
        best, i.oofs[k], p["target_col"], load_classes(i.classes), p["task"], i.reports[k], p["multilabel"],
        snakemake.output.plot,
    )


run_step(snakemake.log[0], main)
