"""Rule folds: split the training rows once and pickle the fold indices."""

from typing import TYPE_CHECKING

import pandas as pd

from foldwise.folds import make_folds, save_folds
from foldwise.runtime import run_step

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main() -> None:
    p = snakemake.params.folds
    table = pd.read_parquet(snakemake.input.table)
    groups = table["group"].to_numpy() if "group" in table else None
    folds = make_folds(table["target"].to_numpy(), p["scheme"], p["n_splits"], p["seed"], groups)
    save_folds(folds, snakemake.output.folds)


run_step(snakemake.log[0], main)
