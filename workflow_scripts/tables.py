"""Rule tables: check the competition CSVs and write the encoded train/test tables."""

from typing import TYPE_CHECKING

from foldwise.config import DataConfig, from_dict
from foldwise.data import prepare_tables
from foldwise.runtime import run_step

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main() -> None:
    dcfg = from_dict(DataConfig, {**snakemake.params.data, "solution": None})
    out = snakemake.output
    prepare_tables(dcfg, out.train, out.test, out.classes, task=snakemake.params.task)


run_step(snakemake.log[0], main)
