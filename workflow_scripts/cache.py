"""Rule cache: decode one split's images once into a uint8 (N, H, W, C) .npy."""

from typing import TYPE_CHECKING

from foldwise.data import cache_images
from foldwise.runtime import run_step

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main() -> None:
    d, w = snakemake.params.data, snakemake.wildcards
    cache_images(
        root=d["dir"],
        template=d[f"{w.split}_images"],
        channels=d["channels"],
        table_path=snakemake.input.table,
        size=int(w.size),
        out_path=snakemake.output.npy,
        threads=snakemake.threads,
    )


run_step(snakemake.log[0], main)
