"""Rule train_classic (ROCKET, HYDRA, QUANT, logistic, LightGBM, …): fit one fold on the CPU, predict its test rows."""

import logging
from typing import TYPE_CHECKING

from foldwise.runtime.process import configure_numba, configure_threads, run_step

if TYPE_CHECKING:
    from snakemake.script import snakemake

configure_threads(snakemake.threads)
configure_numba(snakemake.threads)  # before numba is imported


def main() -> None:
    from foldwise.classic.fit import train_classic_fold
    from foldwise.io import write_json
    from foldwise.jobs.paths import TrainPaths
    from foldwise.runtime.provenance import run_manifest

    logging.getLogger("foldwise").info("device: cpu (family %s)", snakemake.params.settings["family"])
    i, o = snakemake.input, snakemake.output
    paths = TrainPaths(
        train_table=i.table, classes=i.classes, folds=i.folds, train_cache=i.train_cache,
        oof=o.oof, history=o.history, weights=o.weights, test_cache=i.test_cache, test_table=i.test_table,
        test=o.test,
    )
    summary = train_classic_fold(
        snakemake.params.settings, paths, int(snakemake.wildcards.fold), snakemake.params.target_col, snakemake.threads,
        replica=int(snakemake.wildcards.get("seed", 0)),  # models.<name>.seeds: train_classic_seed's {seed}
    )
    write_json(o.metrics, {**summary, "manifest": run_manifest(snakemake.params.settings, summary["device"])})


run_step(snakemake.log[0], main)
