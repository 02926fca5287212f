"""Rule plot_folds: every leaderboard entry's fold scores, CV and held-back score."""

from typing import TYPE_CHECKING

from foldwise.report.board import plot_fold_scores
from foldwise.runtime.process import run_step

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main() -> None:
    plot_fold_scores(snakemake.input.leaderboard, snakemake.output.plot)


run_step(snakemake.log[0], main)
