"""Rule weights: one hub source's pretrained weights -> results/weights/{source}.safetensors and its record.

The only step that may download: timm's Hugging Face repository through huggingface_hub's cache
(HF_HOME, HF_HUB_CACHE, HF_HUB_OFFLINE), a torchvision video net's through torch hub's (TORCH_HOME).
"""

import logging
from typing import TYPE_CHECKING

from foldwise.runtime.process import run_step

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main() -> None:
    from foldwise.models.weights import WeightsSource, fetch_weights

    p = snakemake.params.source
    source = WeightsSource(**{**p, "files": tuple(p["files"])})
    info = fetch_weights(source, snakemake.output.weights, snakemake.output.info)
    logging.getLogger("foldwise").info(
        "%s: %s %s@%s (%d tensors, sha256 %s, %s)", source.name, info["repository"], info["file"],
        info["revision"], info["tensors"], info["sha256"][:12], "downloaded" if info["downloaded"] else "from the cache",
    )


run_step(snakemake.log[0], main)
