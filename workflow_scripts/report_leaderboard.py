"""Rule report_leaderboard: the leaderboard as an HTML table for the report."""

from typing import TYPE_CHECKING

from foldwise.report.board import leaderboard_html
from foldwise.runtime.process import run_step

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main() -> None:
    leaderboard_html(snakemake.input.leaderboard, snakemake.output.html)


run_step(snakemake.log[0], main)
