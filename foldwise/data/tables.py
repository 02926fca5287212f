"""Competition tables: the raw CSVs checked and encoded once.

The ``tables`` rule reads ``train_csv``, checks it, encodes the labels and
writes ``train.parquet`` and ``classes.json``; the ``test_table`` rule writes
``test.parquet`` from ``sample_submission`` (cross-checked against
``test_csv``). Ids and labels are text exactly as the files spell them:
``007`` stays ``007`` and ``7`` stays ``7``, and a class named ``1`` is the same
whether the file quotes it or not.

Image templates (``data.train_images``/``data.test_images``) may name any
column of the split's table, e.g. ``train/{label}/{id}.jpg`` or ``{img_path}``
for a Dacon-style path column; ``{id}`` is always the id column. The resolved
paths are stored in the tables' ``path`` column, which the image cache reads.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd

from foldwise.errors import FoldwiseError
from foldwise.io import read_csv, write_json, write_parquet
from foldwise.kinds import get_kind
from foldwise.tasks import LABEL_SEP

log = logging.getLogger(__name__)

SPLITS = ("train", "test")


@dataclass(frozen=True)
class DataConfig:
    """Where the competition files are; see the schema (``data.*``) for each field."""

    dir: str
    train_csv: str = "train.csv"
    test_csv: str | None = "test.csv"
    sample_submission: str = "sample_submission.csv"
    id_col: str = "id"
    target_col: str = "label"
    group_col: str | None = None
    label_cols: list[str] | None = None
    train_images: str = "train_images/{id}.png"
    test_images: str = "test_images/{id}.png"
    train_videos: str = "train_videos/{id}.mp4"
    test_videos: str = "test_videos/{id}.mp4"
    channels: int = 3
    kind: str = "images"
    train_series: str = "train_features.csv"
    test_series: str = "test_features.csv"
    solution: str | None = None

    def path(self, name: str | None) -> Path | None:
        """Resolve a file name of this config relative to ``dir``."""
        return None if name is None else Path(self.dir) / name

    @classmethod
    def from_dict(cls, d: dict) -> "DataConfig":
        """Build from the config's ``data`` mapping, ignoring keys this view does not use."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


def _require_columns(df: pd.DataFrame, path: Path, columns: dict[str, str]) -> None:
    for key, col in columns.items():
        if col not in df.columns:
            raise FoldwiseError(
                f"{path}: no column '{col}' (config key {key}); columns are: {', '.join(map(str, df.columns))}"
            )


def _lines(mask: pd.Series | np.ndarray, limit: int = 5) -> list[int]:
    """1-based file line numbers (header = line 1) of the rows where ``mask`` holds."""
    return (np.flatnonzero(np.asarray(mask)) + 2).tolist()[:limit]


def _check_ids(ids: pd.Series, path: Path, id_col: str) -> None:
    empty = ids.isna() | (ids.str.strip() == "")
    if empty.any():
        raise FoldwiseError(f"{path}: empty id in column '{id_col}' at line(s) {_lines(empty)}")
    dup = ids.duplicated(keep=False)
    if dup.any():
        raise FoldwiseError(
            f"{path}: duplicate ids in column '{id_col}', e.g. '{ids[dup].iloc[0]}' (lines {_lines(dup, 6)}); "
            "ids must be unique"
        )


def sort_classes(labels: list[str]) -> list[str]:
    """Sort class labels numerically when they all look like integers, else as text."""
    try:
        return sorted(labels, key=lambda s: (int(s), s))
    except ValueError:
        return sorted(labels)


_FIELD = re.compile(r"\{([^{}]*)\}")


def template_fields(template: str) -> list[str]:
    """The ``{field}`` names of a path template, in order (any text between braces: a column name)."""
    return _FIELD.findall(template)


