"""Rule train: train one model on one fold; resumes from its last complete epoch."""

import logging
from typing import TYPE_CHECKING

from foldwise.runtime.gpus import claim_gpu
from foldwise.runtime.process import configure_threads, run_step

if TYPE_CHECKING:
    from snakemake.script import snakemake

configure_threads(snakemake.threads)  # before torch is imported
GPU = claim_gpu()  # one device per job, held until the process ends; before CUDA starts


def main() -> None:
    from foldwise.io import write_json
    from foldwise.runtime.provenance import run_manifest
    from foldwise.train.fold import FoldPaths, train_fold
    from foldwise.train.settings import TrainConfig

    logging.getLogger("foldwise").info("device: %s", GPU.describe())
    i, o = snakemake.input, snakemake.output
    paths = FoldPaths(
        train_table=i.table, classes=i.classes, folds=i.folds, train_cache=i.train_cache,
        oof=o.oof, history=o.history, weights=o.weights, checkpoint_dir=snakemake.params.checkpoint_dir,
        teacher=i.get("teacher"), test_cache=i.get("test_cache"), test_table=i.get("test_table"),
    )
    cfg = TrainConfig.from_params(snakemake.params.settings)
    summary = train_fold(
        cfg, paths, int(snakemake.wildcards.fold), snakemake.params.target_col, snakemake.threads, snakemake.params.code
    )
    write_json(o.metrics, {**summary, "manifest": run_manifest(snakemake.params.settings, summary["device"])})


run_step(snakemake.log[0], main)
