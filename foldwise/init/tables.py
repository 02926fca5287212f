"""Which CSV of a competition folder is which: sample submission, training and test tables, long series.

Kaggle and Dacon name their files in a few ways (``train.csv``,
``train_labels.csv``, ``test.csv``, ``sample_submission.csv``,
``submission.csv``, ``sample_submission_*.csv``, ``train_features.csv`` …).
The sample submission is the anchor: its first column is the id, and every
other table is placed by whether it holds that id column, whether its ids
repeat (a long series file) and what its name says (train, test, solution).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .notes import InitError, Notes

SAMPLE_PATTERNS = ("sample_submission.csv", "samplesubmission.csv", "sample_submission*.csv",
                   "sample*.csv", "submission.csv", "*submission*.csv")
SOLUTION_WORDS = ("solution", "answer", "ground_truth", "groundtruth")
HEAD_ROWS = 20_000  # rows read to tell a long series file from a table


def read_table(path: Path, nrows: int | None = None, usecols: list[str] | None = None) -> pd.DataFrame:
    """A CSV with every cell as text, exactly as written (BOM and CRLF accepted; empty cells are '')."""
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", nrows=nrows,
                         usecols=usecols)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        raise InitError(f"{path} cannot be read as CSV: {exc}") from None
    df.columns = [str(c).strip() for c in df.columns]
    return df


@dataclass(frozen=True)
class Tables:
    """The folder's tables, as ``init`` placed them.

    Attributes:
        dir: the competition folder.
        sample: file name of the sample submission; ``sample_df`` its rows.
        id_col: the id column (the sample's first column).
        train: file name of the training table (one row per id); ``train_df`` its rows.
        test: file name of the test table, or None (test ids then come from the sample); ``test_df``.
        solution: file name of held-back answers (id + target), or None.
        train_series, test_series: long CSVs whose ids repeat (one row per id and step), or None.
    """

    dir: Path
    sample: str
    sample_df: pd.DataFrame
    id_col: str
    train: str
    train_df: pd.DataFrame
    test: str | None
    test_df: pd.DataFrame | None
    solution: str | None
    train_series: str | None
    test_series: str | None

    @property
    def test_ids(self) -> list[str]:
        """The test ids: the test table's, or the sample's."""
        df = self.test_df if self.test_df is not None else self.sample_df
        return list(df[self.id_col])


def find_sample(csvs: list[str], root: Path) -> str:
    """The sample submission among ``csvs`` (file names), by the names competitions use.

    Raises:
        InitError: none of them looks like a sample submission.
    """
    for pattern in SAMPLE_PATTERNS:
        hits = sorted(n for n in csvs if fnmatch.fnmatch(n.lower(), pattern))
        if hits:
            return hits[0]
    raise InitError(
        f"no sample submission in {root}: expected sample_submission.csv, submission.csv or "
        f"sample_submission_*.csv (it fixes the id column and the submission's format); "
        f"CSV files there: {', '.join(csvs) or 'none'}")


def _role(name: str) -> str | None:
    """``train``, ``test`` or ``solution`` from a file name, or None."""
    low = name.lower()
    if any(w in low for w in SOLUTION_WORDS):
        return "solution"
    if "train" in low:
        return "train"
    if "test" in low:
        return "test"
    return None


def _pick_train(names: list[str], heads: dict[str, pd.DataFrame], sample_df: pd.DataFrame, id_col: str) -> str:
    """The training table among short train-named tables: ``train.csv`` first, then the one with labels."""
    if len(names) == 1:
        return names[0]
    values = set(sample_df.columns[1:])
    with_target = [n for n in names if values & set(heads[n].columns) or len(heads[n].columns) > 1]
    for preferred in ("train.csv", "train_labels.csv"):
        if preferred in with_target:
            return preferred
    return sorted(with_target or names, key=len)[0]


def find_tables(root: str | Path, notes: Notes) -> Tables:
    """Place every CSV of ``root``: sample, training, test, solution and long series files.

    Args:
        root: the competition folder.
        notes: where the inferences and their evidence go.

    Returns:
        The tables (small ones read in full; long series files only named).

    Raises:
        InitError: no folder, no sample submission, no training table, or an id column no table shares.
    """
    root = Path(root)
    if not root.is_dir():
        raise InitError(f"competition folder not found: {root}")
    csvs = sorted(p.name for p in root.iterdir() if p.is_file() and p.suffix.lower() == ".csv")
    sample = notes.fact("data.sample_submission", find_sample(csvs, root), "its file name")
    sample_df = read_table(root / sample)
    if len(sample_df.columns) < 2:
        raise InitError(f"{root / sample}: needs an id column and at least one value column, has {list(sample_df.columns)}")
    id_col = sample_df.columns[0]
    heads = {n: read_table(root / n, nrows=HEAD_ROWS) for n in csvs if n != sample}
    holders = [n for n, df in heads.items() if id_col in df.columns]
    if not holders:
        raise InitError(f"no table of {root} has the sample's first column {id_col!r} (the id column): "
                        f"set data.id_col and data.train_csv by hand")
    long = {n for n in holders if heads[n][id_col].duplicated().any()}
    short = [n for n in holders if n not in long]
    by_role: dict[str, list[str]] = {"train": [], "test": [], "solution": []}
    for n in short:
        if _role(n):
            by_role[_role(n)].append(n)
    if not by_role["train"]:
        raise InitError(f"no training table in {root}: expected train.csv or train_labels.csv with the id column "
                        f"{id_col!r} once per row (found: {', '.join(holders)})")
    train = _pick_train(by_role["train"], heads, sample_df, id_col)
    notes.fact("data.train_csv", train, f"one row per {id_col!r}; its name says train")
    test = sorted(by_role["test"], key=len)[0] if by_role["test"] else None
    notes.fact("data.test_csv", test, "one row per id; its name says test" if test else
               f"no test table: the test ids are the sample's ({len(sample_df)} rows)")
    notes.fact("data.id_col", id_col, f"first column of {sample}, also in {train}")
    solution = sorted(by_role["solution"])[0] if by_role["solution"] else None
    series = {role: sorted((n for n in long if _role(n) == role), key=len) for role in ("train", "test")}
    return Tables(
        dir=root, sample=sample, sample_df=sample_df, id_col=id_col,
        train=train, train_df=read_table(root / train), test=test,
        test_df=read_table(root / test) if test else None, solution=solution,
        train_series=series["train"][0] if series["train"] else None,
        test_series=series["test"][0] if series["test"] else None,
    )
