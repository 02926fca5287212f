"""Rule gather: combine a model's folds into its OOF and test predictions and CV scores."""

from typing import TYPE_CHECKING

import pandas as pd

from foldwise.io import load_classes
from foldwise.oof import gather_model, write_model_manifest
from foldwise.runtime.process import run_step
from foldwise.runtime.weights import weights_label

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main() -> None:
    i, o, levers = snakemake.input, snakemake.output, snakemake.params.levers  # models.<name>: seeds, refit, pseudo
    manifest = write_model_manifest(list(i.runs), o.manifest, seeds=levers["seeds"], refit_files=list(i.refit_runs))
    gather_model(
        snakemake.wildcards.model, list(i.oofs), list(i.tests), i.folds,
        n_train=len(pd.read_parquet(i.table, columns=["row"])),
        classes=load_classes(i.classes), target_col=snakemake.params.target_col,
        metric=snakemake.params.metric, out_oof=o.oof, out_test=o.test, out_scores=o.scores,
        task=snakemake.params.task, weights=weights_label(manifest["weights"]) if "weights" in manifest else None,
        seeds=levers["seeds"], refit=levers["refit"], refit_tests=list(i.refits), pseudo_source=levers["pseudo_source"],
    )


run_step(snakemake.log[0], main)
