"""Read a competition folder into the ``data``, ``task`` and ``folds`` sections of a config.

One call, :func:`infer`, runs the steps in order: place the tables
(:mod:`.tables`), find the inputs (:mod:`.series` for long CSVs, :mod:`.kind`
for images and clips, else a table), the target and task (:mod:`.columns`),
the folds from the class counts, and group-like columns as hints. Each step
records its evidence in the :class:`~.notes.Notes`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .columns import Target, class_folds, group_hints, infer_target
from .kind import Inputs, infer_media
from .notes import Notes
from .series import infer_series, infer_tabular
from .tables import Tables, find_tables


@dataclass(frozen=True)
class Inference:
    """Everything ``init`` read from a folder.

    Attributes:
        tables: the placed tables.
        inputs: the data kind and its keys.
        target: target column(s), task and class counts.
        folds: the ``folds`` section (scheme, n_splits).
        notes: facts with evidence, keys to set, warnings, hints.
        dir_text: ``data.dir`` as written in the config (the folder as given).
    """

    tables: Tables
    inputs: Inputs
    target: Target
    folds: dict
    notes: Notes
    dir_text: str

    @property
    def n_train(self) -> int:
        return len(self.tables.train_df)

    @property
    def n_test(self) -> int:
        return len(self.tables.test_ids)

    def data_section(self) -> dict:
        """The config's ``data`` section (keys in the schema's order, defaults left out where they hold)."""
        t, tgt = self.tables, self.target
        data: dict = {"dir": self.dir_text, "train_csv": t.train, "test_csv": t.test,
                      "sample_submission": t.sample}
        if t.solution:
            data["solution"] = t.solution
        data["id_col"] = t.id_col
        if tgt.label_cols:
            data["label_cols"] = tgt.label_cols
        else:
            data["target_col"] = tgt.target_col
        data.update(self.inputs.data)
        return data


def infer(folder: str | Path, n_splits: int = 5) -> Inference:
    """Read ``folder`` and infer the config's data, task and folds.

    Args:
        folder: the competition folder (written into ``data.dir`` as given).
        n_splits: folds wanted (fewer when a class is rarer).

    Returns:
        The inference.

    Raises:
        InitError: the folder cannot be read (the message names what is missing).
    """
    notes = Notes()
    tables = find_tables(folder, notes)
    if tables.train_series:
        inputs = infer_series(tables, notes)
    else:
        inputs = infer_media(tables, notes)
    target = infer_target(tables, notes, reserved=inputs.reserved if inputs else set())
    if inputs is None:
        inputs = infer_tabular(tables, target, notes)
    if tables.solution and not _solution_fits(tables, target):
        tables = Tables(**{**tables.__dict__, "solution": None})
    if tables.solution:
        notes.fact("data.solution", tables.solution, "held-back answers (id and target): submissions are scored on them")
    folds = class_folds(target, notes, n_splits)
    group_hints(tables, target, notes, skip=inputs.reserved, tabular=inputs.kind == "tabular")
    return Inference(tables, inputs, target, folds, notes, str(folder))


def _solution_fits(t: Tables, target: Target) -> bool:
    """A solution file names the id and every target column (else it is not one)."""
    from .tables import read_table

    cols = set(read_table(t.dir / t.solution, nrows=1).columns)
    want = {t.id_col, *(target.label_cols or [target.target_col])}
    return want <= cols
