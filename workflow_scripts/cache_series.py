"""Rule cache (data.kind timeseries): one split's long CSV into a float32 (N, T, C) .npy."""

from pathlib import Path
from typing import TYPE_CHECKING

from foldwise.data.series import cache_series
from foldwise.runtime.process import run_step

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main() -> None:
    d, split = snakemake.params.data, snakemake.wildcards.split
    cache_series(
        str(Path(d["dir"]) / d[f"{split}_series"]), snakemake.input.table, d["id_col"], d["step_col"],
        d["series_channels"], int(snakemake.wildcards.size), d["derived_channels"], snakemake.output.npy,
    )


run_step(snakemake.log[0], main)
