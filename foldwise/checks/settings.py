"""Checks of settings that contradict each other: ensembles, epoch selection, the task, the data kind and
the training techniques."""

from __future__ import annotations

from typing import Iterator

from foldwise.checks.base import AN_KIND, Problem, problem, Context, _did_you_mean
from foldwise.kinds import KINDS

AUGMENT_SHARED = ("noise", "scale")
# Settings only one data kind reads (foldwise.kinds): set for another kind they would be silently ignored.
KIND_ONLY = {name: {"data": kind.data_keys, "augment": kind.augment, "model": ()} for name, kind in KINDS.items()}


def _ensemble_weights(ctx: Context) -> Iterator[Problem]:
    for name, ens in ctx.config["ensembles"].items():
        key, weights = f"ensembles.{name}.weights", ens["weights"]
        members = list(ctx.config["models"]) if ens["members"] is None else list(ens["members"])
        if ens["method"] == "given":
            weights = weights or {}
            missing = [m for m in members if m not in weights]
            extra = [m for m in weights if m not in members]
            if missing or extra or sum(weights.values()) <= 0:
                yield problem(key, f"method 'given' needs one non-negative weight per member ({', '.join(members)}) "
                                   f"with a positive sum; missing: {missing or 'none'}, not members: {extra or 'none'}")
        elif weights is not None:
            yield problem(key, f"used only by method 'given' (the method is '{ens['method']}'); "
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
        select = model["select_epoch"]
        if select == "last" and model["patience"] is not None:
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
                          f"{AN_KIND[other]} setting, but data.kind is {kind}; set data.kind: {other} or remove it")
    for name, model in ctx.config["models"].items():
        for key in (k for k in KIND_ONLY[other]["augment"] if k not in mine["augment"]):
            if ctx.user_set("models", name, "augment", key) and model["augment"][key] > 0:
                yield problem(f"models.{name}.augment.{key}",
                              f"{AN_KIND[other]} augmentation, but data.kind is {kind}; augmentations for {kind}: {own}")
        for key in (k for k in KIND_ONLY[other]["model"] if k not in mine["model"]):
            if model.get(key):
                yield problem(f"models.{name}.{key}", f"{AN_KIND[other]} setting, but data.kind is {kind}; remove it")


def _techniques(ctx: Context) -> Iterator[Problem]:
    """Training techniques: test-time views, pseudo-labels, mixing, the weight average, freezing, ArcFace."""
    from foldwise.train.tta import VIEWS_BY_KIND  # tta.py imports torch only where a view runs

    kind, task = ctx.config["data"]["kind"], ctx.config["task"]
    for name, model in ctx.config["models"].items():
        key, epochs = f"models.{name}", model["epochs"]
        views = list(model["tta"])
        for i, view in enumerate(views):
            if view in views[:i]:
                yield problem(f"{key}.tta", f"'{view}' is listed twice")
            elif view not in VIEWS_BY_KIND.get(kind, ()):
                other = next(k for k, v in VIEWS_BY_KIND.items() if view in v)
                yield problem(f"{key}.tta", f"'{view}' is {AN_KIND[other]} view, but data.kind is {kind}; "
                                            f"views for {kind}: {', '.join(VIEWS_BY_KIND.get(kind, ())) or 'none'}")
        for setting, view in (("tta_shift", "shift"), ("tta_roll", "roll")):
            if ctx.user_set("models", name, setting) and view not in views:
                yield problem(f"{key}.{setting}", f"used only by the '{view}' view, which tta does not list")
        if ctx.user_set("models", name, "pseudo") and not model["teacher"]:
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
