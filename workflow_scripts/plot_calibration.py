"""Rule plot_calibration: reliability diagram of every model's and ensemble's OOF predictions."""

from typing import TYPE_CHECKING

from foldwise.io import load_classes
from foldwise.report.predictions import plot_calibration
from foldwise.runtime.process import run_step

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main() -> None:
    i, p = snakemake.input, snakemake.params.settings
    plot_calibration(
        p["entries"], list(i.oofs), p["target_col"], load_classes(i.classes), p["task"], snakemake.output.plot
    )


run_step(snakemake.log[0], main)
