"""Long-CSV time series and plain tables: the step column, channels, lengths and feature columns.

A long CSV has one row per (id, step): the step column is the numeric column
whose values, within each sampled recording, are distinct and evenly spaced
(0, 1, 2 … or timestamps on a grid), in whatever row order. The channels are
the remaining numeric columns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .columns import Target
from .kind import Inputs
from .notes import InitError, Notes
from .tables import HEAD_ROWS, Tables, read_table

STEP_WORDS = ("step", "time", "t", "timestamp", "seq", "frame", "index", "idx", "sequence")


def _numeric(col: pd.Series) -> np.ndarray | None:
    """The column as floats, or None when a cell is not a number."""
    vals = pd.to_numeric(col.str.strip(), errors="coerce")
    return None if vals.isna().any() else vals.to_numpy(np.float64)


def _is_grid(values: np.ndarray) -> bool:
    """Distinct values on an even grid (steps or timestamps), whatever their order."""
    v = np.sort(values)
    if len(v) < 2:
        return True
    d = np.diff(v)
    return bool(d.min() > 0 and np.allclose(d, d[0], rtol=1e-6, atol=1e-9))


def find_step_col(head: pd.DataFrame, id_col: str) -> str | None:
    """The column that orders each recording's steps, or None (the rows are then taken in file order).

    A candidate must be numeric and, within each of the first 30 recordings of ``head``, distinct
    and evenly spaced; among several, a name like ``step`` or ``time`` wins.
    """
    ids = head[id_col].drop_duplicates().head(30)
    part = head[head[id_col].isin(set(ids))]
    good = []
    for col in head.columns:
        if col == id_col:
            continue
        vals = _numeric(part[col])
        if vals is None or (vals != np.round(vals)).all() and col.lower() not in STEP_WORDS:
            continue
        groups = pd.Series(vals).groupby(part[id_col].to_numpy())
        if all(_is_grid(g.to_numpy()) for _, g in groups):
            good.append(col)
    good.sort(key=lambda c: (c.lower() not in STEP_WORDS, list(head.columns).index(c)))
    return good[0] if good else None


def infer_series(t: Tables, notes: Notes) -> Inputs:
    """The ``timeseries`` keys of a folder with long CSVs.

    Raises:
        InitError: a training long CSV but no test one.
    """
    if not t.test_series:
        raise InitError(f"{t.dir / t.train_series} is a long series file (ids repeat) but no test series file "
                        f"was found (a CSV named like test_features.csv with the column {t.id_col!r}): set data.test_series")
    notes.fact("data.kind", "timeseries", f"ids repeat in {t.train_series} and {t.test_series} (one row per id and step)")
    head = read_table(t.dir / t.train_series, nrows=HEAD_ROWS)
    step = find_step_col(head, t.id_col)
    notes.fact("data.step_col", step, "numeric, distinct and evenly spaced within each sampled recording"
               if step else "no column orders the steps: rows are taken in file order")
    others = [c for c in head.columns if c not in (t.id_col, step)]
    channels = [c for c in others if _numeric(head[c]) is not None]
    data = {"kind": "timeseries", "train_series": t.train_series, "test_series": t.test_series, "step_col": step}
    if len(channels) < len(others):
        data["series_channels"] = channels
        why = f"numeric columns; not {', '.join(c for c in others if c not in channels)}"
    else:
        why = "every column but the id and the step"
    notes.fact("data.series_channels", channels, why)
    if not channels:
        raise InitError(f"{t.dir / t.train_series}: no numeric channel column beside {t.id_col!r} and the step")
    lengths = []
    for name in (t.train_series, t.test_series):
        ids = read_table(t.dir / name, usecols=[t.id_col])[t.id_col]
        lengths.append(ids.value_counts())
    per = pd.concat(lengths)
    longest = int(per.max())
    data["series_length"] = notes.fact(
        "data.series_length", longest, f"the longest recording (steps per recording: min {int(per.min())}, "
        f"median {int(per.median())}, max {longest}; shorter ones are zero-padded)")
    return Inputs("timeseries", data, channels=len(channels), length=longest)


def infer_tabular(t: Tables, target: Target, notes: Notes) -> Inputs:
    """The ``tabular`` keys: feature columns shared by the training and test tables.

    Raises:
        InitError: no test table (the test rows' features would be missing) or no shared feature column.
    """
    if t.test_df is None:
        raise InitError(f"{t.dir}: no image, clip or series file is found by id and there is no test table "
                        f"to read features from (tabular needs test.csv): set data.kind and its keys by hand")
    skip = {t.id_col, *target.excluded}
    feats = [c for c in t.train_df.columns if c not in skip and c in set(t.test_df.columns)]
    if not feats:
        raise InitError(f"{t.dir / t.train}: no feature column shared with {t.test} and no image, clip or "
                        f"series file found by id: set data.kind and its keys")
    extra = [c for c in t.train_df.columns if c not in skip and c not in feats]
    notes.fact("data.kind", "tabular", f"no image, clip or series file found by id; {len(feats)} columns shared "
               f"by {t.train} and {t.test}")
    data = {"kind": "tabular"}
    if extra:
        data["feature_cols"] = notes.fact("data.feature_cols", feats, f"shared with the test table; not "
                                          f"{', '.join(extra)} (training only)")
    cats = [c for c in feats if _numeric(t.train_df[c][t.train_df[c].str.strip() != ""]) is None]
    notes.fact("categorical columns", cats, "cells that are not all numbers (read as categories)")
    return Inputs("tabular", data, channels=len(feats), length=len(t.train_df))
