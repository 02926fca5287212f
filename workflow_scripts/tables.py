"""Rule tables: check train_csv and write the encoded training table and the class names."""

from typing import TYPE_CHECKING

from foldwise.data.tables import DataConfig, prepare_train_table
from foldwise.runtime.process import run_step

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main() -> None:
    out = snakemake.output
    prepare_train_table(DataConfig.from_dict(snakemake.params.data), out.train, out.classes, task=snakemake.params.task)


run_step(snakemake.log[0], main)
