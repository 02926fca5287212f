"""Sensor time series: a long CSV (one row per id and step) into a float32 ``(N, T, C)`` cache.

Long form, as in Dacon-style sensor competitions: one row per (id, step) with
one column per channel. Recordings may differ in length: each is cropped to its
first ``length`` steps or zero-padded at the end (``length = 0`` takes the
longest recording). Ids are text, exactly as written (``007`` stays ``007``).
Everything after the CSV read is vectorised on whole columns; no Python code
runs per row.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from foldwise.errors import FoldwiseError
from foldwise.io import atomic_path

log = logging.getLogger(__name__)


def long_csv_to_array(
    csv_path: str | Path,
    id_col: str,
    step_col: str | None,
    channels: list[str] | None,
    length: int,
    *,
    pad_value: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Read a long-format CSV into one fixed-length sequence per id.

    Rows are ordered by id, then by step (the file may be in any order; an
    already sorted file skips the sort). Sequences longer than ``length`` keep
    their first ``length`` steps; shorter ones are padded at the end with
    ``pad_value``. Steps are taken in order, not as positions: missing step
    numbers are not filled in.

    Args:
        csv_path: the CSV, with a header row.
        id_col: column naming the sequence (read as text, whatever it holds).
        step_col: column ordering the rows of a sequence (numeric); None keeps the file order.
        channels: value columns, in the order of the output's last axis; None takes every
            column but the id and step columns.
        length: ``T``, the steps kept per sequence; 0 takes the longest sequence.
        pad_value: value of padded steps.

    Returns:
        ``(ids, array)``: ``ids`` of shape ``(N,)``, text exactly as written in
        the file (``007`` stays ``007``), sorted as text; ``array`` of shape
        ``(N, length, len(channels))``, float32, ``array[i]`` being ``ids[i]``'s
        sequence.

    Raises:
        KeyError: a named column is missing.
        ValueError: ``length`` < 0 or a repeated (id, step) pair.
    """
    if length < 0:
        raise ValueError(f"length must be >= 0, got {length}")
    table, channels = _read_columns(csv_path, id_col, step_col, channels)
    n_rows = table.num_rows
    if n_rows == 0:
        return np.empty(0, dtype=object), np.full((0, max(length, 1), len(channels)), pad_value, np.float32)
    code, ids = _dense_ids(table.column(id_col))
    step = table.column(step_col).to_numpy() if step_col else np.arange(n_rows)
    code, perm = _sorted_rows(code, step, ids, csv_path)
    return ids, _fixed_length(code, _values(table, channels, perm), len(ids), length, pad_value)


def _read_columns(csv_path, id_col: str, step_col: str | None, channels: list[str] | None):
    """The id, step and value columns of the CSV (ids as text, values float32), and the value columns' names.

    Raises:
        KeyError: a named column is missing.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if channels is None:
        header = pacsv.open_csv(csv_path).schema.names
        channels = [c for c in header if c not in (id_col, step_col)]
    channels = list(channels)
    wanted = [id_col, *([step_col] if step_col else []), *channels]
    try:
        table = pacsv.read_csv(
            csv_path,
            convert_options=pacsv.ConvertOptions(
                include_columns=wanted,
                column_types={id_col: pa.string(), **{c: pa.float32() for c in channels}},
                strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid:
        header = pacsv.open_csv(csv_path).schema.names
        missing = [c for c in wanted if c not in header]
        if missing:
            raise KeyError(f"{csv_path}: no column(s) {missing}; columns are: {', '.join(header)}") from None
        raise
    return table, channels


def _dense_ids(column) -> tuple[np.ndarray, np.ndarray]:
    """Ids -> dense codes 0..N-1 in sorted id order (hash once, sort only the N unique ids).

    Returns:
        ``(code per row, the N unique ids sorted as text)``.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(column).combine_chunks()
    uniques = encoded.dictionary
    order_of_uniques = np.asarray(pc.sort_indices(uniques))
    code = encoded.indices.to_numpy(zero_copy_only=False)
    if np.any(np.diff(order_of_uniques) != 1):  # ids not first seen in sorted order: renumber
        rank = np.empty(len(uniques), dtype=code.dtype)
        rank[order_of_uniques] = np.arange(len(uniques), dtype=code.dtype)
        code = rank[code]
    return code, uniques.take(pa.array(order_of_uniques)).to_numpy(zero_copy_only=False)


