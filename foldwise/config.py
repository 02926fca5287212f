"""Config validation and the typed views the rules and scripts use.

Nothing here imports torch: the Snakefile imports this module while it builds the DAG.
"""

from __future__ import annotations

import copy
import difflib
from pathlib import Path
from typing import Any

import yaml

from foldwise.errors import FoldwiseError

SCHEMA_PATH = Path(__file__).parent / "schemas" / "config.schema.yaml"


def load_schema(path: str | Path = SCHEMA_PATH) -> dict:
    """Load the JSON schema (YAML syntax) of the config."""
    with open(path) as fh:
        return yaml.safe_load(fh)


def _validator_class():
    from jsonschema import Draft202012Validator, validators

    validate_properties = Draft202012Validator.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return validators.extend(Draft202012Validator, {"properties": set_defaults})


# Keys that were removed, with what replaces them (see the README's migration notes).
REPLACED = {"tta_hflip": "replaced by 'tta: [hflip]' in foldwise 0.3"}


def _format_error(err) -> str:
    where = ".".join(str(p) for p in err.absolute_path) or "<top level>"
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        allowed = sorted(err.schema.get("properties", {}))
        unknown = [k for k in err.instance if k not in allowed]
        hints = []
        for key in unknown:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = REPLACED.get(key) or (f"did you mean '{close[0]}'?" if close else "")
            hints.append(f"'{key}'" + (f" ({hint})" if hint else ""))
        return f"config key '{where}': unknown key {', '.join(hints)}; valid keys: {', '.join(allowed)}"
    return f"config key '{where}': {err.message}"


class ConfigError(FoldwiseError):
    """Everything wrong with a config, one problem per line; ``problems`` holds the lines."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(self.problems[0] if len(self.problems) == 1 else f"{len(self.problems)} problems:\n{lines}")


def validate(config: dict, schema_path: str | Path = SCHEMA_PATH, *, files: bool = False) -> dict:
    """Validate ``config`` in place against the schema and :mod:`foldwise.checks`, filling every default.

    Args:
        config: the loaded config mapping (modified in place; ``auto`` metric and losses resolved).
        schema_path: the schema file.
        files: also check the files the config names, relative to the working directory
            (``rules/common.smk`` does, so that every plan checks them).

    Returns:
        The same ``config``, with defaults filled in.

    Raises:
        ConfigError: listing every problem, schema errors first, each naming its config key.
    """
    if config is None:
        raise FoldwiseError("config is empty: give at least data and models (see docs/config.md)")
    from foldwise.checks import run_checks

    raw = copy.deepcopy(config)
    schema = load_schema(schema_path)
    validator = _validator_class()(schema)
    # First pass fills defaults; the second reports against the filled config.
    errors = list(validator.iter_errors(config))
    if not errors:
        errors = list(validator.iter_errors(config))
    errors.sort(key=lambda e: _position(config, e.absolute_path))  # jsonschema's order varies between runs
    problems = list(dict.fromkeys(_format_error(e) for e in errors))
    try:
        _resolve_auto(config)
        _share_image_size(config, raw)
    except (KeyError, TypeError, AttributeError):
        if not errors:
            raise
    problems += [p.text for p in run_checks(config, raw, schema, files=files, tolerant=bool(errors))]
    if problems:
        raise ConfigError(problems)
    return config


def _position(config: Any, path) -> list[int]:
    """Where ``path`` is in ``config``: the index of each key in its mapping (the order the user wrote)."""
    out, node = [], config
    for part in path:
        keys = list(node) if isinstance(node, dict) else list(range(len(node))) if isinstance(node, list) else []
        out.append(keys.index(part) if part in keys else len(keys))
        node = node[part] if part in keys else None
    return out


def _resolve_auto(config: dict) -> None:
    """Replace ``metric: auto`` and ``loss: auto`` by the task's defaults."""
    from foldwise.tasks import get_task

    task = get_task(config["task"])
    if config["metric"] == "auto":
        config["metric"] = task.default_metric
    for model in config["models"].values():
        if model.get("loss") == "auto":
            model["loss"] = task.default_loss


def _share_image_size(config: dict, raw: dict) -> None:
    """A classic model on images without its own ``img_size`` reads the nets' cache (the smallest net size):
    one cache for all, instead of a 224² one that its pooled pixels would not use."""
    if config["data"]["kind"] != "images":
        return
    from foldwise.classic.families import is_classic

    models, written = config["models"], raw.get("models") or {}
    net_sizes = [m["img_size"] for m in models.values() if not is_classic(m)]
    for name, model in models.items():
        if net_sizes and is_classic(model) and "img_size" not in (written.get(name) or {}):
            model["img_size"] = min(net_sizes)


def ensemble_members(config: dict, name: str) -> list[str]:
    """The model names an ensemble combines (all models when ``members`` is null)."""
    members = config["ensembles"][name]["members"]
    return list(config["models"]) if members is None else list(members)


BEST = "best"  # submissions: best -> results/submissions/best.csv, picked by honest CV


def _requested_submissions(config: dict) -> list[str]:
    value = config["submissions"]
    return [value] if isinstance(value, str) else list(value)


def submission_names(config: dict) -> list[str]:
    """Models and ensembles that get a submission file of their own (not ``best``)."""
    if config["submissions"] is None:
        return list(config["models"]) + list(config["ensembles"])
    return [n for n in _requested_submissions(config) if n != BEST]


def wants_best_submission(config: dict) -> bool:
    """Whether ``submissions`` asks for ``best``: the model or ensemble with the best honest CV."""
    return config["submissions"] is not None and BEST in _requested_submissions(config)


def model_settings(config: dict, name: str) -> dict[str, Any]:
    """Everything that determines one model's training, for its params and config hash.

    Only the keys the model's family reads (``foldwise.classic.families.model_keys``):
    a net's settings are unchanged by the classic families' keys, and a classic
    model's carry none of the nets' defaults.
    """
    from foldwise.classic.families import model_keys

    settings = {
        "model": name,
        "task": config["task"],
        "kind": config["data"]["kind"],
        "metric": config["metric"],
        "seed": config["seed"],
        "deterministic": config["deterministic"],
        **copy.deepcopy(model_keys(config["models"][name])),
    }
    # The DAG's levers shape which jobs run and what the gather averages, not one job's training:
    # out of the settings, so seeds: 1 and refit: none leave every job's params and config hash as they were.
    for key in LEVER_KEYS:
        settings.pop(key, None)
    if isinstance(settings.get("pseudo"), dict):
        settings["pseudo"].pop("source", None)  # which teacher file a student reads: its input, not a setting
    return settings


LEVER_KEYS = ("seeds", "refit")  # models.<name> keys of the DAG, read by rules/common.smk and the gather


def model_levers(config: dict, name: str) -> dict[str, Any]:
    """A model's DAG levers: ``seeds``, ``refit`` and (a pseudo-labelled student) ``pseudo_source``, else None."""
    model = config["models"][name]  # validated: the schema filled seeds, refit, teacher and pseudo.source
    source = model["pseudo"]["source"] if model["teacher"] else None
    return {"seeds": int(model["seeds"]), "refit": model["refit"], "pseudo_source": source}
