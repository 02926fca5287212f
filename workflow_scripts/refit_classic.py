"""Rule refit_classic: fit one model (one seed) on every labelled row and predict the test cache."""

from typing import TYPE_CHECKING

from foldwise.runtime.process import configure_numba, configure_threads, run_step

if TYPE_CHECKING:
    from snakemake.script import snakemake

configure_threads(snakemake.threads)
configure_numba(snakemake.threads)  # before numba is imported


def main() -> None:
    from foldwise.classic.refit import refit_classic
    from foldwise.io import write_json
    from foldwise.jobs.paths import TrainPaths
    from foldwise.runtime.provenance import run_manifest

    i, o = snakemake.input, snakemake.output
    paths = TrainPaths(
        train_table=i.table, classes=i.classes, folds=i.folds, train_cache=i.train_cache, oof=None, history=None,
        weights=o.weights, test_cache=i.test_cache, test_table=i.test_table, test=o.test, fold_runs=tuple(i.fold_runs),
    )
    replica = int(snakemake.wildcards.get("seed", 0))  # refit_classic_seed's {seed}
    summary = refit_classic(snakemake.params.settings, paths, snakemake.threads, replica=replica)
    write_json(o.metrics, {**summary, "manifest": run_manifest(snakemake.params.settings, summary["device"])})


run_step(snakemake.log[0], main)
