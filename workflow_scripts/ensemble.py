"""Rule ensemble: blend (or stack) its members on their OOF predictions, on all rows and nested."""

from typing import TYPE_CHECKING

from foldwise.runtime.process import configure_threads, run_step
from foldwise.runtime.experiments import track_ensemble

if TYPE_CHECKING:
    from snakemake.script import snakemake

configure_threads(snakemake.threads)  # before numpy loads its BLAS: threads that spin slow a shared machine

from foldwise.ensemble.run import run_ensemble  # noqa: E402
from foldwise.io import load_classes  # noqa: E402


def main() -> None:
    i, o, p = snakemake.input, snakemake.output, snakemake.params
    run_ensemble(
        snakemake.wildcards.ensemble, p.settings["members"], list(i.oofs), list(i.tests), p.settings,
        classes=load_classes(i.classes), target_col=p.target_col, metric=p.metric,
        out_oof=o.oof, out_test=o.test, out_weights=o.weights, out_scores=o.scores,
        task=p.task, out_oof_nested=o.oof_nested,
    )
    track_ensemble(snakemake.wildcards.ensemble, p.settings, o.weights, o.scores)  # MLflow, when set up


run_step(snakemake.log[0], main)
