"""Rule cache (data.kind video): decode one split's clips once into a uint8 (N, T, H, W, C) .npy."""

from typing import TYPE_CHECKING

from foldwise.data.video import cache_video
from foldwise.runtime.process import run_step

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main() -> None:
    d = snakemake.params.data
    frames, size = (int(v) for v in snakemake.wildcards.size.split("x"))
    cache_video(
        d["dir"], d["channels"], snakemake.input.table, frames, size, snakemake.output.npy,
        threads=snakemake.threads,
    )


run_step(snakemake.log[0], main)