def resolve_template(template: str, table: pd.DataFrame, id_col: str, key: str) -> list[str]:
    """Expand a path template once per row of ``table``.

    Each ``{field}`` is replaced by that row's value of the column named exactly
    ``field`` (``{id}`` is the id column whatever it is called); names may hold
    dots or spaces (``{img.path}``). No format specifications.

    Args:
        template: e.g. ``train_images/{id}.png`` or ``{img_path}``.
        table: the split's raw table (text columns).
        id_col: the id column's name.
        key: the config key of the template, for messages.

    Returns:
        One path per row, relative to ``data.dir``.

    Raises:
        FoldwiseError: an empty field, a field that names no column, or an empty value in a named column.
    """
    names = template_fields(template)
    if "" in names or "{" in _FIELD.sub("", template) or "}" in _FIELD.sub("", template):
        raise FoldwiseError(f"config key {key}: template '{template}' has an empty or unbalanced {{}}; name a column, e.g. {{id}}")
    columns = {}
    for name in dict.fromkeys(names):
        col = id_col if name == "id" else name
        if col not in table.columns:
            raise FoldwiseError(
                f"config key {key}: template '{template}' names '{{{name}}}', which is not a column of the table; "
                f"columns: {', '.join(map(str, table.columns))}"
            )
        values = table[col]
        if values.isna().any():
            raise FoldwiseError(f"config key {key}: column '{col}' is empty at line(s) {_lines(values.isna())}")
        columns[name] = values.to_numpy(dtype=object)
    if not columns:
        return [template] * len(table)
    parts = _FIELD.split(template)  # text, field, text, field, ..., text
    out = []
    for i in range(len(table)):
        pieces = [piece if j % 2 == 0 else columns[piece][i] for j, piece in enumerate(parts)]
        out.append("".join(pieces))
    return out


def _multiclass_labels(train: pd.DataFrame, dcfg: DataConfig, path: Path) -> tuple[pd.Series, list[str]]:
    labels = train[dcfg.target_col].str.strip()
    bad = labels.isna() | (labels == "") | labels.str.lower().isin(["nan", "none", "null"])
    if bad.any():
        raise FoldwiseError(
            f"{path}: empty or NaN label in column '{dcfg.target_col}' at line(s) {_lines(bad)}; "
            "remove those rows or give them a label"
        )
    classes = sort_classes(labels.unique().tolist())
    if len(classes) < 2:
        raise FoldwiseError(f"{path}: column '{dcfg.target_col}' has a single class; nothing to learn")
    return labels, classes


_TRUE, _FALSE = {"1", "1.0", "true", "yes"}, {"0", "0.0", "false", "no", ""}


def _multilabel_labels(train: pd.DataFrame, dcfg: DataConfig, path: Path) -> tuple[pd.Series, list[str]]:
    if dcfg.label_cols:
        classes = [str(c) for c in dcfg.label_cols]
        values = train[classes].fillna("").apply(lambda c: c.str.strip().str.lower())
        bad = ~values.isin(_TRUE | _FALSE)
        if bad.any().any():
            row, col = np.argwhere(bad.to_numpy())[0]
            raise FoldwiseError(
                f"{path}: column '{classes[col]}' (data.label_cols) must hold 0 or 1, "
                f"found '{train[classes].iloc[row, col]}' at line {row + 2}"
            )
        flags = values.isin(_TRUE).to_numpy()
        names = np.asarray(classes, dtype=object)
        labels = pd.Series([LABEL_SEP.join(names[f]) for f in flags], index=train.index)
        return labels, classes
    tokens = train[dcfg.target_col].fillna("").str.split()
    classes = sort_classes(sorted({t for row in tokens for t in row}))
    if not classes:
        raise FoldwiseError(f"{path}: column '{dcfg.target_col}' holds no labels at all")
    order = {c: i for i, c in enumerate(classes)}
    labels = tokens.map(lambda row: LABEL_SEP.join(sorted(set(row), key=order.__getitem__)))
    return labels, classes


# task -> reader(train table, data config, path) -> (canonical labels, class names)
LABEL_READERS = {"multiclass": _multiclass_labels, "multilabel": _multilabel_labels}


