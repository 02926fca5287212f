"""Rule refit, nets: train one model (one seed) on every labelled row for the folds' epochs; predict the test cache."""

import logging
from typing import TYPE_CHECKING

from foldwise.runtime.gpus import claim_gpu
from foldwise.runtime.process import configure_threads, run_step

if TYPE_CHECKING:
    from snakemake.script import snakemake

configure_threads(snakemake.threads)  # before torch is imported
GPU = claim_gpu()  # one device per job, held until the process ends; before CUDA starts


def main() -> None:
    from foldwise.io import read_json, write_json
    from foldwise.jobs.paths import TrainPaths
    from foldwise.runtime.provenance import run_manifest
    from foldwise.runtime.weights import weights_record, with_weights_sha
    from foldwise.train.refit import refit_net
    from foldwise.train.settings import TrainConfig

    logging.getLogger("foldwise").info("device: %s", GPU.describe())
    i, o = snakemake.input, snakemake.output
    paths = TrainPaths(
        train_table=i.table, classes=i.classes, folds=i.folds, train_cache=i.train_cache, oof=None, history=None,
        weights=o.weights, checkpoint_dir=snakemake.params.checkpoint_dir, teacher=i.get("teacher"),
        test_cache=i.test_cache, test_table=i.test_table, test=o.test, fold_runs=tuple(i.fold_runs),
    )
    info = read_json(i.pretrained_info) if i.get("pretrained_info") else None  # hub weights' record
    settings = with_weights_sha(snakemake.params.settings, info)  # the config hash, as in the folds
    replica = int(snakemake.wildcards.get("seed", 0))  # the refit_seed rule's {seed}
    summary = refit_net(TrainConfig.from_params(settings), paths, snakemake.threads, snakemake.params.code, replica)
    manifest = {**run_manifest(settings, summary["device"]), "weights": weights_record(settings, info)}
    write_json(o.metrics, {**summary, "manifest": manifest})


run_step(snakemake.log[0], main)
