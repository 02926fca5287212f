"""Config validation and the typed views the rules and scripts use.

Nothing here imports torch: the Snakefile imports this module while it builds the DAG.
"""

from __future__ import annotations

import copy
import json
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


def _format_error(err) -> str:
    where = ".".join(str(p) for p in err.absolute_path) or "<top level>"
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        allowed = sorted(err.schema.get("properties", {}))
        unknown = [k for k in err.instance if k not in allowed]
        hints = []
        for key in unknown:
            close = difflib.get_close_matches(key, allowed, n=1)
            hints.append(f"'{key}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
        return f"config key '{where}': unknown key {', '.join(hints)}; valid keys: {', '.join(allowed)}"
    return f"config key '{where}': {err.message}"


def validate(config: dict, schema_path: str | Path = SCHEMA_PATH) -> dict:
    """Validate ``config`` in place against the schema, filling every default.

    Args:
        config: the loaded config mapping (modified in place).
        schema_path: the schema file.

    Returns:
        The same ``config``, with defaults filled in.

    Raises:
        FoldwiseError: naming the offending key and what is allowed.
    """
    if config is None:
        raise FoldwiseError("config is empty: give at least data and models (see README, 'Config reference')")
    from jsonschema.exceptions import best_match

    validator = _validator_class()(load_schema(schema_path))
    # First pass fills defaults; the second reports against the filled config.
    errors = list(validator.iter_errors(config))
    if not errors:
        errors = list(validator.iter_errors(config))
    if errors:
        raise FoldwiseError(_format_error(best_match(errors)))
    _check_cross_references(config)
    return config


def _check_cross_references(config: dict) -> None:
    from foldwise.metrics import METRICS
    from foldwise.tasks import get_task

    task = get_task(config["task"])
    metrics = METRICS[task.name]
    if config["metric"] == "auto":
        config["metric"] = task.default_metric
    models = config["models"]
    if not models:
        raise FoldwiseError("config key 'models': define at least one model (name -> {backbone: ...})")
    for key, value in [("metric", config["metric"])] + [
        (f"ensembles.{n}.objective", e["objective"]) for n, e in config["ensembles"].items()
    ]:
        if value not in metrics:
            raise FoldwiseError(
                f"config key '{key}': unknown metric '{value}' for task {task.name}; valid: {', '.join(sorted(metrics))}"
            )
    for name, m in models.items():
        if m["loss"] == "auto":
            m["loss"] = task.default_loss
        if m["loss"] not in task.losses:
            raise FoldwiseError(
                f"config key 'models.{name}.loss': unknown loss '{m['loss']}' for task {task.name}; "
                f"valid: {', '.join(task.losses)}"
            )
    if config["data"]["label_cols"] is not None and task.name != "multilabel":
        raise FoldwiseError("config key 'data.label_cols': only for task multilabel")
    for name, ens in config["ensembles"].items():
        members = ens["members"] if ens["members"] is not None else list(models)
        if len(members) == 0:
            raise FoldwiseError(f"config key 'ensembles.{name}.members': empty list")
        for m in members:
            if m not in models:
                raise FoldwiseError(
                    f"config key 'ensembles.{name}.members': '{m}' is not a model; models: {', '.join(models)}"
                )
        if name in models:
            raise FoldwiseError(f"config key 'ensembles.{name}': the name is already used by a model")
        if ens["method"] == "given":
            weights = ens["weights"] or {}
            missing = [m for m in members if m not in weights]
            extra = [m for m in weights if m not in members]
            if missing or extra or sum(weights.values()) <= 0:
                raise FoldwiseError(
                    f"config key 'ensembles.{name}.weights': method 'given' needs one non-negative weight per member "
                    f"({', '.join(members)}) with a positive sum; missing: {missing or 'none'}, not members: {extra or 'none'}"
                )
    if config["folds"]["scheme"] in ("group", "stratified_group") and not config["data"]["group_col"]:
        raise FoldwiseError(
            f"config key 'folds.scheme': '{config['folds']['scheme']}' needs data.group_col (the column of groups)"
        )
    for name in config["submissions"] or []:
        if name not in models and name not in config["ensembles"]:
            raise FoldwiseError(f"config key 'submissions': '{name}' is neither a model nor an ensemble")


def ensemble_members(config: dict, name: str) -> list[str]:
    """The model names an ensemble combines (all models when ``members`` is null)."""
    members = config["ensembles"][name]["members"]
    return list(config["models"]) if members is None else list(members)


def submission_names(config: dict) -> list[str]:
    """Models and ensembles that get a submission file."""
    if config["submissions"] is not None:
        return list(config["submissions"])
    return list(config["models"]) + list(config["ensembles"])


def model_settings(config: dict, name: str) -> dict[str, Any]:
    """Everything that determines one model's training, for its params and config hash."""
    return {
        "model": name,
        "task": config["task"],
        "kind": config["data"]["kind"],
        "metric": config["metric"],
        "seed": config["seed"],
        "deterministic": config["deterministic"],
        **copy.deepcopy(config["models"][name]),
    }


def schema_reference(schema: dict | None = None) -> str:
    """The config reference as a Markdown table (key, type, default, description).

    ``python -m foldwise.config`` prints it; the README embeds its output.
    """
    schema = schema or load_schema()
    defs = schema.get("$defs", {})
    rows = []

    def walk(node: dict, prefix: str) -> None:
        if "$ref" in node:
            node = {**defs[node["$ref"].split("/")[-1]], **{k: v for k, v in node.items() if k != "$ref"}}
        for name, sub in node.get("properties", {}).items():
            key = f"{prefix}{name}"
            resolved = {**defs[sub["$ref"].split("/")[-1]], **sub} if "$ref" in sub else sub
            typ = resolved.get("type", "object")
            typ = " or ".join(typ) if isinstance(typ, list) else typ
            if "enum" in resolved:
                typ += ": " + ", ".join(map(str, resolved["enum"]))
            default = "(required)" if name in node.get("required", []) else f"`{json.dumps(resolved.get('default'))}`"
            desc = " ".join(str(resolved.get("description", "")).split())
            rows.append(f"| `{key}` | {typ} | {default} | {desc} |")
            if resolved.get("properties"):
                walk(resolved, f"{key}.")
            elif isinstance(resolved.get("additionalProperties"), dict) and "$ref" in resolved["additionalProperties"]:
                walk(resolved["additionalProperties"], f"{key}.<name>.")

    walk(schema, "")
    return "| key | type | default | description |\n|---|---|---|---|\n" + "\n".join(rows)


def update_readme(path: str | Path) -> None:
    """Replace the README's config-reference block with :func:`schema_reference`."""
    path = Path(path)
    text = path.read_text()
    start, end = "<!-- config-reference:start -->", "<!-- config-reference:end -->"
    head, rest = text.split(start, 1)
    tail = rest.split(end, 1)[1]
    path.write_text(f"{head}{start}\n{schema_reference()}\n{end}{tail}")


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["--update-readme"]:
        update_readme(sys.argv[2] if len(sys.argv) > 2 else "README.md")
    else:
        print(schema_reference())
