"""Rule train: train one model on one fold; resumes from its last complete epoch."""

import logging
from typing import TYPE_CHECKING

from foldwise.gpus import claim_gpu
from foldwise.runtime import configure_threads, run_step

if TYPE_CHECKING:
    from snakemake.script import snakemake

configure_threads(snakemake.threads)  # before torch is imported
GPU = claim_gpu()  # one device per job, held until the process ends; before CUDA starts


def main() -> None:
    from foldwise.io import write_json
    from foldwise.provenance import run_manifest
    from foldwise.train import FoldPaths, TrainConfig, train_fold

    logging.getLogger("foldwise").info("device: %s", GPU.describe())
    i, o = snakemake.input, snakemake.output
    paths = FoldPaths(
        train_table=i.table, test_table=i.test_table, classes=i.classes, folds=i.folds,
        train_cache=i.train_cache, test_cache=i.test_cache,
        oof=o.oof, test=o.test, history=o.history, weights=o.weights,
        checkpoint_dir=snakemake.params.checkpoint_dir,
    )
    cfg = TrainConfig.from_params(snakemake.params.settings)
    summary = train_fold(
        cfg, paths, int(snakemake.wildcards.fold), snakemake.params.target_col, snakemake.threads, snakemake.params.code
    )
    write_json(o.metrics, {**summary, "manifest": run_manifest(snakemake.params.settings, summary["device"])})


run_step(snakemake.log[0], main)
