"""Pretrained weights by name: which hub file a model starts from, where it is cached, and fetching it.

``pretrained: true`` asks for the backbone's hub weights: a timm backbone's
default pretrained tag (``resnet50`` -> ``resnet50.a1_in1k``) or the tag it
names (``resnet50.a1_in1k``), read through timm's ``pretrained_cfg`` and
huggingface_hub's cache (``HF_HOME``, ``HF_HUB_CACHE``, ``HF_HUB_OFFLINE``);
a torchvision video ResNet's Kinetics-400 weights through torch hub's cache
(``TORCH_HOME``), named by torchvision's weights enums. Each distinct source
is fetched once, by the ``weights`` rule (the only step that may download),
into ``results/weights/{source}.safetensors`` with a JSON record beside it;
training reads only that file.

Nothing here imports torch at import time. Resolving a source imports timm
or torchvision (a plan that names hub weights pays about 3 s for it);
:func:`cached_file` only looks at the disk, so planning never downloads.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from foldwise.errors import FoldwiseError
from foldwise.models.names import FRAME_ENCODER, FRAME_NETS, backbone_names

WEIGHTS_DIR = "results/weights"
# torchvision's video ResNets: the weights enum of each (``DEFAULT`` is Kinetics-400). A plan-time copy of
# names registered in foldwise.models.video (tests/test_registry.py keeps them equal).
VIDEO_WEIGHTS = {"r3d_18": "R3D_18_Weights", "r2plus1d_18": "R2Plus1D_18_Weights", "mc3_18": "MC3_18_Weights"}
VIDEO_WIDTH = 64  # the only width torchvision's weights fit


@dataclass(frozen=True)
class WeightsSource:
    """One hub file that models start from.

    Attributes:
        name: file stem under ``results/weights`` (``resnet18.a1_in1k``, ``r3d_18.kinetics400_v1``).
        library: ``timm`` (Hugging Face hub) or ``torchvision`` (torch hub).
        architecture: the net the weights are for (``resnet18``, ``r3d_18``).
        repository: the hub repository (``timm/resnet18.a1_in1k``) or torchvision's weights enum member.
        files: the file names to look for, preferred first (timm: safetensors before pickles).
        url: torch hub only: the download URL (from torchvision's weights enum).
        license: the licence the pretrained config states, or None.
    """

    name: str
    library: str
    architecture: str
    repository: str
    files: tuple[str, ...]
    url: str | None = None
    license: str | None = None

    @property
    def path(self) -> str:
        """The fetched file every train job of a model reads."""
        return f"{WEIGHTS_DIR}/{self.name}.safetensors"

    @property
    def info_path(self) -> str:
        """The JSON record beside it: repository, revision, file, SHA-256, licence."""
        return f"{WEIGHTS_DIR}/{self.name}.json"


def hub_name(model: dict) -> str | None:
    """The net whose hub weights a model's ``pretrained: true`` asks for, or None (false, or a path).

    Args:
        model: a ``models.<name>`` mapping (defaults filled or not).

    Returns:
        The backbone (a frame net: its ``model_kwargs.encoder``), or None.
    """
    if model.get("pretrained") is not True or not isinstance(model.get("backbone"), str):
        return None
    if model["backbone"] in FRAME_NETS:
        return (model.get("model_kwargs") or {}).get("encoder", FRAME_ENCODER)
    return model["backbone"]


def offline() -> bool:
    """Whether downloads are off: ``HF_HUB_OFFLINE`` (read by huggingface_hub; also stops torch hub here)."""
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


@functools.cache
def resolve_source(name: str) -> WeightsSource:
    """The hub file ``name``'s pretrained weights live in, from timm's or torchvision's own tables.

    Args:
        name: a timm model name with or without a tag, or a torchvision video ResNet.

    Raises:
        FoldwiseError: an unknown tag (lists the valid ones), or no hub weights for the net.
    """
    if name in VIDEO_WEIGHTS:
        return _torchvision_source(name)
    names = backbone_names()[0]
    if name in names.get("timeseries", ()) or name in names.get("video", ()):
        raise FoldwiseError(f"'{name}' has no hub weights (foldwise's own net); give the path of a weights file")
    import timm
    from timm.models import get_pretrained_cfg
    from timm.models._hub import HF_WEIGHTS_NAME, _get_safe_alternatives

    arch = name.split(".", 1)[0]
    try:
        cfg = get_pretrained_cfg(name)
    except RuntimeError:  # timm: 'Invalid pretrained tag'
        tags = timm.list_pretrained(f"{arch}.*")
        raise FoldwiseError(f"timm has no pretrained tag '{name}'; tags of {arch}: {', '.join(tags) or 'none'}") from None
    if cfg is None or not cfg.hf_hub_id:
        raise FoldwiseError(f"timm lists no Hugging Face hub weights for '{name}'; give the path of a weights file")
    filename = cfg.hf_hub_filename or HF_WEIGHTS_NAME
    files = (filename,) if filename.endswith(".safetensors") else (*_get_safe_alternatives(filename), filename)
    repo = cfg.hf_hub_id.split("@", 1)[0]
    return WeightsSource(f"{cfg.architecture}.{cfg.tag}", "timm", cfg.architecture, repo, tuple(files),
                         license=cfg.license)


def _torchvision_source(name: str) -> WeightsSource:
    from torchvision.models import video

    weights = getattr(video, VIDEO_WEIGHTS[name]).DEFAULT
    enum = f"torchvision.models.video.{VIDEO_WEIGHTS[name]}.{weights.name}"
    return WeightsSource(f"{name}.{weights.name.lower()}", "torchvision", name, enum, (weights.url.rsplit("/", 1)[1],),
                         url=weights.url, license=weights.meta.get("license"))


def torch_hub_checkpoints() -> Path:
    """torch hub's checkpoint folder (``$TORCH_HOME/hub/checkpoints`` by default), as torch computes it."""
    import torch.hub

    return Path(torch.hub.get_dir()) / "checkpoints"


def cached_file(source: WeightsSource) -> Path | None:
    """The source's file in its hub cache, or None when it is not there (never downloads).

    timm: huggingface_hub's ``try_to_load_from_cache`` (the revision ``refs/main`` points at);
    torchvision: torch hub's checkpoint folder.
    """
    if source.library == "torchvision":
        path = torch_hub_checkpoints() / source.files[0]
        return path if path.is_file() else None
    from huggingface_hub import try_to_load_from_cache

    for filename in source.files:
        found = try_to_load_from_cache(source.repository, filename)
        if isinstance(found, str) and Path(found).is_file():
            return Path(found)
    return None


def missing_message(source: WeightsSource) -> str:
    """Why a source cannot be had offline, and the two ways out."""
    if source.library == "torchvision":
        where = f"{source.files[0]} ({source.url}) in torch hub's cache {torch_hub_checkpoints()} (TORCH_HOME)"
    else:
        from huggingface_hub import constants

        where = (f"{' or '.join(source.files)} of the Hugging Face repository {source.repository} in "
                 f"{constants.HF_HUB_CACHE} (HF_HUB_CACHE / HF_HOME)")
    return (f"true needs {where}, which is not cached, and HF_HUB_OFFLINE=1 forbids downloading it: "
            "populate the cache (run once with internet, or copy the cache folder from a machine that has it), "
            "or give the path of a local weights file in pretrained")


def tracked_content(cached_sha256: str | None, info: dict | None) -> str | None:
    """The ``weights`` rule's content param: the cached file's SHA-256, stable across the job's own download.

    A file the job downloaded itself (absent when the DAG was planned, so planned as None) keeps
    counting as None while it is unchanged; a cache emptied after the job keeps the value the job
    was planned with. Any other change of the cached file changes the value, so the job re-runs.

    Args:
        cached_sha256: the SHA-256 of the file in the cache now, or None when it is not cached.
        info: the record the last ``weights`` job wrote, or None.
    """
    if info is None:
        return cached_sha256
    planned = None if info.get("downloaded") else info.get("source_sha256")
    if cached_sha256 is None or cached_sha256 == info.get("source_sha256"):
        return planned
    return cached_sha256


def _download(source: WeightsSource) -> Path:
    if offline():
        raise FoldwiseError(f"weights {source.name}: pretrained: {missing_message(source)}")
    if source.library == "torchvision":
        import torch.hub

        torch.hub.load_state_dict_from_url(source.url, check_hash=True, weights_only=True, map_location="cpu")
        return torch_hub_checkpoints() / source.files[0]
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError

    for filename in source.files:
        try:
            return Path(hf_hub_download(source.repository, filename, library_name="timm"))
        except EntryNotFoundError:
            continue
    raise FoldwiseError(f"the Hugging Face repository {source.repository} has none of {', '.join(source.files)}")


def _revision(path: Path) -> str | None:
    """The commit of a file in huggingface_hub's cache (``snapshots/<commit>/<file>``)."""
    return path.parent.name if path.parent.parent.name == "snapshots" else None


def fetch_weights(source: WeightsSource, out: str, info_out: str) -> dict:
    """Copy (or download, then copy) a source's file into ``out`` as safetensors, and record where it came from.

    Args:
        source: what to fetch (:func:`resolve_source`).
        out: ``results/weights/{source}.safetensors``.
        info_out: its JSON record.

    Returns:
        The record: source, library, repository, revision, file, url, licence, ``source_sha256`` (the cached
        file), ``sha256`` (``out``), tensor count and ``downloaded`` (whether this job downloaded it).

    Raises:
        FoldwiseError: not cached while offline, or a file without tensors.
    """
    from foldwise.io import atomic_path, sha256_file, write_json

    path = cached_file(source)
    downloaded = path is None
    if downloaded:
        path = _download(source)
    with atomic_path(out, suffix=".safetensors") as tmp:
        if path.suffix == ".safetensors":
            shutil.copyfile(path, tmp)
            n_tensors = None
        else:  # a torch pickle (torchvision, older timm repositories): loaded safely, re-saved
            from safetensors.torch import save_file

            from foldwise.models.state_dict import read_state_dict

            state = {k: v.contiguous().clone() for k, v in read_state_dict(path).items()}
            if not state:
                raise FoldwiseError(f"{path} holds no tensors; delete it from the cache and fetch it again")
            save_file(state, str(tmp))
            n_tensors = len(state)
    if n_tensors is None:
        from safetensors import safe_open

        with safe_open(out, "np") as fh:
            n_tensors = len(list(fh.keys()))
    info = {
        **{k: v for k, v in dataclasses.asdict(source).items() if k != "files"},
        "source": source.name, "file": path.name, "revision": _revision(path), "cached_path": os.fspath(path),
        "source_sha256": sha256_file(path), "sha256": sha256_file(out), "tensors": n_tensors, "downloaded": downloaded,
    }
    del info["name"]
    write_json(info_out, info)
    return info
