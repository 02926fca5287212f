"""Plain tabular competitions (``data.kind: tabular``): the feature columns of ``train.csv`` / ``test.csv`` as a cache.

The cache of a split is a float32 ``(N, F)`` ``.npy`` in the row order of its
table: numeric columns as numbers (an empty cell is NaN), categorical columns
as a stable code per category (CRC-32 of the text, modulo 2**24, so that it is
exact in float32 and the same in every split; empty is NaN). Which columns are
features and which are categorical is decided once, from ``train_csv``, by
:func:`tabular_layout` while the DAG is planned, and passed to both splits'
cache jobs and to the models, so the two caches always agree.
"""

from __future__ import annotations

import logging
import zlib

import numpy as np
import pandas as pd

from foldwise.data.tables import DataConfig, split_table
from foldwise.errors import FoldwiseError
from foldwise.io import atomic_path

log = logging.getLogger(__name__)
CODE_MODULUS = 2**24  # category codes stay exact integers in float32


def tabular_layout(dcfg: DataConfig, feature_cols: list[str] | None, categorical_cols: list[str] | None) -> dict:
    """The feature columns and which of them are categorical, read from ``train_csv``.

    Args:
        dcfg: the data config.
        feature_cols: the configured feature columns, or None for every column but the id, target,
            label and group columns.
        categorical_cols: the configured categorical columns, or None for the feature columns whose
            non-empty cells are not all numbers.

    Returns:
        ``{"columns": [...], "categorical": [...]}`` (names, in feature order).
    """
    train, path = split_table(dcfg, "train")
    reserved = {dcfg.id_col, dcfg.target_col, dcfg.group_col, *(dcfg.label_cols or [])}
    columns = list(feature_cols) if feature_cols else [c for c in train.columns if c not in reserved]
    missing = [c for c in columns if c not in train.columns]
    if missing:
        raise FoldwiseError(f"{path}: no column {missing[0]!r} (config key data.feature_cols); "
                            f"columns are: {', '.join(train.columns)}")
    if not columns:
        raise FoldwiseError(f"{path}: no feature columns beside the id and target columns")
    if categorical_cols is None:
        categorical = [c for c in columns if not _numeric(train[c])]
    else:
        categorical = [c for c in columns if c in set(categorical_cols)]
    return {"columns": columns, "categorical": categorical}


def _numeric(values: pd.Series) -> bool:
    present = values.dropna()
    return bool(pd.to_numeric(present, errors="coerce").notna().all())


def category_codes(values: pd.Series) -> np.ndarray:
    """Stable float codes of category texts (NaN for empty cells)."""
    out = np.full(len(values), np.nan, dtype=np.float32)
    present = values.notna().to_numpy()
    out[present] = [zlib.crc32(str(v).encode()) % CODE_MODULUS for v in values[present]]
    return out


def tabular_array(table: pd.DataFrame, columns: list[str], categorical: list[str], path) -> np.ndarray:
    """The feature columns of a text table as a float32 ``(N, F)`` array."""
    out = np.empty((len(table), len(columns)), dtype=np.float32)
    cats = set(categorical)
    for j, col in enumerate(columns):
        if col not in table.columns:
            raise FoldwiseError(f"{path}: no column {col!r} (a feature column of train_csv)")
        if col in cats:
            out[:, j] = category_codes(table[col])
            continue
        numbers = pd.to_numeric(table[col], errors="coerce")
        bad = numbers.isna() & table[col].notna()
        if bad.any():
            raise FoldwiseError(f"{path}: column {col!r} is numeric in train_csv but holds "
                                f"{table[col][bad].iloc[0]!r} at line {int(np.flatnonzero(bad)[0]) + 2}; "
                                "list it in data.categorical_cols")
        out[:, j] = numbers.to_numpy(dtype=np.float64)
    return out


def cache_tabular(dcfg: DataConfig, split: str, columns: list[str], categorical: list[str], out_path: str) -> None:
    """Build one split's tabular cache in the row order of its table (``train_csv``; the test ids' order)."""
    table, path = split_table(dcfg, split)
    arr = tabular_array(table, columns, categorical, path)
    with atomic_path(out_path, suffix=".npy") as tmp:
        with open(tmp, "wb") as fh:
            np.save(fh, arr)
    log.info("cached %d rows x %d columns (%d categorical) into %s", *arr.shape, len(categorical), out_path)
