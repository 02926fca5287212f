"""Rule plot_recall: per-class recall of every model and ensemble on its OOF predictions."""

from typing import TYPE_CHECKING

from foldwise.io import load_classes
from foldwise.report.predictions import plot_recall
from foldwise.runtime.process import run_step

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main() -> None:
    i, p = snakemake.input, snakemake.params.settings
    reports = dict(zip(p["submissions"], i.reports))
    plot_recall(
        p["entries"], list(i.oofs), [reports.get(n) for n in p["entries"]], p["target_col"],
        load_classes(i.classes), p["task"], p["multilabel"], snakemake.output.plot,
    )


run_step(snakemake.log[0], main)
