"""Rule folds: split the training rows once and pickle the fold indices."""

from typing import TYPE_CHECKING

import pandas as pd

from foldwise.folds import make_folds, save_folds
from foldwise.io import load_classes
from foldwise.runtime.process import run_step
from foldwise.tasks import get_task

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main() -> None:
    p = snakemake.params.folds
    table, classes = pd.read_parquet(snakemake.input.table), load_classes(snakemake.input.classes)
    y = get_task(snakemake.params.task).encode(table["label"], classes)
    groups = table["group"].to_numpy() if "group" in table else None
    save_folds(make_folds(y, p["scheme"], p["n_splits"], p["seed"], groups, classes), snakemake.output.folds)


run_step(snakemake.log[0], main)
