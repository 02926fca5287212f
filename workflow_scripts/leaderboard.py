"""Rule leaderboard: one row per model and ensemble, with per-fold scores."""

import logging
from typing import TYPE_CHECKING

from foldwise.io import write_csv
from foldwise.leaderboard import build_leaderboard
from foldwise.runtime.process import run_step

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main() -> None:
    reports = dict(zip(snakemake.params.names, snakemake.input.reports))
    scores = list(snakemake.input.scores)
    board = build_leaderboard(scores, reports)
    write_csv(board, snakemake.output.csv)
    logging.getLogger("foldwise").info("leaderboard:\n%s", board.to_string(index=False))


run_step(snakemake.log[0], main)
