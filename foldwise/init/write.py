"""Write the inferred config as commented YAML: every inferred key with its evidence, every model with its cost.

The output is plain YAML that :func:`foldwise.config.validate` accepts; the
comments carry what ``init`` found and why, the preset's sizing and the keys
it left to the user.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import yaml

from foldwise.io import write_text

from .infer import Inference
from .presets import Plan

COMMENT_COL = 44


def _scalar(value) -> str:
    """One value as flow-style YAML on one line."""
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000, allow_unicode=True, sort_keys=False).strip()
    return text[:-4].rstrip() if text.endswith("\n...") else text.removesuffix("...").strip()


def _line(indent: int, key: str, value, comment: str | None = None) -> str:
    """``key: value`` at ``indent`` spaces, with an end-of-line comment aligned when given."""
    head = " " * indent + (f"{_scalar(key)}:" if value is _BLOCK else f"{_scalar(key)}: {_scalar(value)}")
    return f"{head.ljust(COMMENT_COL)} # {comment}" if comment else head


_BLOCK = object()


def _block(indent: int, key: str, mapping: dict, comment: str | None = None) -> list[str]:
    """A nested mapping, one key per line (nested mappings and lists in flow style)."""
    out = [_line(indent, key, _BLOCK, comment)]
    out += [_line(indent + 2, k, v) for k, v in mapping.items()]
    return out


def render(inf: Inference, plan: Plan, command: str) -> str:
    """The config text.

    Args:
        inf: what was inferred from the folder.
        plan: the sized preset.
        command: the command line that wrote it (for the header).

    Returns:
        YAML text with comments.
    """
    n = inf.notes
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = [f"# Written by `{command}` on {stamp}, from the files of {inf.dir_text}.",
           "# Every key is described, with its default, in foldwise/schemas/config.schema.yaml and, grouped by",
           "# what it applies to, in docs/config.md. Run it with: snakemake --cores all --resources gpu=1 --configfile <this file>",
           "#", *(f"# {h}" for h in plan.header)]
    if n.todo:
        out += ["#", "# TO SET (the folder does not decide these):", *(f"#   {k}: {why}" for k, why in n.todo)]
    if n.warnings:
        out += ["#", *(f"# warning: {w}" for w in n.warnings)]
    if n.hints:
        out += ["#", *(f"# hint: {h}" for h in n.hints)]
    out += ["", "seed: 42", _line(0, "task", inf.target.task, n.evidence("task")), "", "data:"]
    for key, value in inf.data_section().items():
        if value is None and key != "test_csv":
            out.append(f"  # {key}: SET ME ({dict(n.todo).get('data.' + key, 'not found')})")
            continue
        out.append(_line(2, key, value, n.evidence(f"data.{key}")))
    classes = n.evidence("classes")
    out += ["", _line(0, "folds", _BLOCK, classes and f"{len(inf.target.counts)} {classes}"[:200]),
            _line(2, "scheme", inf.folds["scheme"]), _line(2, "n_splits", plan.n_splits), _line(2, "seed", 42)]
    out += ["", "models:"]
    for name, settings in plan.models.items():
        out += _block(2, name, settings, plan.notes[name])
    out += [""]
    if plan.ensembles:
        out.append("ensembles:")
        for name, settings in plan.ensembles.items():
            out += _block(2, name, settings, "weights fitted on the OOF predictions; honest (nested) CV beside")
    else:
        out.append("ensembles: {}")
    if plan.submissions:
        out += ["", _line(0, "submissions", plan.submissions, "results/submissions/best.csv: the best honest CV")]
    return "\n".join(out) + "\n"


def write_config(path: str | Path, text: str) -> Path:
    """Write the config atomically and check that it loads and validates (without the file checks)."""
    from foldwise.config import validate

    validate(yaml.safe_load(text))
    write_text(path, text)
    return Path(path)
