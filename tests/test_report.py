"""`snakemake --report` on the tiny run, opened in headless Chromium; live progress of training jobs."""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import time
import urllib.parse
from pathlib import Path

import pandas as pd
import pytest

from foldwise.runtime.progress import EpochProgress, read_statuses, status_path

from .browser import Browser, find_chromium
from .pipeline import summarize

# (category, subcategory, a label shown in the results table, what the shown file must contain)
PARTS = [
    ("1. Leaderboard", "table", "leaderboard", "html"),
    ("1. Leaderboard", "scores per fold", "scores per fold", "img"),
    ("2. Learning curves", "res", "learning curves", "img"),
    ("2. Learning curves", "cnx", "learning curves", "img"),
    ("3. Predictions", "confusion matrix", "confusion matrix (best submission)", "img"),
    ("3. Predictions", "recall per class", "recall per class", "img"),
    ("3. Predictions", "calibration", "calibration (reliability diagram)", "img"),
    ("3. Predictions", "class distribution", "class distribution, train vs. predicted test", "img"),
    ("4. Ensembles", "blend", "member weights", "img"),
    ("4. Ensembles", "hill", "member weights", "img"),
    ("5. Jobs", "training jobs", "wall time, samples/s, GPU memory", "img"),
]

# Clicks as a person would: a menu entry by its text, then the eye button in a results row.
HELPERS = """
window.__fw = {
  click(text) {
    const els = [...document.querySelectorAll('nav a, nav li, nav span, nav div')]
      .filter(e => e.textContent.trim() === text && e.offsetParent !== null);
    if (!els.length) return false;
    els[els.length - 1].click();
    return true;
  },
  view(label) {
    const row = [...document.querySelectorAll('nav tr')]
      .find(r => [...r.cells].some(c => c.textContent.trim() === label));
    const button = row && row.querySelector('a');
    if (!button) return false;
    button.click();
    return true;
  },
  shown() {
    const img = [...document.querySelectorAll('img')].find(i => i.src.startsWith('data:image/png'));
    if (img) return img.complete && img.naturalWidth > 0 ? {kind: 'img', width: img.naturalWidth, height: img.naturalHeight} : null;
    const frame = document.querySelector('iframe');
    return frame && frame.src.startsWith('data:text/html') ? {kind: 'html', src: frame.src} : null;
  },
};
true
"""

pytestmark = pytest.mark.workflow


@pytest.fixture(scope="module")
def report(tiny_run) -> Path:
    """The tiny run's report: its figures were made by the run itself; --report only assembles."""
    plan = tiny_run.plan()
    assert plan == [], f"a finished run has nothing left to do, figures included: {plan}"
    tiny_run.snakemake("--report", "results/report.html")
    path = tiny_run.work / "results" / "report.html"
    assert path.stat().st_size > 100_000
    return path


def test_report_figures_are_part_of_a_normal_run(tiny_run):
    rep = tiny_run.work / "results" / "report"
    names = {p.relative_to(rep).as_posix() for p in rep.rglob("*") if p.is_file()}
    assert names == {
        "leaderboard.html", "fold_scores.png", "curves/res.png", "curves/cnx.png", "confusion.png", "recall.png",
        "calibration.png", "classes.png", "weights/blend.png", "weights/hill.png", "jobs.png",
    }
    page = (rep / "leaderboard.html").read_text()
    board = pd.read_csv(tiny_run.work / "results" / "leaderboard.csv")
    for name in board["name"]:
        assert f">{name}<" in page
    for title in ("CV (OOF)", "fold mean ± std", "held-back", "fold 0", "fold 1", "split", "config"):
        assert f">{title}<" in page
    assert board["folds_sha256"].iloc[0] in page


@pytest.mark.skipif(not find_chromium() and os.environ.get("CI") != "true",
                    reason="no Chromium (apt-get install chromium; .ci/run installs it)")
