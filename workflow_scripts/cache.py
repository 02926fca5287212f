"""Rule cache: decode one split's inputs once into an .npy (uint8 images or float32 series)."""

from typing import TYPE_CHECKING

from foldwise.data import build_cache
from foldwise.runtime import run_step

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main() -> None:
    w = snakemake.wildcards
    build_cache(
        snakemake.params.data,
        split=w.split,
        table_path=snakemake.input.table,
        size=int(w.size),
        out_path=snakemake.output.npy,
        threads=snakemake.threads,
    )


run_step(snakemake.log[0], main)
