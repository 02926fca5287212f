"""Rule ensemble: blend (or stack) its members on their OOF predictions, on all rows and nested."""

from typing import TYPE_CHECKING

from foldwise.runtime.process import configure_threads, run_step
from foldwise.runtime.experiments import track_ensemble

if TYPE_CHECKING:
    from snakemake.script import snakemake

configure_threads(snakemake.threads)  # before numpy loads its BLAS: threads that spin slow a shared machine

from foldwise.ensemble import EnsemblePaths, EnsembleSettings, run_ensemble  # noqa: E402
from foldwise.io import load_classes  # noqa: E402


def main() -> None:
    i, o, p = snakemake.input, snakemake.output, snakemake.params
    paths = EnsemblePaths(oof=o.oof, oof_nested=o.oof_nested, test=o.test, weights=o.weights, scores=o.scores)
    run_ensemble(snakemake.wildcards.ensemble, EnsembleSettings.from_params(p.settings), list(i.oofs), list(i.tests),
                 load_classes(i.classes), paths, target_col=p.target_col, metric=p.metric, task=p.task)
    track_ensemble(snakemake.wildcards.ensemble, p.settings, o.weights, o.scores)  # MLflow, when set up


run_step(snakemake.log[0], main)