def test_report_renders_in_chromium(report, tmp_path):
    shots = Path(os.environ.get("FOLDWISE_REPORT_SHOTS", tmp_path))
    url = report.resolve().as_uri()
    with Browser(width=1400, height=900) as browser:
        browser.open(url)
        assert browser.wait_for("document.querySelectorAll('nav li, nav a').length > 5")
        browser.screenshot(shots / "report-home.png")
        text = browser.evaluate("document.body.innerText")
        for category in dict.fromkeys(c for c, *_ in PARTS):
            assert category in text, f"category {category} missing from the menu"
        for category, subcategory, label, kind in PARTS:
            browser.open(url)  # back to the menu, as after a reload
            browser.evaluate(HELPERS)
            assert browser.wait_for(f"__fw.click({json.dumps(category)})"), category
            if not browser.wait_for(f"__fw.view({json.dumps(label)})", timeout=2):
                assert browser.wait_for(f"__fw.click({json.dumps(subcategory)})"), (category, subcategory)
                assert browser.wait_for(f"__fw.view({json.dumps(label)})"), (category, subcategory, label)
            shown = browser.wait_for("__fw.shown()")
            assert shown and shown["kind"] == kind, (category, subcategory, shown)
            if kind == "img":
                assert 450 <= shown["width"] <= 900, (subcategory, shown)  # readable, and fits beside the menu
            else:
                _, _, payload = shown["src"].partition(",")
                page = base64.b64decode(payload).decode() if ";base64" in shown["src"] else urllib.parse.unquote(payload)
                assert '<table id="leaderboard">' in page and "held-back" in page
            time.sleep(0.3)
            browser.screenshot(shots / f"report-{category[0]}-{subcategory.replace(' ', '_')}.png")
        assert browser.errors == [], browser.errors
    if os.environ.get("FOLDWISE_REPORT_SCREENSHOT"):  # how docs/report.png is made
        shutil.copyfile(shots / "report-2-res.png", os.environ["FOLDWISE_REPORT_SCREENSHOT"])


PREDICTION_FIGURES = {"plot_confusion", "plot_recall", "plot_calibration", "plot_classes"}
BOARD_FIGURES = {"report_leaderboard", "plot_folds", "plot_confusion", "plot_classes"}


@pytest.mark.parametrize(
    "module, want",
    [
        ("foldwise/report/curves.py", {"plot_curves[res]", "plot_curves[cnx]"}),
        ("foldwise/report/predictions.py", PREDICTION_FIGURES),
        ("foldwise/report/board.py", {"report_leaderboard", "plot_folds"}),
        ("foldwise/report/jobs.py", {"plot_jobs"}),
        ("foldwise/runtime/progress.py", set()),
        ("foldwise/runtime/experiments.py", set()),
    ],
)
def test_figures_are_redrawn_only_when_their_code_changes(tiny_run, module, want):
    path = tiny_run.code / module
    original = path.read_text()
    path.write_text(original + "\n\ndef _added_helper():\n    return 1\n")
    try:
        plan = summarize(tiny_run.plan(), figures=True)
    finally:
        path.write_text(original)
    assert plan == (want | {"all"} if want else set())


def test_an_ensemble_change_redraws_the_figures_that_read_it(tiny_run):
    import yaml

    cfg = yaml.safe_load((tiny_run.work / "config.yaml").read_text())
    cfg["ensembles"]["hill"]["method"] = "equal"
    tiny_run.write_config(cfg, "changed.yaml")
    plan = summarize(tiny_run.plan(configfile="changed.yaml"), figures=True)
    figures = {j for j in plan if j.startswith(("plot_", "report_"))}
    assert figures == {"plot_weights[hill]", "plot_recall", "plot_calibration"} | BOARD_FIGURES


def test_training_jobs_leave_a_status_beside_their_log(tiny_run):
    statuses = read_statuses(str(tiny_run.work / "logs" / "train"))
    assert [(s["model"], s["fold"]) for s in statuses] == [("cnx", 0), ("cnx", 1), ("res", 0), ("res", 1)]
    for s in statuses:
        assert s["state"] == "done" and s["epoch"] == s["epochs"] == 1
        assert s["metric"] == "accuracy" and 0 <= s["best_score"] <= 1


class _Tty(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("stream", [io.StringIO(), _Tty()], ids=["log", "terminal"])
def test_epoch_progress_lines(tmp_path, stream):
    log = str(tmp_path / "logs" / "train" / "m" / "fold2.log")
    progress = EpochProgress("m", 2, log, stream=stream)
    row = {"epoch": 1, "epochs": 4, "metric": "accuracy", "valid_accuracy": 0.5, "train_loss": 1.2,
           "valid_loss": 0.9, "seconds": 2.0, "lr": 1e-3, "best_score": 0.5, "best_epoch": 1}
    progress(row)
    progress({**row, "epoch": 2, "valid_accuracy": 0.75, "best_score": 0.75, "best_epoch": 2})
    progress.finish({"best_score": 0.75, "best_epoch": 2})
    lines = stream.getvalue().splitlines()
    assert lines[0] == f"[foldwise] m fold 2 started; follow it with: tail -f {log}"
    bar = "[######......] " if isinstance(stream, _Tty) else ""
    assert lines[2] == (
        f"[foldwise] m fold 2 {bar}epoch 2/4 valid_accuracy 0.7500 best 0.7500@2 train_loss 1.2000 "
        "valid_loss 0.9000 2.0s/epoch ETA 4s"
    )
    assert lines[3].startswith("[foldwise] m fold 2 done in ") and lines[3].endswith("best accuracy 0.7500 at epoch 2")
    status = json.loads(Path(status_path(log)).read_text())
    assert status["state"] == "done" and status["epoch"] == 2 and status["score"] == 0.75