def _sorted_rows(code: np.ndarray, step: np.ndarray, ids: np.ndarray, csv_path) -> tuple[np.ndarray, np.ndarray | None]:
    """Rows by (id, step), unless they already are (strictly, which also rules out repeated steps).

    Returns:
        ``(codes in row order, the permutation applied or None)``.

    Raises:
        ValueError: an id has the same step twice.
    """
    d_code = np.diff(code)
    if not np.any((d_code < 0) | ((d_code == 0) & (np.diff(step) <= 0))):
        return code, None
    perm = np.lexsort((step, code))
    code, step = code[perm], step[perm]
    same = code[1:] == code[:-1]
    if np.any(step[1:][same] == step[:-1][same]):
        i = int(np.flatnonzero(same & (step[1:] == step[:-1]))[0])
        raise ValueError(f"{csv_path}: id {ids[code[i]]} has step {step[i]} twice")
    return code, perm


def _values(table, channels: list[str], perm: np.ndarray | None) -> np.ndarray:
    """The value columns as ``(rows, C)`` float32 in row order, NaN where empty."""
    values = np.empty((table.num_rows, len(channels)), dtype=np.float32)
    if perm is None:  # record batch by record batch: contiguous blocks of rows, ~2x faster than whole columns
        offset = 0
        for batch in table.select(channels).to_batches():
            rows = slice(offset, offset + batch.num_rows)
            for c in range(len(channels)):
                values[rows, c] = batch.column(c).to_numpy(zero_copy_only=False)
            offset += batch.num_rows
    else:
        for c, name in enumerate(channels):
            values[:, c] = table.column(name).to_numpy()[perm]
    return values


def _fixed_length(code: np.ndarray, values: np.ndarray, n_ids: int, length: int, pad_value: float) -> np.ndarray:
    """One ``(length, C)`` sequence per id: the first ``length`` steps, padded at the end.

    Shape:
        code: ``(rows,)`` sorted; values: ``(rows, C)``. Returns ``(n_ids, length, C)`` float32
        (``length`` 0: the longest sequence's).
    """
    counts = np.bincount(code, minlength=n_ids)
    length = length or int(counts.max())
    if np.all(counts == length):  # the common case: every sequence has exactly `length` steps
        return values.reshape(n_ids, length, values.shape[1])
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    pos = np.arange(len(code)) - starts[code]
    keep = pos < length
    out = np.full((n_ids, length, values.shape[1]), pad_value, dtype=np.float32)
    out[code[keep], pos[keep]] = values[keep]
    return out


def read_long_csv(
    csv_path: str, id_col: str, step_col: str | None, channels: list[str] | None, length: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`long_csv_to_array` with user-facing checks.

    Returns:
        ``(ids, array)`` with ``array`` of shape ``(N, length, C)`` float32.

    Raises:
        FoldwiseError: an unreadable file, a missing column, a repeated (id, step), an empty value.
    """
    import pyarrow as pa

    try:
        ids, arr = long_csv_to_array(csv_path, id_col, step_col, channels, length)
    except KeyError as exc:
        raise FoldwiseError(str(exc).strip("'\"")) from None
    except (ValueError, pa.ArrowInvalid, OSError) as exc:
        raise FoldwiseError(f"{csv_path}: {exc}") from None
    if np.isnan(arr).any():
        n, t, c = np.argwhere(np.isnan(arr))[0]
        raise FoldwiseError(f"{csv_path}: empty or non-numeric value for id '{ids[n]}' at step {t}, channel {c}")
    return ids, arr


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
    ids, arr = read_long_csv(csv_path, id_col, step_col, channels, length)
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
