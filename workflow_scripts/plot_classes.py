"""Rule plot_classes: class shares of the training labels vs. the best submission's predictions."""

from typing import TYPE_CHECKING

from foldwise.io import load_classes
from foldwise.report.common import best_entry
from foldwise.report.predictions import plot_class_distribution
from foldwise.runtime.process import run_step

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main() -> None:
    i, p = snakemake.input, snakemake.params.settings
    best = best_entry(i.leaderboard, p["submissions"])
    k = p["submissions"].index(best)
    plot_class_distribution(
        best, i.table, i.tests[k], i.reports[k], i.oofs[k], p["target_col"], load_classes(i.classes), p["task"],
        p["multilabel"], snakemake.output.plot,
    )


run_step(snakemake.log[0], main)
