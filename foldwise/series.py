"""Sensor time series from long CSV files into a float32 ``(N, T, C)`` cache.

Long form, as in Dacon-style sensor competitions: one row per (id, step) with
one column per channel. Recordings may differ in length: each is cropped to its
first ``length`` steps or zero-padded at the end (``length = 0`` takes the
longest recording).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from foldwise.errors import FoldwiseError
from foldwise.io import atomic_path

log = logging.getLogger(__name__)


def long_csv_to_array(
    csv_path: str, id_col: str, step_col: str | None, channels: list[str] | None, length: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Read a long CSV into one array, without a Python loop over rows.

    Args:
        csv_path: the features file.
        id_col: recording id column.
        step_col: time/step column that orders each recording (None: file order).
        channels: channel columns (None: every other column).
        length: steps per recording after crop/pad (0 = the longest).

    Returns:
        ``(ids, array)``: ids in order of first appearance, shape ``(N,)``; the
        array, shape ``(N, length, C)`` float32.

    Raises:
        FoldwiseError: a missing column, a non-numeric or empty channel value.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    try:
        table = pacsv.read_csv(csv_path, convert_options=pacsv.ConvertOptions(column_types={id_col: pa.string()}))
    except (pa.ArrowInvalid, FileNotFoundError, OSError) as exc:
        raise FoldwiseError(f"{csv_path} cannot be read as CSV: {exc}") from None
    names = table.column_names
    for col in [id_col] + ([step_col] if step_col else []) + list(channels or []):
        if col not in names:
            raise FoldwiseError(f"{csv_path}: no column '{col}'; columns are: {', '.join(names)}")
    channels = list(channels) if channels else [c for c in names if c not in (id_col, step_col)]
    values = np.empty((table.num_rows, len(channels)), dtype=np.float32)
    for j, col in enumerate(channels):
        column = table[col]
        if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
            raise FoldwiseError(f"{csv_path}: channel column '{col}' is not numeric ({column.type})")
        if column.null_count:
            raise FoldwiseError(f"{csv_path}: channel column '{col}' has {column.null_count} empty value(s)")
        values[:, j] = column.to_numpy(zero_copy_only=False)
    codes, ids = pd.factorize(table[id_col].to_numpy(zero_copy_only=False))
    step = table[step_col].to_numpy(zero_copy_only=False) if step_col else np.arange(table.num_rows)
    order = np.lexsort((step, codes))
    codes, values = codes[order], values[order]
    counts = np.bincount(codes, minlength=len(ids))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    position = np.arange(len(codes)) - starts[codes]
    length = int(length) or int(counts.max())
    keep = position < length
    out = np.zeros((len(ids), length, len(channels)), dtype=np.float32)
    out[codes[keep], position[keep]] = values[keep]
    return np.asarray(ids, dtype=object), out


DERIVED = {
    "diff": lambda x: np.diff(x, axis=1, prepend=x[:, :1]),
    "cumsum": lambda x: np.cumsum(x, axis=1),
}


def cache_series(
    csv_path: str, table_path: str, id_col: str, step_col: str | None, channels: list[str] | None,
    length: int, derived: list[str], out_path: str,
) -> None:
    """Build one split's series cache in the row order of its table.

    Args:
        csv_path: long features CSV.
        table_path: ``results/data/{split}.parquet`` (ids in row order).
        derived: extra channels computed from the raw ones: ``diff`` (first
            difference) and/or ``cumsum`` (cumulative sum), appended in that order.
        out_path: destination ``.npy``, shape ``(N, length, C * (1 + len(derived)))``.

    Raises:
        FoldwiseError: ids of the table with no rows in the features file.
    """
    ids, arr = long_csv_to_array(csv_path, id_col, step_col, channels, length)
    position = pd.Series(np.arange(len(ids)), index=pd.Index(ids, dtype=object))
    wanted = pd.read_parquet(table_path)["id"].astype(str)
    missing = ~wanted.isin(position.index)
    if missing.any():
        raise FoldwiseError(
            f"{csv_path}: no rows for {missing.sum()} id(s) of the table, e.g. '{wanted[missing].iloc[0]}'"
        )
    arr = arr[position.loc[wanted].to_numpy()]
    parts = [arr] + [DERIVED[name](arr) for name in derived]
    arr = np.concatenate(parts, axis=2).astype(np.float32)
    with atomic_path(out_path, suffix=".npy") as tmp:
        with open(tmp, "wb") as fh:
            np.save(fh, arr)
    log.info("cached %d series of %d steps x %d channels into %s", *arr.shape, out_path)
