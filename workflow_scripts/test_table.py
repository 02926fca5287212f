"""Rule test_table: the test ids in sample-submission order, cross-checked against test_csv."""

from typing import TYPE_CHECKING

from foldwise.data.tables import DataConfig, prepare_test_table
from foldwise.runtime.process import run_step

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main() -> None:
    prepare_test_table(DataConfig.from_dict(snakemake.params.data), snakemake.output.test)


run_step(snakemake.log[0], main)
