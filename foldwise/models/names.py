"""Backbone names by the data kind they read, listed in ``names.txt`` so that plans need not import timm.

``python -m foldwise.models.names`` rewrites the list from the installed timm and
the project's own nets (those registered in :mod:`foldwise.models.registry`);
``tests/test_plan_checks.py`` fails when it is out of date. Nothing here imports
torch or timm at import time.
"""

from __future__ import annotations

import functools
from pathlib import Path

NAMES_PATH = Path(__file__).parent / "names.txt"
# Plan-time copies of facts of registered video nets (tests/test_registry.py keeps them equal):
FRAME_NETS = ("frame_mean", "frame_tconv", "frame_tshift")  # video nets of a timm 2D encoder
FRAME_ENCODER = "resnet18"  # their default model_kwargs.encoder


@functools.cache
def backbone_names(path: Path = NAMES_PATH) -> tuple[dict[str, frozenset[str]], str | None]:
    """The backbone names of ``names.txt`` by data kind, and the timm version they were listed from."""
    sections: dict[str, set[str]] = {}
    current, version = None, None
    for line in path.read_text().splitlines():
        line = line.strip()
        if line.startswith("# timm "):
            version = line.split()[2]
        elif line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], set())
        elif line and not line.startswith("#") and current is not None:
            current.add(line)
    return {k: frozenset(v) for k, v in sections.items()}, version


def backbone_kind(backbone: str, names: dict[str, frozenset[str]]) -> str | None:
    """The data kind a backbone reads, or None when foldwise cannot build it."""
    for kind, known in names.items():
        if backbone in known:
            return kind
    arch = backbone.split(".", 1)[0]  # timm: 'resnet50.a1_in1k' is resnet50 with a pretrained tag
    return "images" if arch != backbone and arch in names.get("images", ()) else None


def registry() -> dict[str, list[str]]:
    """Every backbone name ``create_model`` accepts, by data kind (imports timm and torch: not for plan time).

    foldwise's own nets by the kind they registered for (:mod:`foldwise.models.registry`);
    ``images``: timm's models (deprecated names too) less those.
    """
    import timm
    from timm.models import _registry

    from foldwise.models import _builtin  # noqa: F401  (registers foldwise's own nets)
    from foldwise.models.registry import KINDS, list_models

    timm_names = set(timm.list_models()) | set(getattr(_registry, "_deprecated_models", {}))
    own = {kind: sorted(list_models(kind)) for kind in KINDS}
    return {"images": sorted(timm_names - set(list_models())), **own}


def render(names: dict[str, list[str]], timm_version: str) -> str:
    """The text of ``names.txt`` for names by data kind (as :func:`registry` returns them)."""
    lines = [
        "# Backbone names foldwise can build, by the data kind they read. The plan-time check",
        "# (foldwise.checks) reads this file instead of importing timm. Regenerate with",
        "# `python -m foldwise.models.names`; tests/test_plan_checks.py keeps it current.",
        f"# timm {timm_version}",
    ]
    for kind in sorted(names):
        lines += [f"[{kind}]", *names[kind]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    from importlib.metadata import version

    NAMES_PATH.write_text(render(registry(), version("timm")))
    print(f"wrote {NAMES_PATH}")
