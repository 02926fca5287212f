"""Rule predict: one fold's best weights over the test cache -> that fold's test predictions."""

import logging
from typing import TYPE_CHECKING

from foldwise.runtime.gpus import claim_gpu
from foldwise.runtime.process import configure_threads, run_step

if TYPE_CHECKING:
    from snakemake.script import snakemake

configure_threads(snakemake.threads)  # before torch is imported
GPU = claim_gpu()  # one device per job, held until the process ends; before CUDA starts


def main() -> None:
    from foldwise.io import read_json
    from foldwise.jobs.paths import PredictPaths
    from foldwise.runtime.weights import with_weights_sha
    from foldwise.train.infer import predict_test_fold
    from foldwise.train.settings import TrainConfig

    logging.getLogger("foldwise").info("device: %s", GPU.describe())
    i = snakemake.input
    paths = PredictPaths(
        weights=i.weights, classes=i.classes, folds=i.folds, test_cache=i.test_cache, test_table=i.test_table,
        test=snakemake.output.test, train_cache=i.train_cache, train_table=i.get("train_table"),
    )
    info = read_json(i.pretrained_info) if i.get("pretrained_info") else None  # the config hash, as in train
    cfg = TrainConfig.from_params(with_weights_sha(snakemake.params.settings, info))
    predict_test_fold(cfg, paths, int(snakemake.wildcards.fold), snakemake.threads)


run_step(snakemake.log[0], main)
