"""What the out-of-fold predictions get right and wrong, and what the test predictions look like.

Every function reads prediction files only (``results/oof/*.parquet``,
``results/ensembles/*/oof.parquet``, their test files and submission reports).
Multilabel decisions use the thresholds in the entry's submission report, or
thresholds tuned on its OOF predictions as the config's ``multilabel`` settings
say when the entry is not submitted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix, f1_score, roc_auc_score

from foldwise.metrics import tune_thresholds
from foldwise.oof import prob_columns
from foldwise.report.common import class_ticks, color, figure, load_predictions, save, short, thresholds_of
from foldwise.tasks import get_task


def decisions(y: np.ndarray, probs: np.ndarray, task: str, report: str | None, multilabel: dict,
              classes: list[str]) -> np.ndarray:
    """Predicted classes ``(N,)`` (multiclass arg-max) or 0/1 labels ``(N, L)`` (multilabel)."""
    if task == "multiclass":
        return probs.argmax(1)
    if report:
        thr = thresholds_of(report, classes)
    elif multilabel["threshold"] == "fixed":
        thr = np.full(probs.shape[1], float(multilabel["fixed_threshold"]))
    else:
        thr = tune_thresholds(y, probs, multilabel["threshold"])
    return (probs >= thr).astype(np.int64)


def plot_confusion(name: str, oof: str, target_col: str, classes: list[str], task: str, report: str | None,
                   multilabel: dict, out: str) -> None:
    """Multiclass: the row-normalised confusion matrix with counts. Multilabel: per-label ROC AUC and F1."""
    y, probs = load_predictions(oof, target_col, classes, task)
    k = len(classes)
    if task == "multilabel":
        pred = decisions(y, probs, task, report, multilabel, classes)
        auc = [roc_auc_score(y[:, j], probs[:, j]) if 0 < y[:, j].sum() < len(y) else np.nan for j in range(k)]
        f1 = [f1_score(y[:, j], pred[:, j], zero_division=0) for j in range(k)]
        fig, ax = figure(width=min(9.5, max(8, 0.6 * k + 3)), height=4.2)
        x = np.arange(k)
        for shift, values, col, lab in ((-0.2, auc, color(0), "ROC AUC"), (0.2, f1, color(1), "F1 at the threshold")):
            ax.bar(x + shift, values, width=0.4, color=col, label=lab)
            if k <= 20:
                for xi, v in zip(x + shift, values):
                    if not np.isnan(v):
                        ax.text(xi, v + 0.01, f"{v:.2f}", ha="center", va="bottom", fontsize=7)
        class_ticks(ax, classes)
        ax.set_ylim(0, 1.1)
        ax.grid(axis="x", alpha=0)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
        ax.set_title(f"{name} (best submission): ROC AUC and F1 per label, OOF")
        save(fig, out)
        return
    pred = probs.argmax(1)
    cm = confusion_matrix(y, pred, labels=np.arange(k))
    norm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    side = min(8.2, max(5.5, 0.5 * k + 2.5))
    fig, ax = figure(width=side + 1.2, height=side)
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.grid(False)
    if k <= 25:
        for i in range(k):
            for j in range(k):
                if cm[i, j]:
                    ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=8 if k > 12 else 9,
                            color="white" if norm[i, j] > 0.55 else "#111827")
    ticks = [short(c, 12) for c in classes]
    step = max(1, k // 40)
    ax.set_xticks(np.arange(k)[::step], ticks[::step], rotation=90 if k > 12 else 0)
    ax.set_yticks(np.arange(k)[::step], ticks[::step])
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    fig.colorbar(im, ax=ax, shrink=0.8, label="fraction of the true class")
    acc = np.trace(cm) / max(1, cm.sum())
    ax.set_title(f"{name} (best submission): OOF confusion matrix, accuracy {acc:.4f}")
    save(fig, out)


def plot_recall(names: list[str], oofs: list[str], reports: list[str | None], target_col: str,
                classes: list[str], task: str, multilabel: dict, out: str) -> None:
    """Per-class recall of every model and ensemble on its OOF predictions, as a heat map."""
    rows = []
    for name, path, report in zip(names, oofs, reports):
        y, probs = load_predictions(path, target_col, classes, task)
        pred = decisions(y, probs, task, report, multilabel, classes)
        if task == "multiclass":
            hits = np.bincount(y[pred == y], minlength=len(classes))
            support = np.bincount(y, minlength=len(classes))
        else:
            hits, support = (pred * y).sum(0), y.sum(0)
        rows.append(np.where(support > 0, hits / np.maximum(support, 1), np.nan))
    recall = np.array(rows)
    k = len(classes)
    fig, ax = figure(width=min(9.5, max(7, 0.55 * k + 3)), height=0.45 * len(names) + 1.8)
    im = ax.imshow(recall, cmap="RdYlGn", vmin=0, vmax=1, aspect="auto")
    ax.grid(False)
    if k <= 30:
        for i in range(len(names)):
            for j in range(k):
                if not np.isnan(recall[i, j]):
                    dark = recall[i, j] < 0.2 or recall[i, j] > 0.85  # the ends of the colour map
                    ax.text(j, i, f"{recall[i, j]:.2f}", ha="center", va="center", fontsize=8,
                            color="white" if dark else "#111827")
    class_ticks(ax, classes, 10)
    ax.set_yticks(np.arange(len(names)), names)
    ax.set_xlabel("class" if task == "multiclass" else "label")
    fig.colorbar(im, ax=ax, shrink=0.9, label="recall")
    ax.set_title("Recall per class on OOF predictions" + (" (at each entry's thresholds)" if task == "multilabel" else ""))
    save(fig, out)


def reliability(y: np.ndarray, probs: np.ndarray, task: str, bins: int = 10):
    """Reliability curve: mean confidence, observed accuracy and count per confidence bin, and the ECE.

    Multiclass uses the top class's probability and whether it was right;
    multilabel every (row, label) probability and whether the label is present.
    """
    if task == "multiclass":
        conf, hit = probs.max(1), (probs.argmax(1) == y).astype(np.float64)
    else:
        conf, hit = probs.ravel(), y.ravel().astype(np.float64)
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1)
    count = np.bincount(idx, minlength=bins)
    mean_conf = np.bincount(idx, conf, minlength=bins) / np.maximum(count, 1)
    acc = np.bincount(idx, hit, minlength=bins) / np.maximum(count, 1)
    ece = float(np.sum(count * np.abs(acc - mean_conf)) / max(1, count.sum()))
    return mean_conf, acc, count, ece


def plot_calibration(names: list[str], oofs: list[str], target_col: str, classes: list[str], task: str,
                     out: str) -> None:
    """Reliability diagram of every model and ensemble, with each one's expected calibration error."""
    fig, (ax, hist) = figure(2, 1, width=7.5, height=6.5, gridspec_kw={"height_ratios": [3, 1]}, sharex=True)
    ax.plot([0, 1], [0, 1], linestyle="--", color="#9ca3af", label="perfectly calibrated")
    edges = np.linspace(0, 1, 11)
    for i, (name, path) in enumerate(zip(names, oofs)):
        y, probs = load_predictions(path, target_col, classes, task)
        conf, acc, count, ece = reliability(y, probs, task)
        seen = count > 0
        dash = ("-", "--", ":", "-.")[i % 4]  # entries that coincide (a blend of one member) stay visible
        ax.plot(conf[seen], acc[seen], marker="osD^v<>"[i % 7], markersize=5, linestyle=dash, color=color(i),
                label=f"{name} (ECE {ece:.3f})")
        hist.stairs(count, edges, color=color(i), linestyle=dash, linewidth=1.4)
    what = "top-class confidence" if task == "multiclass" else "predicted probability (every row and label)"
    ax.set_ylabel("observed accuracy" if task == "multiclass" else "observed frequency")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.legend(loc="lower right", fontsize=9)
    ax.set_title("Calibration of the OOF predictions (reliability diagram)")
    hist.set_xlabel(what)
    hist.set_ylabel("predictions")
    hist.set_yscale("symlog", linthresh=10)
    save(fig, out)


