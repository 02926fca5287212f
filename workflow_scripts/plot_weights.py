"""Rule plot_weights: how one ensemble weighs its members."""

from typing import TYPE_CHECKING

from foldwise.report.ensembles import plot_weights
from foldwise.runtime.process import run_step

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main() -> None:
    plot_weights(snakemake.wildcards.ensemble, snakemake.input.weights, snakemake.output.plot)


run_step(snakemake.log[0], main)