def split_table(dcfg: DataConfig, split: str) -> tuple[pd.DataFrame, Path]:
    """The raw table that lists a split's ids: ``train_csv``, or the test ids with their columns.

    The test split's rows follow ``sample_submission``; when ``test_csv`` is set its
    ids must be the same set, and its columns (e.g. an image-path column) come along.

    Returns:
        ``(table, path)``: text columns, and the file the ids were read from.
    """
    if split == "train":
        path = dcfg.path(dcfg.train_csv)
        table = read_csv(path, "training table (data.train_csv)")
        _require_columns(table, path, {"data.id_col": dcfg.id_col})
        _check_ids(table[dcfg.id_col], path, dcfg.id_col)
        return table, path
    sub_path = dcfg.path(dcfg.sample_submission)
    sample = read_csv(sub_path, "sample submission (data.sample_submission)")
    _require_columns(sample, sub_path, {"data.id_col": dcfg.id_col})
    _check_ids(sample[dcfg.id_col], sub_path, dcfg.id_col)
    ids = sample[[dcfg.id_col]].reset_index(drop=True)
    if not dcfg.test_csv:
        return ids, sub_path
    test_path = dcfg.path(dcfg.test_csv)
    test = read_csv(test_path, "test table (data.test_csv)")
    _require_columns(test, test_path, {"data.id_col": dcfg.id_col})
    _check_ids(test[dcfg.id_col], test_path, dcfg.id_col)
    a, b = set(test[dcfg.id_col]), set(ids[dcfg.id_col])
    if a != b:
        only_test, only_sub = sorted(a - b)[:3], sorted(b - a)[:3]
        raise FoldwiseError(
            f"test ids differ between {test_path} and {sub_path}: {len(a - b)} only in the test table "
            f"(e.g. {only_test}), {len(b - a)} only in the sample submission (e.g. {only_sub})"
        )
    return ids.merge(test, on=dcfg.id_col, how="left", validate="one_to_one"), test_path


def load_test_ids(dcfg: DataConfig) -> pd.Series:
    """Test ids in the order of ``sample_submission``, cross-checked against ``test_csv``."""
    return split_table(dcfg, "test")[0][dcfg.id_col]


def split_image_paths(dcfg: DataConfig, split: str, table: pd.DataFrame | None = None) -> list[str]:
    """Every image (or, for data.kind video, clip) path of a split, relative to ``data.dir``, in row order."""
    if table is None:
        table = split_table(dcfg, split)[0]
    key = f"{split}_videos" if dcfg.kind == "video" else f"{split}_images"
    return resolve_template(getattr(dcfg, key), table, dcfg.id_col, f"data.{key}")


def _check_images_exist(root: Path, rel: list[str], template: str, key: str) -> None:
    missing = [root / p for p in rel if not (root / p).is_file()]
    if not missing:
        return
    if len(missing) == len(rel):
        raise FoldwiseError(
            f"config key {key}: template '{template}' matches none of the {len(rel)} images "
            f"(looked for e.g. {missing[0]}); fix the template or data.dir"
        )
    raise FoldwiseError(
        f"{len(missing)} image(s) missing for {key} '{template}', e.g. {', '.join(map(str, missing[:3]))}"
    )


def _image_columns(dcfg: DataConfig, split: str, table: pd.DataFrame) -> dict:
    rel = split_image_paths(dcfg, split, table)
    _check_images_exist(Path(dcfg.dir), rel, getattr(dcfg, f"{split}_images"), f"data.{split}_images")
    return {"path": rel}


def _video_columns(dcfg: DataConfig, split: str, table: pd.DataFrame) -> dict:
    rel = split_image_paths(dcfg, split, table)
    root, key = Path(dcfg.dir), f"data.{split}_videos"
    missing = [root / p for p in rel if not (root / p).exists()]  # a video file or a frame folder
    if missing:
        raise FoldwiseError(f"{len(missing)} of {len(rel)} clip(s) missing for {key} '{getattr(dcfg, f'{split}_videos')}', "
                            f"e.g. {', '.join(map(str, missing[:3]))}")
    return {"path": rel}


