"""Rule best_submission: the submission of the model or ensemble with the best honest CV."""

import logging
from typing import TYPE_CHECKING

from foldwise.io import load_classes, write_json
from foldwise.leaderboard import pick_best
from foldwise.runtime.process import run_step
from foldwise.submission import make_submission

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main() -> None:
    i, p = snakemake.input, snakemake.params
    pick = pick_best(list(i.scores))
    k = p.names.index(pick["picked"])
    report = make_submission("best", i.tests[k], i.oofs[k], load_classes(i.classes), p.settings, snakemake.output.csv)
    write_json(snakemake.output.report, {**report, **pick})
    logging.getLogger("foldwise").info(
        "best by honest CV (%s): %s, %s %.5f (in-sample/selected CV %.5f)",
        pick["honest_by"], pick["picked"], pick["metric"], pick["cv_honest"], pick["cv"],
    )


run_step(snakemake.log[0], main)
