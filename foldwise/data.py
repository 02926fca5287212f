"""Competition tables and the uint8 image cache.

The tables step reads the CSVs once, checks them, encodes the labels and writes
``train.parquet`` / ``test.parquet`` / ``classes.json``. The cache step decodes
every image once into an ``(N, H, W, C)`` uint8 ``.npy`` that training opens
with ``mmap_mode='r'``.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from typing import TYPE_CHECKING

from foldwise.errors import FoldwiseError
from foldwise.io import atomic_path, write_json, write_parquet

if TYPE_CHECKING:
    from foldwise.config import DataConfig

log = logging.getLogger(__name__)


def read_csv(path: str | Path, what: str) -> pd.DataFrame:
    """Read a CSV with every column as text; a clear error if it is missing or unreadable."""
    path = Path(path)
    if not path.is_file():
        raise FoldwiseError(f"{what} not found: {path} (check data.dir and the file name in the config)")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise FoldwiseError(f"{what} {path} cannot be read as CSV: {exc}") from None


def _require_columns(df: pd.DataFrame, path: Path, columns: dict[str, str]) -> None:
    for key, col in columns.items():
        if col not in df.columns:
            raise FoldwiseError(
                f"{path}: no column '{col}' (config key {key}); columns are: {', '.join(map(str, df.columns))}"
            )


def _check_ids(ids: pd.Series, path: Path, id_col: str) -> None:
    empty = ids.isna()
    if empty.any():
        rows = (np.flatnonzero(empty.to_numpy()) + 2).tolist()[:5]
        raise FoldwiseError(f"{path}: empty id in column '{id_col}' at line(s) {rows}")
    dup = ids[ids.duplicated(keep=False)]
    if len(dup):
        lines = (np.flatnonzero(ids.duplicated(keep=False).to_numpy()) + 2).tolist()[:6]
        raise FoldwiseError(
            f"{path}: duplicate ids in column '{id_col}', e.g. '{dup.iloc[0]}' (lines {lines}); ids must be unique"
        )


def sort_classes(labels: list[str]) -> list[str]:
    """Sort class labels numerically when they all look like integers, else as text."""
    try:
        return sorted(labels, key=lambda s: (int(s), s))
    except ValueError:
        return sorted(labels)


def image_paths(root: str, template: str, ids: pd.Series) -> list[Path]:
    """Expand an image path template (``{id}``, relative to ``root``) for each id."""
    root = Path(root)
    try:
        return [root / template.format(id=i) for i in ids]
    except (KeyError, IndexError) as exc:
        raise FoldwiseError(f"image template '{template}': only the field {{id}} is allowed ({exc})") from None


def _check_images_exist(paths: list[Path], template: str, key: str) -> None:
    missing = [p for p in paths if not p.is_file()]
    if not missing:
        return
    if len(missing) == len(paths):
        raise FoldwiseError(
            f"config key {key}: template '{template}' matches none of the {len(paths)} images "
            f"(looked for e.g. {missing[0]}); fix the template or data.dir"
        )
    raise FoldwiseError(
        f"{len(missing)} image(s) missing for {key} '{template}', e.g. {', '.join(map(str, missing[:3]))}"
    )


def _multiclass_labels(train: pd.DataFrame, dcfg: DataConfig, path: Path) -> tuple[pd.Series, list[str]]:
    labels = train[dcfg.target_col].str.strip()
    bad = labels.isna() | (labels == "") | labels.str.lower().isin(["nan", "none", "null"])
    if bad.any():
        lines = (np.flatnonzero(bad.to_numpy()) + 2).tolist()[:5]
        raise FoldwiseError(
            f"{path}: empty or NaN label in column '{dcfg.target_col}' at line(s) {lines}; "
            "remove those rows or give them a label"
        )
    classes = sort_classes(labels.unique().tolist())
    if len(classes) < 2:
        raise FoldwiseError(f"{path}: column '{dcfg.target_col}' has a single class; nothing to learn")
    return labels, classes


def _multilabel_labels(train: pd.DataFrame, dcfg: DataConfig, path: Path) -> tuple[pd.Series, list[str]]:
    if dcfg.label_cols:
        classes = [str(c) for c in dcfg.label_cols]
        values = train[classes]
        bad = ~values.isin(["0", "1"])
        if bad.any().any():
            row, col = np.argwhere(bad.to_numpy())[0]
            raise FoldwiseError(
                f"{path}: column '{classes[col]}' (data.label_cols) must hold 0 or 1, "
                f"found '{values.iloc[row, col]}' at line {row + 2}"
            )
        flags = values.to_numpy() == "1"
        labels = pd.Series([" ".join(np.asarray(classes)[f]) for f in flags], index=train.index)
        return labels, classes
    tokens = train[dcfg.target_col].fillna("").str.split()
    classes = sort_classes(sorted({t for row in tokens for t in row}))
    if not classes:
        raise FoldwiseError(f"{path}: column '{dcfg.target_col}' holds no labels at all")
    order = {c: i for i, c in enumerate(classes)}
    labels = tokens.map(lambda row: " ".join(sorted(set(row), key=order.__getitem__)))
    return labels, classes


LABEL_READERS = {"multiclass": _multiclass_labels, "multilabel": _multilabel_labels}


def _check_image_inputs(dcfg: DataConfig, train_ids: pd.Series, test_ids: pd.Series) -> None:
    _check_images_exist(image_paths(dcfg.dir, dcfg.train_images, train_ids), dcfg.train_images, "data.train_images")
    _check_images_exist(image_paths(dcfg.dir, dcfg.test_images, test_ids), dcfg.test_images, "data.test_images")


def _check_series_inputs(dcfg: DataConfig, train_ids: pd.Series, test_ids: pd.Series) -> None:
    for key, name in (("data.train_series", dcfg.train_series), ("data.test_series", dcfg.test_series)):
        if not dcfg.path(name).is_file():
            raise FoldwiseError(f"{key} not found: {dcfg.path(name)}")


# data.kind -> check that every id's inputs exist (cheap: no decoding)
INPUT_CHECKS = {"images": _check_image_inputs, "timeseries": _check_series_inputs}


def prepare_tables(
    dcfg: DataConfig, out_train: str, out_test: str, out_classes: str, task: str = "multiclass"
) -> None:
    """Check the competition CSVs and write the encoded tables.

    Args:
        dcfg: data config.
        out_train: parquet with ``row, id, label[, group]``; ``label`` is canonical:
            the class (multiclass) or the row's label names joined by spaces (multilabel).
        out_test: parquet with ``row, id`` in the test order.
        out_classes: JSON with the class (or label) names, in output-column order.
        task: ``multiclass`` or ``multilabel``.

    Raises:
        FoldwiseError: missing files or columns, empty labels, duplicate ids,
            test ids that differ from the sample submission, missing images.
    """
    train_path = dcfg.path(dcfg.train_csv)
    train = read_csv(train_path, "training table (data.train_csv)")
    needed = [("data.id_col", dcfg.id_col)]
    needed += [("data.label_cols", c) for c in dcfg.label_cols] if dcfg.label_cols else [("data.target_col", dcfg.target_col)]
    if dcfg.group_col:
        needed.append(("data.group_col", dcfg.group_col))
    for key, col in needed:
        _require_columns(train, train_path, {key: col})
    _check_ids(train[dcfg.id_col], train_path, dcfg.id_col)
    labels, classes = LABEL_READERS[task](train, dcfg, train_path)
    out = pd.DataFrame({"row": np.arange(len(train)), "id": train[dcfg.id_col], "label": labels})
    if dcfg.group_col:
        groups = train[dcfg.group_col]
        if groups.isna().any():
            lines = (np.flatnonzero(groups.isna().to_numpy()) + 2).tolist()[:5]
            raise FoldwiseError(f"{train_path}: empty group in column '{dcfg.group_col}' at line(s) {lines}")
        out["group"] = groups

    test_ids = load_test_ids(dcfg)
    INPUT_CHECKS[dcfg.kind](dcfg, out["id"], test_ids)

    write_parquet(out, out_train)
    write_parquet(pd.DataFrame({"row": np.arange(len(test_ids)), "id": test_ids}), out_test)
    write_json(out_classes, {"classes": classes})
    log.info("train: %d rows, %d classes; test: %d rows", len(out), len(classes), len(test_ids))


def load_test_ids(dcfg: DataConfig) -> pd.Series:
    """Test ids in the order of ``sample_submission.csv``, cross-checked against ``test_csv``."""
    sub_path = dcfg.path(dcfg.sample_submission)
    sample = read_csv(sub_path, "sample submission (data.sample_submission)")
    _require_columns(sample, sub_path, {"data.id_col": dcfg.id_col})
    _check_ids(sample[dcfg.id_col], sub_path, dcfg.id_col)
    ids = sample[dcfg.id_col].reset_index(drop=True)
    if dcfg.test_csv:
        test_path = dcfg.path(dcfg.test_csv)
        test = read_csv(test_path, "test table (data.test_csv)")
        _require_columns(test, test_path, {"data.id_col": dcfg.id_col})
        _check_ids(test[dcfg.id_col], test_path, dcfg.id_col)
        a, b = set(test[dcfg.id_col]), set(ids)
        if a != b:
            only_test, only_sub = sorted(a - b)[:3], sorted(b - a)[:3]
            raise FoldwiseError(
                f"test ids differ between {test_path} and {sub_path}: {len(a - b)} only in the test table "
                f"(e.g. {only_test}), {len(b - a)} only in the sample submission (e.g. {only_sub})"
            )
    return ids


def _decode_chunk(args) -> list[str]:
    import cv2

    cv2.setNumThreads(1)
    out_path, start, paths, size, channels = args
    arr = np.load(out_path, mmap_mode="r+")
    flag = cv2.IMREAD_GRAYSCALE if channels == 1 else cv2.IMREAD_COLOR
    failures = []
    for offset, path in enumerate(paths):
        img = cv2.imread(str(path), flag)
        if img is None:
            failures.append(str(path))
            continue
        h, w = img.shape[:2]
        interp = cv2.INTER_AREA if (h > size or w > size) else cv2.INTER_LINEAR
        if (h, w) != (size, size):
            img = cv2.resize(img, (size, size), interpolation=interp)
        if channels == 1:
            arr[start + offset, :, :, 0] = img
        else:
            # Convert straight into the memmap row: no intermediate RGB copy.
            row = arr[start + offset]
            if not np.shares_memory(cv2.cvtColor(img, cv2.COLOR_BGR2RGB, dst=row), row):
                row[...] = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)  # dst not usable: copy
    # No flush (msync) here: the pages are shared with every other mapping of
    # the file, and atomic_path fsyncs the whole file once before the rename.
    del arr
    return failures


def build_image_cache(paths: list[Path], size: int, channels: int, out_path: str, threads: int = 1) -> None:
    """Decode and resize ``paths`` into an ``(N, size, size, channels)`` uint8 ``.npy``.

    Workers write straight into the output memmap (nothing decoded travels back
    through a pipe). The file appears only when every image decoded.

    Args:
        paths: image files, in row order.
        size: output side length.
        channels: 1 (grayscale) or 3 (RGB).
        out_path: destination ``.npy``.
        threads: worker processes.

    Raises:
        FoldwiseError: naming the images that are missing or cannot be decoded.
    """
    n = len(paths)
    with atomic_path(out_path, suffix=".npy") as tmp:
        arr = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(n, size, size, channels))
        del arr
        chunk = max(1, min(2048, -(-n // max(1, threads * 4))))
        jobs = [(str(tmp), s, paths[s : s + chunk], size, channels) for s in range(0, n, chunk)]
        if threads <= 1 or len(jobs) == 1:
            results = map(_decode_chunk, jobs)
            failures = [f for r in results for f in r]
        else:
            import multiprocessing as mp

            ctx = mp.get_context("fork" if os.name == "posix" else "spawn")
            with ProcessPoolExecutor(max_workers=threads, mp_context=ctx) as pool:
                failures = [f for r in pool.map(_decode_chunk, jobs) for f in r]
        if failures:
            raise FoldwiseError(
                f"{len(failures)} image(s) missing or not decodable (corrupt or truncated?): "
                f"{', '.join(failures[:3])}{' ...' if len(failures) > 3 else ''}"
            )
    log.info("cached %d images at %dx%dx%d into %s", n, size, size, channels, out_path)


def cache_images(
    root: str, template: str, channels: int, table_path: str, size: int, out_path: str, threads: int
) -> None:
    """Build the cache of one split in the row order of its table (``train.parquet``/``test.parquet``)."""
    ids = pd.read_parquet(table_path)["id"]
    build_image_cache(image_paths(root, template, ids), size, channels, out_path, threads)


def _image_cache(d: dict, split: str, table_path: str, size: int, out_path: str, threads: int) -> None:
    cache_images(d["dir"], d[f"{split}_images"], d["channels"], table_path, size, out_path, threads)


def _series_cache(d: dict, split: str, table_path: str, size: int, out_path: str, threads: int) -> None:
    from foldwise.series import cache_series

    csv_path = str(Path(d["dir"]) / d[f"{split}_series"])
    cache_series(csv_path, table_path, d["id_col"], d["step_col"], d["series_channels"], size,
                 d["derived_channels"], out_path)


# data.kind -> builder(data settings, split, table, size, out, threads)
CACHE_BUILDERS = {"images": _image_cache, "timeseries": _series_cache}


def build_cache(d: dict, split: str, table_path: str, size: int, out_path: str, threads: int = 1) -> None:
    """Build one split's cache for the data kind ``d["kind"]`` (images or time series).

    Args:
        d: the ``data`` settings this split's cache depends on (see ``cache_params`` in rules/common.smk).
        split: ``train`` or ``test``.
        table_path: the split's table, whose row order the cache follows.
        size: image side, or series length (0 = longest).
        out_path: destination ``.npy``.
        threads: decoding processes (images).
    """
    CACHE_BUILDERS[d["kind"]](d, split, table_path, size, out_path, threads)


def open_cache(path: str) -> np.ndarray:
    """Open a cache read-only as a memmap. Shape: ``(N, H, W, C)`` uint8."""
    return np.load(path, mmap_mode="r")
