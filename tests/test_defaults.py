"""Every default is written once: the settings dataclasses' defaults equal the schema's, key for key.

The schema (``foldwise/schemas/config.schema.yaml``) is the source: validation fills every default before a
dataclass is built. A dataclass default that disagrees with it would only show when a dataclass is built
outside the pipeline (tests, benchmarks, notebooks) — and then silently train something else.
"""

from __future__ import annotations

import dataclasses
import importlib

import pytest

from foldwise.config import load_schema

SCHEMA = load_schema()
DEFS = SCHEMA["$defs"]


def _props(node: dict) -> dict:
    if "$ref" in node:
        return _props(DEFS[node["$ref"].split("/")[-1]])
    return node.get("properties", {})


PAIRS = {
    "foldwise.train.settings.TrainConfig": _props(DEFS["model"]),
    "foldwise.train.augment.AugmentConfig": _props(DEFS["augment"]),
    "foldwise.train.mixing.MixConfig": _props(DEFS["mix"]),
    "foldwise.train.ema.EmaConfig": _props(DEFS["ema"]),
    "foldwise.train.freeze.FreezeConfig": _props(DEFS["freeze"]),
    "foldwise.train.pseudo.PseudoConfig": _props(DEFS["pseudo"]),
    "foldwise.models.arcface.HeadConfig": _props(DEFS["head"]),
    "foldwise.data.tables.DataConfig": _props(SCHEMA["properties"]["data"]),
}
# TrainConfig fields filled from the config's top level (foldwise.config.model_settings), not models.<name>.
GLOBALS = {"seed": ("seed",), "deterministic": ("deterministic",), "task": ("task",), "kind": ("data", "kind")}
# Where a dataclass default is not the schema's literal, and why.
RESOLVED = {
    ("TrainConfig", "loss"): "the schema's `auto` is resolved by the task before the dataclass is built",
    ("TrainConfig", "metric"): "the schema's `auto` is resolved by the task before the dataclass is built",
    ("DataConfig", "dir"): "required: the schema's default is the demo's folder",
    ("TrainConfig", "pretrained_sha256"): "not a user key: the weights' hash, added when the DAG is planned",
}


def _default(f: dataclasses.Field):
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def _schema_default(path: tuple[str, ...]):
    node = SCHEMA
    for key in path:
        node = _props(node)[key] if key != path[0] else SCHEMA["properties"][key]
    return node["default"]


@pytest.mark.parametrize("path", sorted(PAIRS))
def test_dataclass_defaults_equal_the_schema(path):
    module, name = path.rsplit(".", 1)
    cls = getattr(importlib.import_module(module), name)
    props = PAIRS[path]
    for f in dataclasses.fields(cls):
        default = _default(f)
        if default is dataclasses.MISSING or (name, f.name) in RESOLVED:
            continue
        if name == "TrainConfig" and f.name in GLOBALS:
            assert default == _schema_default(GLOBALS[f.name]), f"{name}.{f.name}"
            continue
        assert f.name in props, f"{name}.{f.name} has a default but no schema key"
        assert default == props[f.name]["default"], (
            f"{name}.{f.name}: dataclass {default!r}, schema {props[f.name]['default']!r}")


# ----- ensembles: settings typed once ----------------------------------------------------------------------------

ENSEMBLE = _props(DEFS["ensemble"])


def test_ensemble_settings_type_every_schema_key_and_default_none():
    """EnsembleSettings has a field per ``$defs.ensemble`` key (plus the global seed) and no default of its own:
    the schema fills each one, and ``from_params`` refuses a dict that was not validated."""
    from foldwise.ensemble.settings import EnsembleSettings

    fields = dataclasses.fields(EnsembleSettings)
    assert {f.name for f in fields} == set(ENSEMBLE) | {"seed"}
    assert [f.name for f in fields if _default(f) is not dataclasses.MISSING] == []


# Estimator argument -> ensemble key, where the names differ.
ESTIMATOR_KEYS = {"learner": "stacker", "params": "stacker_params"}


@pytest.mark.parametrize("path", ["foldwise.ensemble.weights.WeightedSoftVoting", "foldwise.ensemble.stacking.Stacker"])
def test_blender_defaults_equal_the_schema(path):
    """The blenders keep scikit-learn's shape (every argument has a default); those defaults are the schema's."""
    import inspect

    module, name = path.rsplit(".", 1)
    cls = getattr(importlib.import_module(module), name)
    for arg in list(inspect.signature(cls.__init__).parameters.values())[1:]:
        key = ESTIMATOR_KEYS.get(arg.name, arg.name)
        if key == "task":
            expected = _schema_default(("task",))
        elif key == "seed":
            continue  # the pipeline always passes the config's seed
        else:
            expected = ENSEMBLE[key]["default"]
        if key == "stacker_params" and arg.default is None:
            continue  # None: no keyword arguments, the schema's {}
        assert arg.default == expected, f"{name}({arg.name}=...): {arg.default!r}, schema {expected!r}"
