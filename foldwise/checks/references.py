"""Checks of the names entries use for each other (ensemble members, teachers, submissions), and cycles."""

from __future__ import annotations

from typing import NamedTuple

from foldwise.checks.base import Problem, problem, Context, _did_you_mean


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
    # .get stays: this also runs beside schema errors (run_checks' tolerant mode), where an empty `ensembles:`
    # (null) must not hide the models' reference problems.
    config = dict(ctx.config)
    config["ensembles"] = {
        name: {**ens, "members": list(config["models"]) if ens.get("members") is None else ens["members"]}
        for name, ens in (config.get("ensembles") or {}).items()
    }
    return reference_problems(config)
