"""Rule predict, classic families: one fold's fitted state over the test cache -> that fold's test predictions."""

from typing import TYPE_CHECKING

from foldwise.runtime.process import configure_numba, configure_threads, run_step

if TYPE_CHECKING:
    from snakemake.script import snakemake

configure_threads(snakemake.threads)
configure_numba(snakemake.threads)  # before numba is imported


def main() -> None:
    from foldwise.classic.fit import predict_classic_fold
    from foldwise.jobs.paths import PredictPaths

    i = snakemake.input
    paths = PredictPaths(
        weights=i.weights, classes=i.classes, folds=i.folds, test_cache=i.test_cache,
        test_table=i.test_table, test=snakemake.output.test,
    )
    predict_classic_fold(snakemake.params.settings, paths, int(snakemake.wildcards.fold), snakemake.threads,
                         replica=int(snakemake.wildcards.get("seed", 0)))


run_step(snakemake.log[0], main)
