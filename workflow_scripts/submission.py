"""Rule submission: write a validated submission CSV shaped like sample_submission.csv."""

from typing import TYPE_CHECKING

from foldwise.io import load_classes, write_json
from foldwise.runtime import run_step
from foldwise.submission import score_submission, write_submission

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main() -> None:
    p = snakemake.params.settings
    classes = load_classes(snakemake.input.classes)
    sub = write_submission(snakemake.input.test, p["sample_submission"], p["id_col"], classes, snakemake.output.csv)
    holdout = None
    if p["solution"]:
        holdout = score_submission(sub, p["solution"], p["id_col"], p["target_col"], classes, p["metric"])
    report = {"name": snakemake.wildcards.name, "rows": len(sub), "metric": p["metric"], "holdout": holdout}
    write_json(snakemake.output.report, report)


run_step(snakemake.log[0], main)
