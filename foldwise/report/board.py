"""The leaderboard as an HTML table, and every entry's fold scores as a figure."""

from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd

from foldwise.io import write_text
from foldwise.report.common import color, figure, save

_FOLD = re.compile(r"fold_(\d+)$")
_KNOWN = {"name", "kind", "metric", "cv", "holdout", "folds_sha256", "config_sha256"}

_CSS = """
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; padding: 12px; color: #1f2937; }
table { border-collapse: collapse; width: 100%; }
th, td { padding: 6px 10px; border-bottom: 1px solid #e5e7eb; text-align: right; white-space: nowrap; }
th { background: #f3f4f6; font-weight: 600; position: sticky; top: 0; }
td.text, th.text { text-align: left; }
td.hash { font-family: ui-monospace, monospace; font-size: 12px; color: #6b7280; }
tr.best td { background: #ecfdf5; font-weight: 600; }
.kind { display: inline-block; padding: 0 6px; border-radius: 8px; font-size: 12px; background: #e0e7ff; }
.kind.ensemble { background: #fef3c7; }
p.note { color: #6b7280; font-size: 12px; }
"""


def fold_columns(board: pd.DataFrame) -> list[str]:
    """The ``fold_<k>`` columns, in fold order."""
    return sorted((c for c in board.columns if _FOLD.match(c)), key=lambda c: int(_FOLD.match(c).group(1)))


def summary(board: pd.DataFrame) -> pd.DataFrame:
    """The leaderboard with ``fold_mean`` and ``fold_std`` (sample std over folds) added after ``cv``."""
    folds = board[fold_columns(board)].to_numpy(dtype=np.float64)
    out = board.copy()
    at = list(out.columns).index("cv") + 1 if "cv" in out else len(out.columns)
    out.insert(at, "fold_mean", np.nanmean(folds, axis=1) if folds.size else np.nan)
    std = np.nanstd(folds, axis=1, ddof=1) if folds.shape[1] > 1 else np.zeros(len(out))
    out.insert(at + 1, "fold_std", std)
    return out


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    if isinstance(value, (float, np.floating)):
        return f"{value:.4f}"
    return html.escape(str(value))


def leaderboard_html(leaderboard: str, out: str) -> pd.DataFrame:
    """Write the leaderboard as a small standalone HTML page (the report shows it in a frame).

    Columns: rank, name, kind, metric, CV, mean ± std over folds, the held-back
    score when a solution is set, any further score columns the leaderboard
    carries (e.g. an honest ensemble CV), each fold, and the split and config hashes.
    """
    board = summary(pd.read_csv(leaderboard, dtype={"name": str, "folds_sha256": str, "config_sha256": str}))
    folds = fold_columns(board)
    extra = [c for c in board.columns if c not in _KNOWN | set(folds) | {"fold_mean", "fold_std"}]
    cols = ["name", "kind", "metric", "cv", "fold_mean ± std"]
    cols += [c for c in ("holdout",) if c in board] + extra + folds
    cols += [c for c in ("folds_sha256", "config_sha256") if c in board]
    titles = {"cv": "CV (OOF)", "fold_mean ± std": "fold mean ± std", "holdout": "held-back",
              "folds_sha256": "split", "config_sha256": "config"}
    head = "".join(
        f'<th class="{"text" if c in ("name", "kind", "metric") else ""}">{html.escape(titles.get(c, c.replace("_", " ")))}</th>'
        for c in ["#", *cols]
    )
    rows = []
    for rank, (_, r) in enumerate(board.iterrows(), start=1):
        cells = [f"<td>{rank}</td>"]
        for c in cols:
            if c == "fold_mean ± std":
                cells.append(f"<td>{_fmt(r['fold_mean'])} ± {_fmt(r['fold_std'])}</td>")
            elif c == "kind":
                kind = html.escape(str(r[c]))
                cells.append(f'<td class="text"><span class="kind {kind}">{kind}</span></td>')
            elif c in ("name", "metric", "weights"):
                cells.append(f'<td class="text">{_fmt(r[c])}</td>')
            elif c.endswith("sha256"):
                cells.append(f'<td class="hash">{_fmt(r[c])}</td>')
            else:
                cells.append(f"<td>{_fmt(r[c])}</td>")
        rows.append(f'<tr class="{"best" if rank == 1 else ""}">{"".join(cells)}</tr>')
    note = (
        "Sorted best CV first. CV is the metric on all out-of-fold predictions; fold mean ± std (sample standard "
        "deviation) shows the spread over folds. Split and config are the first 12 hex digits of the SHA-256 of "
        "folds.pkl and of the resolved settings. Weights: what each net started from (scratch, a local file, or "
        "a hub repository at its revision), with the first 12 hex digits of the weights file's SHA-256."
    )
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Leaderboard</title>'
        f"<style>{_CSS}</style></head><body>\n<table id=\"leaderboard\"><thead><tr>{head}</tr></thead><tbody>\n"
        + "\n".join(rows)
        + f'\n</tbody></table>\n<p class="note">{html.escape(note)}</p>\n</body></html>\n'
    )
    write_text(out, page)
    return board


def plot_fold_scores(leaderboard: str, out: str) -> None:
    """Each entry's fold scores as dots, its CV as a bar tick and the held-back score when set."""
    board = summary(pd.read_csv(leaderboard, dtype={"name": str}))
    folds = fold_columns(board)
    n = len(board)
    fig, ax = figure(width=9, height=0.55 * n + 1.4)
    ypos = np.arange(n)[::-1]
    for i, (_, r) in enumerate(board.iterrows()):
        y = ypos[i]
        values = r[folds].to_numpy(dtype=np.float64)
        ax.scatter(values, np.full(len(values), y), s=28, color=color(i), alpha=0.75, zorder=3,
                   label="fold scores" if i == 0 else None)
        ax.errorbar(r["fold_mean"], y, xerr=r["fold_std"], fmt="none", ecolor="#374151", capsize=4, zorder=2,
                    label="fold mean ± std" if i == 0 else None)
        ax.scatter([r["cv"]], [y], marker="|", s=260, color="#111827", zorder=4, label="CV (OOF)" if i == 0 else None)
        if "holdout" in board and pd.notna(r.get("holdout")):
            ax.scatter([r["holdout"]], [y], marker="*", s=120, color="#DC2626", zorder=5,
                       label="held-back" if i == 0 else None)
    ax.set_yticks(ypos, [f"{r['name']} ({r['kind']})" for _, r in board.iterrows()])
    ax.set_xlabel(str(board["metric"].iloc[0]) if n else "score")
    ax.set_title("Scores per fold")
    ax.grid(axis="y", alpha=0)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    save(fig, out)
