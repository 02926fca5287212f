"""Rule plot_jobs: wall time, samples/s and peak GPU memory of every (model, fold) training job."""

from typing import TYPE_CHECKING

from foldwise.report.jobs import plot_jobs
from foldwise.runtime.process import run_step

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main() -> None:
    plot_jobs(snakemake.params.labels, list(snakemake.input.runs), snakemake.output.plot)


run_step(snakemake.log[0], main)