def plot_class_distribution(name: str, train_table: str, test: str, report: str | None, oof: str,
                            target_col: str, classes: list[str], task: str, multilabel: dict, out: str) -> None:
    """Share of each class in the training labels, the OOF predictions and the best entry's test predictions."""
    enc = get_task(task).encode
    y_train = enc(pd.read_parquet(train_table)["label"], classes)
    y_oof, p_oof = load_predictions(oof, target_col, classes, task)
    p_test = pd.read_parquet(test)
    p_test = p_test[prob_columns(p_test)].to_numpy(np.float64)
    k = len(classes)
    if task == "multiclass":
        shares = [np.bincount(v, minlength=k) / max(1, len(v)) for v in (y_train, p_oof.argmax(1), p_test.argmax(1))]
        ylabel = "share of rows"
    else:
        pred_oof = decisions(y_oof, p_oof, task, report, multilabel, classes)
        thr = thresholds_of(report, classes)
        shares = [y_train.mean(0), pred_oof.mean(0), (p_test >= thr).mean(0)]
        ylabel = "share of rows with the label"
    fig, ax = figure(width=min(9.5, max(8, 0.7 * k + 3)), height=4.2)
    x = np.arange(k)
    labels = ["train labels", f"{name}: OOF predictions", f"{name}: test predictions"]
    for i, (share, lab) in enumerate(zip(shares, labels)):
        ax.bar(x + (i - 1) * 0.27, share, width=0.27, color=["#9ca3af", color(0), color(1)][i], label=lab)
    class_ticks(ax, classes)
    ax.set_ylabel(ylabel)
    ax.grid(axis="x", alpha=0)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title(f"Class distribution: train vs. predicted test ({len(p_test)} test rows)")
    save(fig, out)
