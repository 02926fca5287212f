"""Rule submission: write a validated submission CSV shaped like sample_submission.csv."""

from typing import TYPE_CHECKING

from foldwise.io import load_classes, write_json
from foldwise.runtime.process import run_step
from foldwise.submission import decision_thresholds, score_submission, write_submission

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main() -> None:
    p, i = snakemake.params.settings, snakemake.input
    classes, ml = load_classes(i.classes), p["multilabel"]
    thresholds = None
    if p["task"] == "multilabel":
        thresholds = decision_thresholds(i.oof, p["target_col"], classes, ml["threshold"], ml["fixed_threshold"])
    sub = write_submission(
        i.test, p["sample_submission"], p["id_col"], classes, snakemake.output.csv,
        p["task"], thresholds, ml["submit"],
    )
    holdout = None
    if p["solution"]:
        holdout = score_submission(
            sub, p["solution"], p["id_col"], p["target_col"], classes, p["metric"], p["task"], p["label_cols"]
        )
    report = {"name": snakemake.wildcards.name, "rows": len(sub), "metric": p["metric"], "holdout": holdout,
              "thresholds": None if thresholds is None else dict(zip(classes, thresholds.tolist()))}
    write_json(snakemake.output.report, report)


run_step(snakemake.log[0], main)
