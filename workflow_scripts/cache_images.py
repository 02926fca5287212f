"""Rule cache (data.kind images): decode one split's images once into a uint8 (N, H, W, C) .npy."""

from typing import TYPE_CHECKING

from foldwise.data.images import cache_images
from foldwise.runtime.process import run_step

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main() -> None:
    d = snakemake.params.data
    cache_images(
        d["dir"], d["channels"], snakemake.input.table, int(snakemake.wildcards.size),
        snakemake.output.npy, threads=snakemake.threads,
    )


run_step(snakemake.log[0], main)
