"""The target of a competition, its task, its class counts and group-like columns.

The sample submission says what is predicted: one value column (a label, or
space-separated labels) or one column per class (probabilities) or per label
(0/1 decisions). The target is the training column that column names, or
whose values are the sample's class columns, or the one training column the
test table lacks; anything else is refused with the key to set.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .notes import InitError, Notes
from .tables import Tables

GROUP_WORDS = ("group", "patient", "subject", "person", "user", "session", "study", "case", "source", "site")


@dataclass(frozen=True)
class Target:
    """What is predicted.

    Attributes:
        task: ``multiclass`` or ``multilabel``.
        target_col: the label column (None with ``label_cols``).
        label_cols: multilabel 0/1 columns of the training table, or None.
        counts: rows per class (multiclass) or positives per label (multilabel), largest first.
        excluded: training columns that are not inputs (the target and what only restates it).
    """

    task: str
    target_col: str | None
    label_cols: list[str] | None
    counts: dict[str, int]
    excluded: list[str] = field(default_factory=list)


def _tokens(values: pd.Series) -> list[list[str]]:
    return [v.split() for v in values]


def _is_binary(col: pd.Series) -> bool:
    return len(col) > 0 and set(col.str.strip()) <= {"0", "1", "0.0", "1.0"}


def _looks_multilabel(values: pd.Series) -> tuple[bool, str]:
    """Whether a label column holds label sets: empty cells, or several labels in a cell from a smaller vocabulary."""
    empty = int((values.str.strip() == "").sum())
    if empty:
        return True, f"{empty} rows have an empty label, which only multilabel reads (a row with no labels)"
    toks = _tokens(values)
    multi = sum(len(t) > 1 for t in toks)
    vocab = {t for row in toks for t in row}
    if multi and len(vocab) < values.nunique():
        return True, (f"{multi} of {len(values)} rows hold several space-separated labels "
                      f"({len(vocab)} distinct labels in {values.nunique()} distinct cells)")
    return False, f"one class per row ({values.nunique()} classes)"


def _counts_multiclass(values: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in values.value_counts().items()}


def _counts_multilabel(tokens: list[list[str]]) -> dict[str, int]:
    s = pd.Series([t for row in tokens for t in row], dtype=object)
    return {str(k): int(v) for k, v in s.value_counts().items()}


def _restates(df: pd.DataFrame, col: str, target: str) -> bool:
    """``col`` is a one-to-one renaming of ``target`` (e.g. Dacon's label_desc beside label)."""
    pairs = df[[col, target]].drop_duplicates()
    return len(pairs) == df[col].nunique() == df[target].nunique()


def infer_target(t: Tables, notes: Notes, reserved: set[str]) -> Target:
    """Find the target column(s) and the task.

    Args:
        t: the tables.
        notes: where the inferences go.
        reserved: training columns that cannot be targets (path columns).

    Returns:
        The target.

    Raises:
        InitError: no training column fits the sample, or two do.
    """
    train, sample = t.train_df, t.sample_df
    values = list(sample.columns[1:])
    test_cols = set(t.test_df.columns) if t.test_df is not None else set()
    free = [c for c in train.columns if c != t.id_col and c not in reserved and c not in test_cols]
    if len(values) > 1 or values[0] not in train.columns:
        if len(values) > 1 and set(values) <= set(train.columns) and all(_is_binary(train[c]) for c in values):
            cols = [c for c in train.columns if c in set(values)]
            notes.fact("task", "multilabel", f"the sample's {len(values)} value columns are 0/1 columns of {t.train}")
            notes.fact("data.label_cols", cols, "one 0/1 column per label, in the training table's order")
            counts = {c: int(train[c].str.strip().isin(["1", "1.0"]).sum()) for c in cols}
            return Target("multilabel", None, cols, counts, excluded=cols)
        if len(values) > 1:
            wanted = set(values)
            match = [c for c in free if set(train[c]) == wanted
                     or {x for row in _tokens(train[c]) for x in row} == wanted]
            if len(match) != 1:
                what = "no training column" if not match else f"{len(match)} training columns ({', '.join(map(repr, match))})"
                raise InitError(f"{t.dir / t.train}: {what} holds exactly the sample's classes "
                                f"{values[:6]}{' ...' if len(values) > 6 else ''}: set data.target_col")
            col, why = match[0], f"its values are the {len(values)} class columns of {t.sample}"
        else:
            if len(free) != 1:
                what = f"{len(free)} candidate targets" if free else "no candidate target"
                raise InitError(f"{t.dir / t.train}: {what} ({', '.join(map(repr, free)) or 'every column is in the test table'}): "
                                f"the sample's value column {values[0]!r} is not a training column; "
                                f"set data.target_col to the column to predict")
            col, why = free[0], f"the one column of {t.train} that the test table and the sample lack"
    else:
        col, why = values[0], f"the value column of {t.sample}"
    notes.fact("data.target_col", col, why)
    multilabel, task_why = _looks_multilabel(train[col])
    task = notes.fact("task", "multilabel" if multilabel else "multiclass", task_why)
    counts = _counts_multilabel(_tokens(train[col])) if multilabel else _counts_multiclass(train[col])
    excluded = [col] + [c for c in free if c != col and not multilabel and _restates(train, c, col)]
    return Target(task, col, None, counts, excluded=excluded)


def class_folds(target: Target, notes: Notes, n_splits: int = 5) -> dict:
    """The ``folds`` section from the class counts: stratified, with fewer folds when a class is rare.

    Returns:
        ``{"scheme": ..., "n_splits": ...}``.
    """
    counts = target.counts
    shown = ", ".join(f"{k!r}: {v}" for k, v in list(counts.items())[:8]) + (" ..." if len(counts) > 8 else "")
    kind = "labels" if target.task == "multilabel" else "classes"
    notes.fact("classes", len(counts), f"{kind} by rows: {shown}")
    low = min(counts.values()) if counts else 0
    if target.task == "multiclass" and low < n_splits:
        rare = [k for k, v in counts.items() if v == low]
        if low >= 2:
            notes.warnings.append(f"class {rare[0]!r} has {low} rows, fewer than {n_splits} folds: "
                                  f"folds.n_splits lowered to {low} (stratified folds need a row of each class per fold)")
            return {"scheme": "stratified", "n_splits": low}
        notes.warnings.append(f"class {rare[0]!r} has a single row: stratified folds cannot hold it; "
                              f"folds.scheme kfold (some folds will not see that class)")
        return {"scheme": "kfold", "n_splits": n_splits}
    return {"scheme": "stratified", "n_splits": n_splits}


def group_hints(t: Tables, target: Target, notes: Notes, skip: set[str], tabular: bool) -> None:
    """Name columns whose repeated values look like groups (never set: a hint for data.group_col)."""
    df = t.train_df
    for c in df.columns:
        if c == t.id_col or c in skip or c in target.excluded:
            continue
        n = df[c].nunique()
        if not (1 < n <= 0.5 * len(df)) or (tabular and not any(w in c.lower() for w in GROUP_WORDS)):
            continue
        if target.target_col and _restates(df, c, target.target_col):
            continue
        notes.hints.append(f"column {c!r} repeats ({n} distinct values in {len(df)} rows): if rows sharing a value "
                           f"are related (one patient, one person), set data.group_col: {c} and folds.scheme: "
                           f"stratified_group")
