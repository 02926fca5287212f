"""The leaderboard: one row per model and ensemble, best CV first."""

from __future__ import annotations

import pandas as pd

from foldwise.io import read_json, write_csv
from foldwise.metrics import get_metric


def build_leaderboard(score_files: list[str], submission_reports: dict[str, str] | None = None) -> pd.DataFrame:
    """Collect scores into a table.

    Args:
        score_files: JSON files with ``name, kind, metric, cv, folds`` (and hashes).
        submission_reports: name -> submission report JSON (adds a ``holdout`` column when scored).

    Returns:
        Columns ``name, kind, metric, cv, fold_0..fold_{k-1}`` [, ``holdout``], ``folds_sha256``,
        ``config_sha256`` (12-character prefixes), sorted best CV first.
    """
    rows = []
    for path in score_files:
        s = read_json(path)
        row = {"name": s["name"], "kind": s["kind"], "metric": s["metric"], "cv": s["cv"]}
        row.update({f"fold_{k}": v for k, v in enumerate(s["folds"])})
        rows.append(row | {"folds_sha256": str(s.get("folds_sha256", ""))[:12], "config_sha256": str(s.get("config_sha256", ""))[:12]})
    board = pd.DataFrame(rows)
    reports = {n: read_json(p) for n, p in (submission_reports or {}).items()}
    if any(r.get("holdout") is not None for r in reports.values()):
        board.insert(4, "holdout", [reports.get(n, {}).get("holdout") for n in board["name"]])
    if len(board):
        metric = get_metric(board["metric"].iloc[0], read_json(score_files[0]).get("task", "multiclass"))
        board = board.sort_values("cv", ascending=not metric.greater_is_better, kind="stable").reset_index(drop=True)
    return board


def write_leaderboard(score_files: list[str], submission_reports: dict[str, str], out: str) -> pd.DataFrame:
    """Build the leaderboard and write it atomically as CSV."""
    board = build_leaderboard(score_files, submission_reports)
    write_csv(board, out)
    return board
