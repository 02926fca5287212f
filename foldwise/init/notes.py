"""What ``foldwise init`` found, and why: facts with their evidence, keys left to the user, warnings.

Every inference is recorded with the evidence it rests on, so that the
command can print it and the written config can carry it as a comment. Where
the folder does not decide a key, a *todo* names that one key instead of a
guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from foldwise.errors import FoldwiseError


class InitError(FoldwiseError):
    """A folder ``foldwise init`` cannot read: the message names what is missing and the key or file to fix."""


@dataclass(frozen=True)
class Fact:
    """One inference: a config key, the value chosen and the evidence for it."""

    key: str
    value: object
    evidence: str


@dataclass
class Notes:
    """Everything ``init`` says about a folder, in the order it found it.

    Attributes:
        facts: the inferences (key, value, evidence).
        todo: ``(key, why)`` for each key the folder does not decide (the written config marks them).
        warnings: problems the run would hit or that the user should know.
        hints: suggestions that change nothing by themselves (e.g. group-like columns).
    """

    facts: list[Fact] = field(default_factory=list)
    todo: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)

    def fact(self, key: str, value: object, evidence: str) -> object:
        """Record an inference and return its value."""
        self.facts.append(Fact(key, value, evidence))
        return value

    def evidence(self, key: str) -> str | None:
        """The evidence of the last fact recorded for ``key`` (None if there is none)."""
        for f in reversed(self.facts):
            if f.key == key:
                return f.evidence
        return None

    def lines(self) -> list[str]:
        """The notes as the command prints them, one line each."""
        out = [f"  {f.key} = {_show(f.value)}    ({f.evidence})" for f in self.facts]
        out += [f"  SET {key}: {why}" for key, why in self.todo]
        out += [f"  warning: {w}" for w in self.warnings]
        out += [f"  hint: {h}" for h in self.hints]
        return out


def _show(value: object) -> str:
    """A value as it reads in YAML-ish text (None as null, strings quoted when they need it)."""
    if value is None:
        return "null"
    if isinstance(value, str) and (not value or value != value.strip() or any(c in value for c in ":#{}[],")):
        return repr(value)
    return str(value)
