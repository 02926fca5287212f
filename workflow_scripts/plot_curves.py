"""Rule plot_curves: one model's learning curves, every fold in one figure."""

from typing import TYPE_CHECKING

from foldwise.report.curves import plot_learning_curves
from foldwise.runtime.process import run_step

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main() -> None:
    i = snakemake.input
    plot_learning_curves(snakemake.wildcards.model, list(i.histories), list(i.runs), snakemake.output.plot)


run_step(snakemake.log[0], main)
