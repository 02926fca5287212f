"""Rule submission: write a validated submission CSV shaped like sample_submission.csv."""

from typing import TYPE_CHECKING

from foldwise.io import load_classes, write_json
from foldwise.runtime.process import run_step
from foldwise.submission import make_submission

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main() -> None:
    i = snakemake.input
    report = make_submission(
        snakemake.wildcards.name, i.test, i.oof, load_classes(i.classes), snakemake.params.settings,
        snakemake.output.csv,
    )
    write_json(snakemake.output.report, report)


run_step(snakemake.log[0], main)
