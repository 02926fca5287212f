"""Rule leaderboard: one row per model and ensemble, with per-fold scores."""

import logging
from typing import TYPE_CHECKING

from foldwise.leaderboard import write_leaderboard
from foldwise.runtime.process import run_step

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main() -> None:
    reports = dict(zip(snakemake.params.names, snakemake.input.reports))
    board = write_leaderboard(list(snakemake.input.scores), reports, snakemake.output.csv)
    logging.getLogger("foldwise").info("leaderboard:\n%s", board.to_string(index=False))


run_step(snakemake.log[0], main)
