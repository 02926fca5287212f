"""Plan-time checks: every config value a user can get wrong, found before any job runs.

:func:`foldwise.config.validate` runs these after the schema, and the Snakefile
runs ``validate`` while it plans the DAG, so ``snakemake -n``, ``--lint`` and
every real run report all problems at once, each naming its config key. A check
takes a :class:`Context` and yields :class:`Problem` s.

Kept cheap: nothing here imports torch or timm (backbone names come from
``foldwise/models/names.txt``, see :mod:`foldwise.models.names`), and data files
are read no further than their first rows.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, NamedTuple

from foldwise.classic.families import FAMILIES, FEATURES, TORCH, TORCH_KEYS, TORCH_KINDS, family_of
from foldwise.models.names import backbone_kind, backbone_names

HEAD_ROWS = 5  # rows of each table read to try the image templates
WEIGHT_SUFFIXES = (".pth", ".pt", ".bin", ".safetensors")
AUGMENT_SHARED = ("noise", "scale")
_AN = {"images": "an image", "timeseries": "a time-series", "tabular": "a tabular", "video": "a video"}
# Settings only one data kind reads: set for the other kind they would be silently ignored.
KIND_ONLY = {
    "images": {
        "data": ("train_images", "test_images", "channels"),
        "augment": ("hflip", "vflip", "shift", "rotate", "cutout", "blur", "blur_sigma", "jpeg", "jpeg_quality",
                    "brightness", "contrast"),
        "model": (),
    },
    "timeseries": {
        "data": ("train_series", "test_series", "step_col", "series_channels", "series_length", "derived_channels"),
        "augment": ("roll",),
        "model": (),
    },
    "tabular": {"data": ("feature_cols", "categorical_cols"), "augment": (), "model": ()},
    "video": {  # frames are augmented as images, the same for every frame of a clip
        "data": ("train_videos", "test_videos", "frames", "channels"),
        "augment": ("hflip", "vflip", "shift", "rotate", "cutout", "blur", "blur_sigma", "jpeg", "jpeg_quality",
                    "brightness", "contrast"),
        "model": (),
    },
}


class Problem(NamedTuple):
    """One thing to fix: the config key at fault and the whole message, which names it."""

    key: str
    text: str


def problem(key: str, message: str) -> Problem:
    """A problem worded ``config key '<key>': <message>``."""
    return Problem(key, f"config key '{key}': {message}")


@dataclass(frozen=True)
class Context:
    """What the checks see: the config with defaults filled, and as the user wrote it."""

    config: dict
    raw: dict
    schema: dict

    def user_set(self, *path: str) -> bool:
        """Whether the user wrote the key at ``path`` (rather than the schema's default)."""
        node = self.raw
        for part in path:
            if not isinstance(node, dict) or part not in node:
                return False
            node = node[part]
        return True


def _quoted(names: Iterable[str]) -> str:
    names = [f"'{n}'" for n in names]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _did_you_mean(name: str, candidates: Iterable[str], n: int = 3) -> str:
    close = difflib.get_close_matches(name.lower(), list(candidates), n=n, cutoff=0.6)
    return f" (did you mean {_quoted(close)}?)" if close else ""


def _where(path: Path) -> str:
    return str(path) if path.is_absolute() else f"{path} (relative to the working directory {Path.cwd()})"


def _missing_hint(path: Path, what: str = "file", taken: Iterable[Path] = ()) -> str:
    """Why ``path`` (a file or folder) is not there: its first missing folder, or a near miss beside it.

    ``taken``: files the config already names for something else, never suggested.
    """
    while not path.parent.is_dir() and path.parent != path.parent.parent:
        path, what = path.parent, "folder"
    try:
        siblings = [s for s in os.listdir(path.parent) if path.parent / s not in set(taken)]
    except OSError:
        return ""
    same_stem = [s for s in siblings if Path(s).stem == path.stem and s != path.name]
    if same_stem:
        return f"; {path.parent} holds {same_stem[0]} (another extension?)"
    close = []
    if len(siblings) <= 5000:  # a file is compared by stem with the files of its extension
        same_suffix = [s for s in siblings if Path(s).suffix == path.suffix]
        by_name = {Path(s).stem: s for s in same_suffix} if path.suffix else {s: s for s in siblings}
        name = path.stem if path.suffix else path.name
        close = [by_name[c] for c in difflib.get_close_matches(name, list(by_name), n=3)]
    hint = f" (did you mean {_quoted(close)}?)" if close else ""
    return f"; no {what} {path.name} in {path.parent}{hint}"


# ----- models -----


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
        return (f"'{backbone}' is {_AN.get(found, found)} model, but data.kind is {kind}; "
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
        if isinstance(model.get("backbone"), str) and kind in TORCH_KINDS:  # tabular: _families refuses nets
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


def _pretrained(ctx: Context) -> Iterator[Problem]:
    for name, model in ctx.config["models"].items():
        value, key = model.get("pretrained", False), f"models.{name}.pretrained"
        if value is True:
            yield problem(key, "true would download weights from a hub, which foldwise never contacts; "
                               f"give the path of a local weights file ({', '.join(WEIGHT_SUFFIXES)})")
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
        if model.get("loss") not in task.losses:
            yield problem(f"models.{name}.loss",
                          f"unknown loss '{model.get('loss')}' for task {task.name}; valid: {', '.join(task.losses)}")


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
        hyper = model.get(family) or {}
        features = hyper.get("features", "auto")
        if features != "auto" and kind not in FEATURES[features][1]:
            valid = ["auto", *(f for f, (_, kinds) in FEATURES.items() if kind in kinds)]
            yield problem(f"{key}.{family}.features", f"'{features}' reads {' or '.join(FEATURES[features][1])}, "
                                                      f"but data.kind is {kind}; features for {kind}: "
                                                      f"{', '.join(valid)}")
        if hyper.get("head", "ridge") == "ridge" and FAMILIES[family].features and \
                model.get("class_weights") == "balanced":
            yield problem(f"{key}.class_weights", f"balanced is not available with {family}'s ridge head; "
                                                  f"set {key}.{family}.head: logistic")


# ----- references between named entries -----


class Reference(NamedTuple):
    """A config field by which an entry names other entries (or, with section None, a top-level list).

    ``special``: words the field accepts besides entry names (``best`` in submissions).
    """

    section: str | None
    field: str
    targets: tuple[str, ...]
    allow_empty: bool = False
    special: tuple[str, ...] = ()


# Sections whose entries share one namespace (wildcards, submissions, the leaderboard). A model-to-model
# reference (a teacher, a stacker's inputs) is one more Reference line; cycles are found generically.
NAMED_SECTIONS = ("models", "ensembles")
REFERENCES = (
    Reference("ensembles", "members", ("models", "ensembles")),  # ensembles of ensembles: cycles checked
    Reference("models", "teacher", ("models", "ensembles")),
    Reference(None, "submissions", ("models", "ensembles"), allow_empty=True, special=("best",)),
)
_SINGULAR = {"models": "a model", "ensembles": "an ensemble"}


def reference_problems(config: dict, references: tuple[Reference, ...] = REFERENCES) -> list[Problem]:
    """Unknown, repeated or cyclic names in the fields of ``references``, and names used twice."""
    out, owner = [], {}
    for section in NAMED_SECTIONS:
        for name in config.get(section) or {}:
            if name in owner:
                out.append(problem(f"{section}.{name}", f"the name is already used by {_SINGULAR[owner[name]]}"))
            owner.setdefault(name, section)
    edges: dict[tuple[str, str], list[tuple[tuple[str, str], str]]] = {}  # node -> [(node, field)]
    for ref in references:
        entries = {None: config} if ref.section is None else config.get(ref.section) or {}
        for name, entry in entries.items():
            value = entry.get(ref.field)
            if value is None:
                continue
            key = ref.field if ref.section is None else f"{ref.section}.{name}.{ref.field}"
            names = [value] if isinstance(value, str) else list(value)
            if not names and not ref.allow_empty:
                out.append(problem(key, "empty list"))
            valid = list(dict.fromkeys(n for s in ref.targets for n in config.get(s) or {}))
            for i, target in enumerate(names):
                if target in names[:i]:
                    out.append(problem(key, f"'{target}' is listed twice"))
                elif target in ref.special and target in owner:
                    out.append(problem(key, f"'{target}' is ambiguous: {_SINGULAR[owner[target]]} has that name; "
                                            f"rename {owner[target]}.{target}"))
                elif target in ref.special:
                    continue
                elif target not in valid:
                    what = " or ".join(_SINGULAR.get(s, s) for s in ref.targets)
                    out.append(problem(key, f"'{target}' is not {what}{_did_you_mean(target, valid)}; "
                                            f"names: {', '.join(valid) or 'none'}"))
                elif ref.section is not None:
                    edges.setdefault((ref.section, name), []).append(((owner[target], target), ref.field))
    return out + _cycle_problems(edges)


def _cycle_problems(edges: dict) -> list[Problem]:
    """One problem per reference cycle, at the reference that closes it (depth-first search)."""
    state, out = {}, []

    def visit(node, trail):
        state[node] = "open"  # on the current path, which is trail
        for nxt, field in edges.get(node, []):
            if state.get(nxt) == "open":
                loop = " -> ".join(n for _, n in trail[trail.index(nxt):] + [nxt])
                out.append(problem(f"{node[0]}.{node[1]}.{field}", f"reference cycle: {loop}"))
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = "done"

    for node in list(edges):
        if node not in state:
            visit(node, [node])
    return out


def _references(ctx: Context) -> list[Problem]:
    # An ensemble without members combines every model: spell them out, so that a cycle through it
    # (a student taught by an ensemble of all models, itself included) is found like any other.
    config = dict(ctx.config)
    config["ensembles"] = {
        name: {**ens, "members": list(config["models"]) if ens.get("members") is None else ens["members"]}
        for name, ens in (config.get("ensembles") or {}).items()
    }
    return reference_problems(config)


# ----- settings that contradict each other -----


def _ensemble_weights(ctx: Context) -> Iterator[Problem]:
    for name, ens in ctx.config["ensembles"].items():
        key, weights = f"ensembles.{name}.weights", ens.get("weights")
        members = list(ctx.config["models"]) if ens.get("members") is None else list(ens["members"])
        if ens.get("method") == "given":
            weights = weights or {}
            missing = [m for m in members if m not in weights]
            extra = [m for m in weights if m not in members]
            if missing or extra or sum(weights.values()) <= 0:
                yield problem(key, f"method 'given' needs one non-negative weight per member ({', '.join(members)}) "
                                   f"with a positive sum; missing: {missing or 'none'}, not members: {extra or 'none'}")
        elif weights is not None:
            yield problem(key, f"used only by method 'given' (the method is '{ens.get('method')}'); "
                               "set method: given or remove the weights")


def _unused(ctx: Context, path: tuple[str, ...], used: bool, by: str, now: str) -> Iterator[Problem]:
    """A key the user set although the setting it belongs to (``by``, now ``now``) is off: it would be ignored."""
    if ctx.user_set(*path) and not used:
        yield problem(".".join(path), f"used only by {by} (it is '{now}'); set it or remove this key")


def _ensemble_settings(ctx: Context) -> Iterator[Problem]:
    metric = ctx.config["metric"]
    for name, ens in ctx.config["ensembles"].items():
        method, combiner, key = ens["method"], ens["combiner"], f"ensembles.{name}"
        stack = method == "stack"
        if stack and combiner != "mean":
            yield problem(f"{key}.combiner", "not used by method 'stack' (its learner combines the members); "
                                             "remove it or choose another method")
        if not stack:
            yield from _unused(ctx, ("ensembles", name, "power"), combiner == "power", "combiner: power", combiner)
        for field in ("stacker", "stacker_params"):
            yield from _unused(ctx, ("ensembles", name, field), stack, "method: stack", method)
        if combiner == "rank" and not stack:
            for what, value in ((f"{key}.objective", ens["objective"]), ("metric", metric)):
                if value == "log_loss":
                    yield problem(what, f"log_loss cannot score ranks (ensemble '{name}' has combiner: rank); "
                                        "use an order-based metric such as roc_auc")
        if stack:
            msg = stacker_problem(ens["stacker"], ens["stacker_params"])
            if msg:
                yield problem(f"{key}.{msg[0]}", msg[1])


def stacker_problem(learner: str, params: dict) -> tuple[str, str] | None:
    """(field, why) when ``learner`` cannot be imported or refuses ``params``; None when it builds."""
    from foldwise.ensemble.stacking import load_learner

    try:
        cls = load_learner(learner)
    except ValueError as exc:
        return "stacker", str(exc)
    try:
        valid = sorted(cls().get_params())
    except Exception:  # noqa: BLE001 - a learner that cannot be built without arguments: try the params
        valid = None
    unknown = [k for k in params if valid is not None and k not in valid]
    if unknown:
        same = {v.lower(): v for v in valid}
        hints = [f"'{k}'" + (f" (did you mean '{same[k.lower()]}'?)" if k.lower() in same else _did_you_mean(k, valid, 1))
                 for k in unknown]
        return "stacker_params", f"{learner} has no parameter {', '.join(hints)}; valid: {', '.join(valid)}"
    try:
        cls(**params)
    except (TypeError, ValueError) as exc:
        return "stacker_params", f"{learner} refuses {params}: {exc}"
    return None


def _epoch_selection(ctx: Context) -> Iterator[Problem]:
    for name, model in ctx.config["models"].items():
        select = model.get("select_epoch", "best")
        if select == "last" and model.get("patience") is not None:
            yield problem(f"models.{name}.patience",
                          "early stopping watches the validation rows, which select_epoch: last keeps out of "
                          "every choice; use select_epoch: inner (early stopping on an inner split) or remove it")
        yield from _unused(ctx, ("models", name, "inner_fraction"), select == "inner", "select_epoch: inner", select)


def _task_settings(ctx: Context) -> Iterator[Problem]:
    cfg = ctx.config
    task, data, scheme = cfg["task"], cfg["data"], cfg["folds"]["scheme"]
    if data["kind"] == "tabular" and not data["test_csv"]:
        yield problem("data.test_csv", "data.kind tabular reads the test rows' features from it; give the file")
    if data["label_cols"] is not None and task != "multilabel":
        yield problem("data.label_cols", "only for task multilabel")
    if scheme in ("group", "stratified_group") and not data["group_col"]:
        yield problem("folds.scheme", f"'{scheme}' needs data.group_col (the column of groups)")
    if scheme == "stratified_group" and task == "multilabel":
        yield problem("folds.scheme", "'stratified_group' is not available for task multilabel; use group")
    if ctx.user_set("multilabel", "fixed_threshold") and cfg["multilabel"]["threshold"] != "fixed":
        yield problem("multilabel.fixed_threshold",
                      f"used only by multilabel.threshold: fixed (it is '{cfg['multilabel']['threshold']}')")


def _kind_settings(ctx: Context) -> Iterator[Problem]:
    kind = ctx.config["data"]["kind"]
    own = ", ".join([*KIND_ONLY[kind]["augment"], *AUGMENT_SHARED])
    skip = {part: set(keys) for part, keys in KIND_ONLY[kind].items()}
    for other in (k for k in KIND_ONLY if k != kind):
        yield from _other_kind_settings(ctx, kind, other, own, skip)
        for part, keys in KIND_ONLY[other].items():  # each key reported once, for the first kind that reads it
            skip[part].update(keys)


def _other_kind_settings(ctx: Context, kind: str, other: str, own: str, mine: dict) -> Iterator[Problem]:
    """Settings that ``other`` reads and ``mine`` (``kind``'s, and those already reported) does not."""
    data_defaults = ctx.schema["properties"]["data"]["properties"]
    for key in (k for k in KIND_ONLY[other]["data"] if k not in mine["data"]):
        if ctx.user_set("data", key) and ctx.config["data"][key] != data_defaults[key].get("default"):
            yield problem(f"data.{key}",
                          f"{_AN[other]} setting, but data.kind is {kind}; set data.kind: {other} or remove it")
    for name, model in ctx.config["models"].items():
        for key in (k for k in KIND_ONLY[other]["augment"] if k not in mine["augment"]):
            if ctx.user_set("models", name, "augment", key) and model["augment"][key] > 0:
                yield problem(f"models.{name}.augment.{key}",
                              f"{_AN[other]} augmentation, but data.kind is {kind}; augmentations for {kind}: {own}")
        for key in (k for k in KIND_ONLY[other]["model"] if k not in mine["model"]):
            if model.get(key):
                yield problem(f"models.{name}.{key}", f"{_AN[other]} setting, but data.kind is {kind}; remove it")


def _techniques(ctx: Context) -> Iterator[Problem]:
    """Training techniques: test-time views, pseudo-labels, mixing, the weight average, freezing, ArcFace."""
    from foldwise.train.tta import VIEWS_BY_KIND  # tta.py imports torch only where a view runs

    kind, task = ctx.config["data"]["kind"], ctx.config["task"]
    for name, model in ctx.config["models"].items():
        key, epochs = f"models.{name}", model.get("epochs", 1)
        views = list(model.get("tta") or [])
        for i, view in enumerate(views):
            if view in views[:i]:
                yield problem(f"{key}.tta", f"'{view}' is listed twice")
            elif view not in VIEWS_BY_KIND.get(kind, ()):
                other = next(k for k, v in VIEWS_BY_KIND.items() if view in v)
                yield problem(f"{key}.tta", f"'{view}' is {_AN[other]} view, but data.kind is {kind}; "
                                            f"views for {kind}: {', '.join(VIEWS_BY_KIND.get(kind, ())) or 'none'}")
        for setting, view in (("tta_shift", "shift"), ("tta_roll", "roll")):
            if ctx.user_set("models", name, setting) and view not in views:
                yield problem(f"{key}.{setting}", f"used only by the '{view}' view, which tta does not list")
        if ctx.user_set("models", name, "pseudo") and not model.get("teacher"):
            yield problem(f"{key}.pseudo", "used only with a teacher (models.<name>.teacher: a model or ensemble)")
        mix = model["mix"]
        mixing = mix["mixup_alpha"] > 0 or mix["cutmix_alpha"] > 0
        if mix["cutmix_alpha"] > 0 and kind in ("timeseries", "video"):
            yield problem(f"{key}.mix.cutmix_alpha", f"CutMix pastes image rectangles, but data.kind is {kind}; "
                                                     f"use mix.mixup_alpha for {'series' if kind == 'timeseries' else 'clips'}")
        if not mixing and any(ctx.user_set("models", name, "mix", k) for k in mix):
            yield problem(f"{key}.mix", "no effect: mixing is on only when mixup_alpha or cutmix_alpha is above 0")
        elif mixing and mix["off_last_epochs"] >= epochs:
            yield problem(f"{key}.mix.off_last_epochs", f"{mix['off_last_epochs']} leaves no epoch with mixing "
                                                        f"(epochs is {epochs})")
        if ctx.user_set("models", name, "ema", "warmup") and model["ema"]["decay"] == 0:
            yield problem(f"{key}.ema.warmup", "used only with ema.decay above 0 (0 = no weight average)")
        freeze = model["freeze"]
        if freeze["epochs"] >= epochs:
            yield problem(f"{key}.freeze.epochs", f"{freeze['epochs']} freezes every epoch (epochs is {epochs}); "
                                                  "the frozen part would never train")
        if freeze["modules"] is not None and not freeze["modules"]:
            yield problem(f"{key}.freeze.modules", "empty list; null freezes everything but the head")
        if kind == "video" and freeze["epochs"] > 0 and freeze["modules"] is None:
            yield problem(f"{key}.freeze.modules", "video models do not name their head; list the parameter-name "
                                                   "prefixes to freeze (e.g. [net.encoder])")
        head = model["head"]
        if head["kind"] == "arcface" and kind == "video":
            yield problem(f"{key}.head.kind", "arcface is not available for video models")
        elif head["kind"] == "arcface" and task != "multiclass":
            yield problem(f"{key}.head.kind", f"arcface predicts one class per row, but the task is {task}")
        if head["kind"] != "arcface":
            for k in ("embedding_size", "scale", "margin", "neighbours"):
                if ctx.user_set("models", name, "head", k):
                    yield problem(f"{key}.head.{k}", "used only by head kind: arcface")


# ----- data files -----


def _needed_columns(data: dict, task: str) -> dict[str, list[tuple[str, str]]]:
    """Data key of each table -> (config key, column) pairs that table must have."""
    label_cols = data["label_cols"] if task == "multilabel" else None  # else refused by _task_settings
    targets = [("data.label_cols", c) for c in label_cols] if label_cols else [("data.target_col", data["target_col"])]
    ident = [("data.id_col", data["id_col"])]
    need = {"train_csv": ident + targets, "sample_submission": ident, "test_csv": ident, "solution": ident + targets}
    if data["group_col"]:
        need["train_csv"].append(("data.group_col", data["group_col"]))
    series = ident + ([("data.step_col", data["step_col"])] if data["step_col"] else [])
    series += [("data.series_channels", c) for c in data["series_channels"] or []]
    if data["kind"] == "timeseries":
        need.update(train_series=series, test_series=series)
    if data["kind"] == "tabular" and data["feature_cols"]:
        features = [("data.feature_cols", c) for c in data["feature_cols"]]
        need["train_csv"] = need["train_csv"] + features
        need["test_csv"] = need["test_csv"] + features
    return need


def _data_files(ctx: Context) -> Iterator[Problem]:
    import pandas as pd

    data = ctx.config["data"]
    root = Path(data["dir"])
    if not root.is_dir():
        yield problem("data.dir", f"{'not a folder' if root.exists() else 'folder not found'}: {_where(root)}"
                                  f"{_missing_hint(root, 'folder') if not root.exists() else ''}")
        return
    heads, needed = {}, _needed_columns(data, ctx.config["task"])
    taken = [root / data[k] for k in needed if data[k]]
    for file_key, columns in needed.items():
        if data[file_key] is None:
            continue
        path = root / data[file_key]
        if not path.is_file():
            yield problem(f"data.{file_key}", f"file not found: {path}{_missing_hint(path, taken=taken)}")
            continue
        try:
            head = pd.read_csv(
                path, nrows=HEAD_ROWS, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig"
            )
            heads[file_key] = head = head.rename(columns=lambda c: str(c).strip())  # as foldwise.io.read_csv reads
        except Exception as exc:  # noqa: BLE001 - pandas raises many kinds for a bad file
            yield problem(f"data.{file_key}", f"{path} cannot be read as CSV: {str(exc).strip()}")
            continue
        for key, col in columns:
            if col not in head.columns:  # worded as the tables rule words it
                found = ", ".join(head.columns)
                yield Problem(key, f"{path}: no column '{col}' (config key {key}); columns are: {found}")
    if data["kind"] in ("images", "video"):
        yield from _templates(data, root, heads)


def _templates(data: dict, root: Path, heads: dict) -> Iterator[Problem]:
    """Each image template, resolved for the first rows of its table: do those files exist?"""
    from foldwise.data.tables import resolve_template
    from foldwise.errors import FoldwiseError

    test_ids = "test_csv" if data["test_csv"] else "sample_submission"  # test_csv may hold the path columns
    sources = {"train": heads.get("train_csv"), "test": heads.get(test_ids)}
    for split, table in sources.items():
        what = "videos" if data["kind"] == "video" else "images"  # a clip: a file or a frame folder
        key, template = f"data.{split}_{what}", data[f"{split}_{what}"]
        if table is None or data["id_col"] not in table.columns or table.empty:
            continue  # reported above, or nothing to try
        try:
            paths = [root / p for p in resolve_template(template, table, data["id_col"], key)]
        except FoldwiseError as exc:
            yield problem(key, str(exc).removeprefix(f"config key {key}: "))
            continue
        missing = [p for p in paths if not (p.exists() if what == "videos" else p.is_file())]
        if len(missing) == len(paths):
            yield problem(key, f"template '{template}' matches none of the first {len(paths)} {split} ids "
                               f"(looked for {missing[0]}){_missing_hint(missing[0])}")
        elif missing:
            yield problem(key, f"{len(missing)} of the first {len(paths)} {split} {what} are missing, "
                               f"e.g. {missing[0]}")


# ----- running them -----

Check = Callable[[Context], Iterable[Problem]]
CONFIG_CHECKS: tuple[Check, ...] = (
    _models_defined, _metrics_and_losses, _backbones, _families, _references, _ensemble_weights, _ensemble_settings,
    _epoch_selection, _task_settings, _kind_settings, _techniques,
)
FILE_CHECKS: tuple[Check, ...] = (_pretrained, _data_files)


def run_checks(config: dict, raw: dict, schema: dict, files: bool = True, tolerant: bool = False) -> list[Problem]:
    """Every problem of a schema-validated config, in check order.

    Args:
        config: the config with defaults filled (by :func:`foldwise.config.validate`).
        raw: the config as the user wrote it, to tell a set value from a default.
        schema: the config schema (for defaults).
        files: also check the files the config names (relative to the working directory).
        tolerant: the schema found errors: a check that trips over a malformed value is skipped,
            since the schema error already names it.
    """
    ctx, out = Context(config, raw if isinstance(raw, dict) else {}, schema), []
    for check in CONFIG_CHECKS + (FILE_CHECKS if files else ()):
        try:
            out.extend(check(ctx))
        except (KeyError, TypeError, AttributeError, ValueError):
            if not tolerant:
                raise
    return out
