"""What a training run started from: the weights record of its run manifest, its hash and its leaderboard cell.

Plumbing (outside every code hash): the SHA-256 itself enters the config hash through the train
job's settings, so editing this module re-runs nothing.
"""

from __future__ import annotations


def weights_record(settings: dict, info: dict | None) -> dict | None:
    """What a model started from, for its run manifest: the fetched file's record, a local file, or None.

    Args:
        settings: the train job's settings (``pretrained``, ``pretrained_sha256``).
        info: the ``weights`` job's record when the model uses hub weights.
    """
    if info is not None:
        keys = ("source", "library", "repository", "revision", "file", "url", "license", "sha256")
        return {k: info.get(k) for k in keys}
    if isinstance(settings.get("pretrained"), str) and settings["pretrained"]:
        return {"source": "file", "file": settings["pretrained"], "sha256": settings.get("pretrained_sha256")}
    return None


def with_weights_sha(settings: dict, info: dict | None) -> dict:
    """The settings with the fetched file's SHA-256 as ``pretrained_sha256`` (enters the config hash)."""
    return {**settings, "pretrained_sha256": info["sha256"]} if info is not None else dict(settings)


def weights_label(record: dict | None) -> str:
    """One leaderboard cell: ``timm/resnet18.a1_in1k@<rev> sha256:<12>``, ``file <path> sha256:<12>`` or ``scratch``."""
    if not record:
        return "scratch"
    sha = f" sha256:{str(record.get('sha256') or '')[:12]}"
    if record.get("source") == "file":
        return f"file {record['file']}{sha}"
    where = record["repository"] if record.get("library") == "timm" else f"torchvision {record['source']}"
    revision = f"@{record['revision'][:8]}" if record.get("revision") else ""
    return f"{where}{revision}{sha}"
