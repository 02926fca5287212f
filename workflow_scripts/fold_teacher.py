"""Rule fold_teacher: a teacher's fold-k test predictions (its seeds' mean, or an ensemble's fold-k blend)."""

from typing import TYPE_CHECKING

from foldwise.ensemble.fold_teacher import write_fold_teacher
from foldwise.runtime.process import run_step

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main() -> None:
    i = snakemake.input
    write_fold_teacher(
        snakemake.params.spec, list(i.tests), int(snakemake.wildcards.fold), i.folds, snakemake.output.test,
        weights_path=i.get("weights"),
    )


run_step(snakemake.log[0], main)
