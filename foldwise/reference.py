"""The config reference: every schema key as a Markdown row, grouped by what it applies to (``docs/config.md``).

``python -m foldwise.reference --write-docs`` rewrites ``docs/config.md`` from the
schema; ``tests/test_config.py`` checks that the file is current and that every
key lands in exactly one group.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from foldwise.config import load_schema


def _reference_rows(schema: dict) -> list[tuple[str, str]]:
    """Every key of the schema, depth first, as ``(dotted key, Markdown table row)``."""
    defs = schema.get("$defs", {})
    rows: list[tuple[str, str]] = []

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
            if name in node.get("then", {}).get("required", []):  # required under a condition: if ... then
                cond = node.get("if", {}).get("properties", {})
                default = "(required when " + ", ".join(f"{k} is {v.get('const')}" for k, v in cond.items()) + ")"
            desc = " ".join(str(resolved.get("description", "")).split())
            rows.append((key, f"| `{key}` | {typ} | {default} | {desc} |"))
            if resolved.get("properties"):
                walk(resolved, f"{key}.")
            elif isinstance(resolved.get("additionalProperties"), dict) and "$ref" in resolved["additionalProperties"]:
                walk(resolved["additionalProperties"], f"{key}.<name>.")

    walk(schema, "")
    return rows


_TABLE_HEAD = "| key | type | default | description |\n|---|---|---|---|\n"
_SCALARS = {"string", "integer", "number", "boolean", "null"}


def schema_reference(schema: dict | None = None) -> str:
    """The whole config reference as one Markdown table (key, type, default, description).

    ``python -m foldwise.reference`` prints it; :func:`reference_groups` splits the same rows by what
    each key applies to, and :func:`config_doc` writes them as ``docs/config.md``.
    """
    return _TABLE_HEAD + "\n".join(row for _, row in _reference_rows(schema or load_schema()))


def _and(names) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _or(names) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _first_sentence(text: Any) -> str:
    text = " ".join(str(text or "").split())
    return text.split(". ")[0].rstrip(".") + "." if text else ""


def _def_of(schema: dict, node: dict) -> dict:
    """``node`` itself, or the ``$defs`` entry its ``$ref`` names."""
    return schema.get("$defs", {}).get(node["$ref"].split("/")[-1], {}) if "$ref" in node else node


class _Registries:
    """What the plan-time registries say about each key.

    Imported when first needed, as :mod:`foldwise.checks` imports this module.
    The data kinds' own keys are those :data:`foldwise.checks.settings.KIND_ONLY` refuses for another kind;
    the nets' keys are :data:`foldwise.classic.families.TORCH_KEYS`; each classic family of
    :data:`foldwise.classic.families.FAMILIES` keeps its settings under the model key of its name.
    """

    def __init__(self):
        from foldwise.checks.settings import KIND_ONLY
        from foldwise.classic.families import FAMILIES, TORCH_KEYS, TORCH_KINDS

        self.kind_only, self.families, self.torch_keys, self.torch_kinds = KIND_ONLY, FAMILIES, TORCH_KEYS, TORCH_KINDS

    def kinds_of(self, part: str, name: str) -> list[str]:
        """The data kinds that alone read ``name`` of ``part`` (``data``, ``augment``, ``model``); [] for every kind."""
        return [kind for kind, parts in self.kind_only.items() if name in parts.get(part, ())]

    def kind_order(self, kinds: list[str]) -> tuple:
        """Every kind first, then by the registry's order of kinds, a single kind before a pair."""
        return (1, min(map(list(self.kind_only).index, kinds)), len(kinds)) if kinds else (0,)


def _data_group(reg: _Registries, parts: list[str]) -> tuple[str, tuple, str, str]:
    kinds = reg.kinds_of("data", parts[1]) if len(parts) > 1 else []
    if not kinds:
        return ("data", reg.kind_order(kinds), "Data: every kind",
                "Where the competition files are and how to read them, whatever `data.kind` is.")
    return ("data", reg.kind_order(kinds), f"Data: {_and(kinds)} only",
            f"Read only when `data.kind` is {_or(kinds)}; set to other than the default while `data.kind` is "
            "another, they stop the plan (a forgotten `data.kind`).")


