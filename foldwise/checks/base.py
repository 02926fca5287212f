"""The plan-time checks' vocabulary: a :class:`Problem` names its config key, a :class:`Context` is
what every check reads, and wording helpers shared by the checks."""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, NamedTuple

AN_KIND = {"images": "an image", "timeseries": "a time-series", "tabular": "a tabular", "video": "a video"}


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
