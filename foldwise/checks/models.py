"""Checks of the models: defined at all, metrics and losses, backbone names, weights files, families."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from foldwise.checks.base import AN_KIND, Problem, problem, Context, _did_you_mean, _where, _missing_hint
from foldwise.classic.families import FAMILIES, FEATURES, OWN_FEATURES, TORCH, TORCH_KEYS, TORCH_KINDS, family_of
from foldwise.errors import FoldwiseError
from foldwise.models.names import backbone_kind, backbone_names

WEIGHT_SUFFIXES = (".pth", ".pt", ".bin", ".safetensors")


def _timm_knows(backbone: str, listed_version: str | None) -> bool:
    """Whether an installed timm other than the one names.txt lists has ``backbone`` (imports timm: rare path)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        if version("timm") == listed_version:
            return False
    except PackageNotFoundError:
        return False
    import timm

    return timm.is_model(backbone)


def _kind_examples(kind: str, names: dict[str, frozenset[str]]) -> str:
    known = sorted(names.get(kind, ()))
    return ", ".join(known) if len(known) <= 10 else "any timm model (timm.list_models()), e.g. resnet18, convnext_atto"


def backbone_problem(backbone: str, kind: str) -> str | None:
    """Why ``backbone`` cannot be trained on ``kind`` data, or None when it can."""
    names, listed = backbone_names()
    found = backbone_kind(backbone, names)
    if found == kind:
        return None
    if found is not None:
        return (f"'{backbone}' is {AN_KIND.get(found, found)} model, but data.kind is {kind}; "
                f"backbones for {kind}: {_kind_examples(kind, names)}")
    if ":" in backbone or "/" in backbone:
        return (f"'{backbone}' names a hub model, and hubs are never contacted: give a timm architecture "
                "name here and a local weights file in pretrained")
    if kind == "images" and _timm_knows(backbone, listed):
        return None
    hint = _did_you_mean(backbone, names.get(kind, ())) or _did_you_mean(backbone, set().union(*names.values()))
    return f"unknown backbone '{backbone}'" + (hint or f"; backbones for {kind}: {_kind_examples(kind, names)}")


def _backbones(ctx: Context) -> Iterator[Problem]:
    kind = ctx.config["data"]["kind"]
    for name, model in ctx.config["models"].items():
        # backbone has no default: a classic model has none; tabular: _families refuses nets
        if isinstance(model.get("backbone"), str) and kind in TORCH_KINDS:
            msg = backbone_problem(model["backbone"], kind)
            if msg:
                yield problem(f"models.{name}.backbone", msg)


def weights_file_problem(value: str) -> str | None:
    """Why ``value`` is not a readable weights file, or None when it is (reads its first bytes)."""
    path = Path(value)
    if not value:
        return "an empty path; false trains from scratch"
    if not path.exists():
        tilde = "; '~' is not expanded, give the full path" if value.startswith("~") else ""
        return f"weights file not found: {_where(path)}{tilde or _missing_hint(path)}"
    if path.is_dir():
        return f"{path} is a folder, not a weights file"
    if path.suffix not in WEIGHT_SUFFIXES:
        return f"{path} is not a weights file: expected {', '.join(WEIGHT_SUFFIXES)}"
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        return f"cannot read {path}: {exc.strerror}"
    if not head:
        return f"{path} is empty"
    if path.suffix == ".safetensors":
        size = int.from_bytes(head[:8], "little")
        ok = len(head) > 8 and 0 < size <= path.stat().st_size - 8 and head[8:9] == b"{"
    else:  # torch.save: a zip archive, or a pickle (protocol >= 2) in the legacy format
        ok = head.startswith(b"PK\x03\x04") or head[:1] == b"\x80"
    if ok:
        return None
    kind = "safetensors" if path.suffix == ".safetensors" else "torch"
    return f"{path} is not a {kind} weights file (it starts with {head[:12]!r}: a web page saved by a failed download?)"


def hub_weights_problem(model: dict, kind: str, results: str = ".") -> str | None:
    """Why a model's ``pretrained: true`` cannot be met, or None (imports timm or torchvision: hub configs only).

    Refused: a net without hub weights, a video ResNet narrower or wider than torchvision's,
    an unknown tag, and (``HF_HUB_OFFLINE=1``) weights that are neither in the hub cache nor
    fetched already under ``results/weights``. Never downloads.
    """
    from foldwise.models.weights import VIDEO_WEIGHTS, VIDEO_WIDTH, cached_file, hub_name, missing_message, offline
    from foldwise.models.weights import resolve_source

    if kind not in ("images", "video") or backbone_kind(model["backbone"], backbone_names()[0]) != kind:
        return None if kind in ("images", "video") else (
            f"true: {kind} nets have no hub weights; give the path of a weights file ({', '.join(WEIGHT_SUFFIXES)})")
    # .get stays: a public helper, also given a bare model spec (tests/test_weights.py); and model_kwargs is
    # free-form, so an unset width is the video constructor's, VIDEO_WIDTH, not a schema default
    width = (model.get("model_kwargs") or {}).get("width", VIDEO_WIDTH)
    if model["backbone"] in VIDEO_WEIGHTS and width != VIDEO_WIDTH:
        return f"true: torchvision's Kinetics weights fit model_kwargs.width {VIDEO_WIDTH} only, not {width}"
    try:
        source = resolve_source(hub_name(model))
    except FoldwiseError as exc:
        return f"true: {exc}"
    if offline() and cached_file(source) is None and not (Path(results) / source.path).is_file():
        return missing_message(source)
    return None


