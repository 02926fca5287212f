"""The leaderboard: one row per model and ensemble, best honest CV first; and the pick of ``submissions: best``.

Two CV numbers per row: ``cv``, the score of the OOF file as written (for a
fitted ensemble the weights were fitted on those very rows: in-sample; for a
model with ``select_epoch: best`` each fold's epoch was picked on the rows it
is scored on), and ``cv_honest``, a score in which nothing was chosen on the
rows it scores (:data:`HONEST_BY`). ``cv_is`` says which kind ``cv`` is, and
``optimism`` how much better ``cv`` reads than ``cv_honest``.
"""

from __future__ import annotations

import math

import pandas as pd

from foldwise.io import read_json, write_csv
from foldwise.metrics import get_metric

# honest_by -> what cv_honest is
HONEST_BY = {
    "nested": "nested CV: each fold predicted by the blend (or stacker) fitted on the other folds' OOF rows",
    "no_fitting": "equal or given weights: nothing is fitted, the CV is honest as it stands",
    "last_epoch": "select_epoch best: the CV at each fold's last epoch (a fixed epoch count) stands in",
    "fixed_epochs": "select_epoch last: a fixed epoch count, nothing chosen on the validation rows",
    "inner_split": "select_epoch inner: the epoch was chosen on an inner split of the training rows",
}
# honest_by -> what cv is
CV_IS = {"nested": "in_sample", "last_epoch": "selected_epoch"}


def _honest(s: dict) -> tuple[float, str]:
    """(cv_honest, honest_by) of a score file; files without the keys have nothing honest to show."""
    if "cv_honest" in s:
        return s["cv_honest"], s["honest_by"]
    return math.nan, "unknown"


# Columns of the DAG's levers, shown only when some score file records them (a model with several seeds,
# a refit, a pseudo-labelled student), so a board of single-seed, fold-averaged models is as it was.
LEVER_COLUMNS = {"seeds": "seeds", "cv_seed_std": "cv_seed_std", "test_from": "test_from",
                 "pseudo_source": "pseudo_source"}


def _lever_columns(s: dict) -> dict:
    """``seeds, cv_seed_std`` (the spread of the honest CV over seeds), ``test_from`` and ``pseudo_source`` of a row."""
    model = s["kind"] == "model"
    return {
        "seeds": s.get("seeds", 1) if model else None,
        "cv_seed_std": s.get("cv_seed_std", math.nan) if model else math.nan,
        "test_from": s.get("test_from", "folds") if model else None,
        "pseudo_source": s.get("pseudo_source"),
    }


def build_leaderboard(score_files: list[str], submission_reports: dict[str, str] | None = None) -> pd.DataFrame:
    """Collect scores into a table.

    Args:
        score_files: JSON files with ``name, kind, metric, cv, folds``, ``cv_honest, honest_by``
            (models also ``cv_last_epoch`` and ``cv_no_tta``, the CV without test-time views) and hashes.
        submission_reports: name -> submission report JSON (adds a ``holdout`` column when scored);
            the report of ``best`` names its pick (``picked``), which gets ``selected`` True.

    Returns:
        Columns ``name, kind, metric, cv, cv_no_tta, cv_is, cv_honest, honest_by, optimism`` [, ``holdout``],
        ``cv_last_epoch, weights`` [, ``seeds, cv_seed_std``] [, ``test_from``] [, ``pseudo_source``],
        ``fold_0..fold_{k-1}, folds_sha256, config_sha256`` [, ``selected``]
        (hashes as 12-character prefixes; ``weights``: what a net started from, ``scratch``, a file or a hub
        repository with the SHA-256 of the weights, empty for ensembles and classic models), sorted by
        ``cv_honest``, best first (ties: by ``cv``).
    """
    rows, task = [], "multiclass"
    for path in score_files:
        s = read_json(path)
        task = s.get("task", task)
        honest, how = _honest(s)
        metric = get_metric(s["metric"], task)
        sign = 1 if metric.greater_is_better else -1
        row = {
            "name": s["name"], "kind": s["kind"], "metric": s["metric"], "cv": s["cv"],
            "cv_no_tta": s.get("cv_no_tta") if s["kind"] == "model" else None,
            "cv_is": CV_IS.get(how, "honest"), "cv_honest": honest, "honest_by": how,
            "optimism": sign * (s["cv"] - honest), "cv_last_epoch": s.get("cv_last_epoch", math.nan),
            "weights": s.get("weights", ""),
            **_lever_columns(s),
        }
        row.update({f"fold_{k}": v for k, v in enumerate(s["folds"])})
        rows.append(row | {"folds_sha256": str(s.get("folds_sha256", ""))[:12], "config_sha256": str(s.get("config_sha256", ""))[:12]})
    board = pd.DataFrame(rows)
    shown = {c for c in LEVER_COLUMNS for path in score_files if LEVER_COLUMNS[c] in read_json(path)}
    board = board.drop(columns=[c for c in LEVER_COLUMNS if c not in shown and c in board.columns])
    if "seeds" in board.columns:
        board["seeds"] = board["seeds"].astype("Int64")  # ensembles: blank
    reports = {n: read_json(p) for n, p in (submission_reports or {}).items()}
    picked = reports.get("best", {}).get("picked")
    if any(r.get("holdout") is not None for r in reports.values()) and len(board):
        holdout = [reports.get(n, reports["best"] if n == picked else {}).get("holdout") for n in board["name"]]
        board.insert(board.columns.get_loc("optimism") + 1, "holdout", holdout)
    if picked is not None and len(board):
        board["selected"] = board["name"] == picked
    if len(board):
        metric = get_metric(board["metric"].iloc[0], task)
        board = board.sort_values(["cv_honest", "cv"], ascending=not metric.greater_is_better, kind="stable",
                                  na_position="last").reset_index(drop=True)
    return board


def pick_best(score_files: list[str]) -> dict:
    """The model or ensemble with the best honest CV (never the in-sample one).

    Returns:
        ``{"picked": name, "by": "cv_honest", "cv_honest": ..., "honest_by": ..., "cv": ..., "metric": ...}``.

    Raises:
        ValueError: no candidate has an honest CV.
    """
    board = build_leaderboard(score_files)
    board = board[board["cv_honest"].notna()]
    if board.empty:
        raise ValueError("no model or ensemble has an honest CV to pick the best submission by")
    top = board.iloc[0]
    return {"picked": top["name"], "kind": top["kind"], "by": "cv_honest", "cv_honest": float(top["cv_honest"]),
            "honest_by": top["honest_by"], "cv": float(top["cv"]), "metric": top["metric"]}


def write_leaderboard(score_files: list[str], submission_reports: dict[str, str], out: str) -> pd.DataFrame:
    """Build the leaderboard and write it atomically as CSV."""
    board = build_leaderboard(score_files, submission_reports)
    write_csv(board, out)
    return board