def _model_group(schema: dict, reg: _Registries, parts: list[str]) -> tuple[str, tuple, str, str]:
    field = parts[2] if len(parts) > 2 else None
    sub = _def_of(schema, schema["$defs"]["model"]["properties"].get(field, {}))
    about = _first_sentence(sub.get("description"))
    if field in reg.families:
        return ("families", (list(reg.families).index(field),), f"Classic family: {field}",
                f"`family: {field}` reads {_or(reg.families[field].kinds)} data; its settings go under "
                f"`models.<name>.{field}`, and the nets' keys are refused on it. {about}")
    if field in reg.torch_keys and sub.get("properties"):  # a block of the nets: augment, pseudo, mix, ...
        kinds = reg.kinds_of(field, parts[3]) if len(parts) > 3 else []
        split = any(field in own for own in reg.kind_only.values())  # KIND_ONLY names its kind-only keys
        only = f", {_and(kinds)} only" if kinds else (", every kind" if split else "")
        which = (f" Read only when `data.kind` is {_or(kinds)}; refused for another kind." if kinds
                 else f" For the nets of every kind ({_and(reg.torch_kinds)})." if split else "")
        return ("nets", (1, reg.torch_keys.index(field), *reg.kind_order(kinds)), f"Nets: {field}{only}",
                f"`models.<name>.{field}`: {about}{which}")
    if field in reg.torch_keys:
        return ("nets", (0,), "Nets only",
                f"Keys of `models.<name>` that only the torch nets (`family: torch`, the default) read, on "
                f"{_or(reg.torch_kinds)} data; a classic model that sets one is refused.")
    return ("models", (), "Every model",
            "Keys of `models.<name>` that every family reads, nets and classic models alike.")


def _reference_group(schema: dict, key: str, reg: _Registries) -> tuple[str, tuple, str, str]:
    """The one group ``key`` (dotted, ``<name>`` for a mapping's names) belongs to.

    Read from the schema and the registries (:class:`_Registries`), not from a hand list: ``data.*``
    by the kinds that read it, ``models.<name>.*`` as every model's, the nets' (each block of theirs on
    its own, augmentations by data kind) or a classic family's. Other top-level keys of a scalar type
    describe the run as a whole; every other top-level key is a group of its own.

    Returns:
        ``(section, order within the section, title, intro)``.
    """
    parts = key.split(".")
    if parts[0] == "data":
        return _data_group(reg, parts)
    if parts[0] == "models":
        return _model_group(schema, reg, parts)
    top = schema["properties"][parts[0]]
    typ = top.get("type", "object")
    if not ({typ} if isinstance(typ, str) else set(typ)) - _SCALARS:
        return ("run", (), "The run as a whole", "Top-level keys that hold for every data set, model and ensemble.")
    return (parts[0], (), parts[0].capitalize(), _first_sentence(top.get("description")))


def reference_groups(schema: dict | None = None) -> list[tuple[str, str, list[str]]]:
    """The config reference split by what each key applies to: ``(title, intro, table rows)`` per group.

    Every key of the schema lands in exactly one group (:func:`_reference_group`). Sections follow
    the schema's order; within one, the data kinds follow :data:`foldwise.checks.settings.KIND_ONLY`
    and the classic families :data:`foldwise.classic.families.FAMILIES`.
    """
    schema = schema or load_schema()
    reg = _Registries()
    sections: list[str] = []
    groups: dict[str, tuple[str, tuple, str, list[str]]] = {}
    for key, row in _reference_rows(schema):
        section, order, title, intro = _reference_group(schema, key, reg)
        if section not in sections:
            sections.append(section)
        groups.setdefault(title, (section, order, intro, []))[3].append(row)
    ranked = sorted(groups.items(), key=lambda item: (sections.index(item[1][0]), item[1][1]))
    return [(title, intro, rows) for title, (_, _, intro, rows) in ranked]


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading (before de-duplication): ``## Nets: only`` -> ``nets-only``."""
    import re

    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


CONFIG_DOC_INTRO = """\
# Config reference

Every key of a foldwise config, grouped by what it applies to: the run as a whole, the data (keys
every data kind reads, then each kind's own), the folds, the models (keys of every model, keys only
the nets read, each classic family's settings), the ensembles and the submissions. A config is
validated against `foldwise/schemas/config.schema.yaml` before any job runs: an unknown key, a wrong
type or a key set for the wrong data kind or family stops the plan, naming the key, and every key
left out takes the default shown here. `<name>` stands for a model's or an ensemble's name; a net
(`family: torch`, the default) must name its `backbone`.

For a first config, let `foldwise init my-comp/` write one from your competition folder (see the
[README](../README.md#starting-from-a-folder-foldwise-init)); runtime settings (threads, GPUs, a
cluster) are not config keys but [profiles](../README.md#runtime-settings-profiles).

This file is generated from the schema by `python -m foldwise.reference --write-docs`; edit the schema,
not this file (`tests/test_config.py` checks that it is current).
"""


def config_doc(schema: dict | None = None) -> str:
    """The text of ``docs/config.md``: an intro, a table of contents and one table per group."""
    groups = reference_groups(schema)
    toc = "\n".join(f"- [{title}](#{github_slug(title)}) ({len(rows)})" for title, _, rows in groups)
    body = "\n\n".join(f"## {title}\n\n{intro}\n\n{_TABLE_HEAD}" + "\n".join(rows) for title, intro, rows in groups)
    return f"{CONFIG_DOC_INTRO}\n## Contents\n\n{toc}\n\n{body}\n"


def write_config_doc(path: str | Path = "docs/config.md") -> None:
    """Write :func:`config_doc` to ``path`` (relative to the working directory)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(config_doc())


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["--write-docs"]:
        write_config_doc(sys.argv[2] if len(sys.argv) > 2 else "docs/config.md")
    else:
        print(schema_reference())