def _pretrained(ctx: Context) -> Iterator[Problem]:
    for name, model in ctx.config["models"].items():
        value, key = model["pretrained"], f"models.{name}.pretrained"
        if value is True and family_of(model) == TORCH and isinstance(model.get("backbone"), str):  # none: classic
            msg = hub_weights_problem(model, ctx.config["data"]["kind"])
            if msg:
                yield problem(key, msg)
        elif isinstance(value, str):
            msg = weights_file_problem(value)
            if msg:
                yield problem(key, msg)


def _models_defined(ctx: Context) -> Iterator[Problem]:
    if not ctx.config["models"]:
        yield problem("models", "define at least one model (name -> {backbone: ...})")


def _metrics_and_losses(ctx: Context) -> Iterator[Problem]:
    from foldwise.metrics import METRICS
    from foldwise.tasks import get_task

    cfg, task = ctx.config, get_task(ctx.config["task"])
    metrics = METRICS[task.name]
    pairs = [("metric", cfg["metric"])]
    pairs += [(f"ensembles.{n}.objective", e["objective"]) for n, e in cfg["ensembles"].items()]
    for key, value in pairs:
        if value not in metrics:
            yield problem(key, f"unknown metric '{value}' for task {task.name}; valid: {', '.join(sorted(metrics))}")
    for name, model in cfg["models"].items():
        if model["loss"] not in task.losses:
            yield problem(f"models.{name}.loss",
                          f"unknown loss '{model['loss']}' for task {task.name}; valid: {', '.join(task.losses)}")


def _families(ctx: Context) -> Iterator[Problem]:
    """Classic families: their data kinds and features, and no settings of another family."""
    kind = ctx.config["data"]["kind"]
    readers = [*([TORCH] if kind in TORCH_KINDS else []), *(f for f, spec in FAMILIES.items() if kind in spec.kinds)]
    for name, model in ctx.config["models"].items():
        family, key = family_of(model), f"models.{name}"
        if family == TORCH and kind not in TORCH_KINDS:
            yield problem(f"{key}.family", f"nets (family torch) read {' or '.join(TORCH_KINDS)}, but data.kind is "
                                           f"{kind}; families for {kind}: {', '.join(readers)}")
        if family != TORCH:
            for torch_key in TORCH_KEYS:
                if ctx.user_set("models", name, torch_key):
                    yield problem(f"{key}.{torch_key}", f"a setting of nets (family torch), but the family is "
                                                        f"{family}; its settings go under {key}.{family}")
            if kind not in FAMILIES[family].kinds:
                yield problem(f"{key}.family", f"{family} reads {' or '.join(FAMILIES[family].kinds)}, but "
                                               f"data.kind is {kind}; families for {kind}: {', '.join(readers)}")
        for other in FAMILIES:
            if other != family and ctx.user_set("models", name, other):
                yield problem(f"{key}.{other}", f"settings of family {other}, but the family is {family}; "
                                                f"set family: {other} or remove them")
        if family == TORCH or kind not in FAMILIES[family].kinds:
            continue
        hyper = model[family]  # every family's block is filled (default {}, then its own defaults)
        # only some families have a features key (lightgbm, logistic); the others read their own: "auto"
        features = hyper.get("features", "auto")
        if features != "auto" and kind not in FEATURES[features][1]:
            valid = ["auto", *(f for f, (_, kinds) in FEATURES.items() if kind in kinds and f not in OWN_FEATURES)]
            yield problem(f"{key}.{family}.features", f"'{features}' reads {' or '.join(FEATURES[features][1])}, "
                                                      f"but data.kind is {kind}; features for {kind}: "
                                                      f"{', '.join(valid)}")
        spec = FAMILIES[family]
        if spec.features and not spec.fixed_head and hyper["head"] == "ridge" and \
                model["class_weights"] == "balanced":
            yield problem(f"{key}.class_weights", f"balanced is not available with {family}'s ridge head; "
                                                  f"set {key}.{family}.head: logistic")
