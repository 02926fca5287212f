"""Checks of the files a config names: data tables, their columns, and the templates of the first rows."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from foldwise.checks.base import Problem, problem, Context, _where, _missing_hint

HEAD_ROWS = 5  # rows of each table read to try the image templates


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
