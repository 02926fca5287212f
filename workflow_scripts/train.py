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
    import dataclasses

    from foldwise.io import read_json, sha256_file, sha256_json, write_json
    from foldwise.runtime.experiments import train_tracking
    from foldwise.runtime.progress import EpochProgress
    from foldwise.runtime.provenance import run_manifest
    from foldwise.runtime.weights import weights_record, with_weights_sha
    from foldwise.jobs.paths import TrainPaths
    from foldwise.train.fold import train_fold
    from foldwise.train.settings import TrainConfig

    logging.getLogger("foldwise").info("device: %s", GPU.describe())
    i, o = snakemake.input, snakemake.output
    paths = TrainPaths(
        train_table=i.table, classes=i.classes, folds=i.folds, train_cache=i.train_cache,
        oof=o.oof, history=o.history, weights=o.weights, checkpoint_dir=snakemake.params.checkpoint_dir,
        teacher=i.get("teacher"), test_cache=i.get("test_cache"), test_table=i.get("test_table"),
    )
    info = read_json(i.pretrained_info) if i.get("pretrained_info") else None  # hub weights' record
    settings = with_weights_sha(snakemake.params.settings, info)  # their SHA-256 enters the config hash
    cfg, fold = TrainConfig.from_params(settings), int(snakemake.wildcards.fold)
    # Live progress and (when MLFLOW_TRACKING_URI is set) experiment tracking: plumbing, outside code hashes.
    hooks = [EpochProgress(cfg.model, fold, snakemake.log[0], cfg.epochs)]
    tracking = train_tracking(
        cfg.model, fold, settings, sha256_json(dataclasses.asdict(cfg)), sha256_file(i.folds),
        artifacts=[o.weights, o.history, o.metrics],
    )
    hooks += [tracking] if tracking else []
    try:
        summary = train_fold(
            cfg, paths, fold, snakemake.params.target_col, snakemake.threads, snakemake.params.code,
            on_epoch=lambda row: [hook(row) for hook in hooks], replica=int(snakemake.wildcards.get("seed", 0)),
        )
        manifest = {**run_manifest(settings, summary["device"]), "weights": weights_record(settings, info)}
        write_json(o.metrics, {**summary, "manifest": manifest})
    except BaseException:
        for hook in hooks:
            hook.finish(failed=True)
        raise
    for hook in hooks:
        hook.finish(summary)


run_step(snakemake.log[0], main)