def _series_columns(dcfg: DataConfig, split: str, table: pd.DataFrame) -> dict:
    name = getattr(dcfg, f"{split}_series")
    if not dcfg.path(name).is_file():
        raise FoldwiseError(f"data.{split}_series not found: {dcfg.path(name)} (check data.dir and the file name)")
    return {}


def _tabular_columns(dcfg: DataConfig, split: str, table: pd.DataFrame) -> dict:
    if split == "test" and not dcfg.test_csv:
        raise FoldwiseError("data.kind tabular needs data.test_csv: the test rows' feature columns")
    return {}  # the features are the table's own columns: the cache (foldwise.data.tabular) reads them


def _input_columns(dcfg: DataConfig):
    """The data kind's check that each row's inputs exist (cheap: no decoding) and the columns the cache reads."""
    return get_kind(dcfg.kind).load("columns")  # foldwise.kinds: one of the functions above


def build_train_table(dcfg: DataConfig, task: str = "multiclass") -> tuple[pd.DataFrame, list[str]]:
    """Check ``train_csv`` and encode it.

    Returns:
        ``(table, classes)``: ``row, id, label[, group][, path]``, where ``label`` is
        canonical: the class (multiclass) or the row's label names joined by tabs
        (multilabel); and the class (or label) names in output-column order.

    Raises:
        FoldwiseError: a missing file or column, empty labels, duplicate ids, missing inputs.
    """
    train, path = split_table(dcfg, "train")
    needed = [("data.label_cols", c) for c in dcfg.label_cols] if dcfg.label_cols else [("data.target_col", dcfg.target_col)]
    if dcfg.group_col:
        needed.append(("data.group_col", dcfg.group_col))
    for key, col in needed:
        _require_columns(train, path, {key: col})
    labels, classes = LABEL_READERS[task](train, dcfg, path)
    out = pd.DataFrame({"row": np.arange(len(train)), "id": train[dcfg.id_col], "label": labels})
    if dcfg.group_col:
        groups = train[dcfg.group_col]
        if groups.isna().any():
            raise FoldwiseError(f"{path}: empty group in column '{dcfg.group_col}' at line(s) {_lines(groups.isna())}")
        out["group"] = groups
    for name, values in _input_columns(dcfg)(dcfg, "train", train).items():
        out[name] = values
    return out, classes


def build_test_table(dcfg: DataConfig) -> pd.DataFrame:
    """The test table: ``row, id[, path]`` in the order of ``sample_submission``.

    Raises:
        FoldwiseError: a missing file or column, duplicate ids, test ids that differ
            between ``test_csv`` and ``sample_submission``, missing inputs.
    """
    test, _ = split_table(dcfg, "test")
    out = pd.DataFrame({"row": np.arange(len(test)), "id": test[dcfg.id_col]})
    for name, values in _input_columns(dcfg)(dcfg, "test", test).items():
        out[name] = values
    return out


def prepare_train_table(dcfg: DataConfig, out_train: str, out_classes: str, task: str = "multiclass") -> pd.DataFrame:
    """Check ``train_csv`` and write the encoded training table and ``classes.json`` (see :func:`build_train_table`)."""
    out, classes = build_train_table(dcfg, task)
    write_parquet(out, out_train)
    write_json(out_classes, {"classes": classes})
    log.info("train: %d rows, %d classes", len(out), len(classes))
    return out


def prepare_test_table(dcfg: DataConfig, out_test: str) -> pd.DataFrame:
    """Check the test ids and write the test table (see :func:`build_test_table`)."""
    out = build_test_table(dcfg)
    write_parquet(out, out_test)
    log.info("test: %d rows", len(out))
    return out


def prepare_tables(dcfg: DataConfig, out_train: str, out_test: str, out_classes: str, task: str = "multiclass") -> None:
    """Both tables, checked in full before either is written."""
    train, classes = build_train_table(dcfg, task)
    test = build_test_table(dcfg)
    write_parquet(train, out_train)
    write_json(out_classes, {"classes": classes})
    write_parquet(test, out_test)
