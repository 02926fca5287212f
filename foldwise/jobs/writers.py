"""The files every (model, fold) job writes the same way: its OOF predictions and its test predictions.

``gather`` reads both for every model, net or classic, so one writer of each
keeps their columns and metadata alike.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from foldwise.io import write_parquet


def job_meta(folds_sha: str, config_sha: str, model: str, fold: int | str, *, select_epoch: str | None = None,
             replica: int = 0) -> dict[str, str]:
    """The parquet metadata of a job's predictions, in the order it is written.

    Args:
        folds_sha, config_sha: SHA-256 of ``folds.pkl`` and of the model's settings (gather checks both).
        fold: the fold, or ``"refit"``.
        select_epoch: an OOF file's epoch choice (``best``, ``last``, ``inner``); None for test predictions.
        replica: the seed index; 0 (the single run's seed) writes none.
    """
    meta = {"folds_sha256": folds_sha, "config_sha256": config_sha, "model": model, "fold": str(fold)}
    if select_epoch is not None:
        meta["select_epoch"] = select_epoch
    if replica:
        meta["replica"] = str(replica)
    return meta


def write_oof(path: str, table: pd.DataFrame, va_idx: np.ndarray, fold: int, target_col: str, classes: list,
              probs: np.ndarray, meta: dict, last_probs: np.ndarray, plain: np.ndarray | None = None) -> pd.DataFrame:
    """The fold's OOF file: ``row, id, fold, <target>, prob_<class>..., last_epoch_<class>...``.

    The last epoch's (a classic model: the last round's) probabilities go in
    ``last_epoch_<class>`` (gather reports the CV at the last epoch from them) and,
    with test-time views, the plain probabilities in ``plain_prob_<class>`` (gather
    scores them as the CV without TTA); gather leaves both out of the model's OOF file.

    Shape:
        probs, last_probs, plain: ``(len(va_idx), K)``.
    """
    oof = pd.DataFrame(probs, columns=[f"prob_{c}" for c in classes])
    oof[[f"last_epoch_{c}" for c in classes]] = last_probs
    oof.insert(0, "row", va_idx)
    oof.insert(1, "id", table["id"].to_numpy()[va_idx])
    oof.insert(2, "fold", fold)
    oof.insert(3, target_col, table["label"].to_numpy()[va_idx])
    if plain is not None:
        oof[[f"plain_prob_{c}" for c in classes]] = plain
    write_parquet(oof, path, meta)
    return oof


def write_test(path: str, probs: np.ndarray, classes: list, test_table: str, test_cache: str,
               meta: dict) -> pd.DataFrame:
    """Test predictions ``id, prob_<class>...`` in test-table order.

    Raises:
        ValueError: the predictions (of ``test_cache``'s rows) and the test table differ in length.
    """
    ids = pd.read_parquet(test_table, columns=["id"])["id"]
    if len(ids) != len(probs):
        raise ValueError(f"{test_cache} has {len(probs)} rows but the test table has {len(ids)}")
    test = pd.DataFrame(probs, columns=[f"prob_{c}" for c in classes])
    test.insert(0, "id", ids.to_numpy())
    write_parquet(test, path, meta)
    return test
