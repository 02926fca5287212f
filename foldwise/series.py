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
from foldwise.timeseries import long_csv_to_array

log = logging.getLogger(__name__)


def read_long_csv(
    csv_path: str, id_col: str, step_col: str | None, channels: list[str] | None, length: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`foldwise.timeseries.long_csv_to_array` with user-facing checks.

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
