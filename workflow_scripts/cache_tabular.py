"""Rule cache (data.kind tabular): one split's feature columns into a float32 (N, F) .npy."""

from typing import TYPE_CHECKING

from foldwise.data.tables import DataConfig
from foldwise.data.tabular import cache_tabular
from foldwise.runtime.process import run_step

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main() -> None:
    d = snakemake.params.data
    cache_tabular(
        DataConfig.from_dict(d), snakemake.wildcards.split, d["layout"]["columns"], d["layout"]["categorical"],
        snakemake.output.npy,
    )


run_step(snakemake.log[0], main)
