"""Demo competitions built from real data that ships with scikit-learn.

``python -m foldwise.demo digits data/digits`` writes the 1,797 scikit-learn
digits as a Kaggle-style competition folder: ``train.csv`` (id, label),
``test.csv``, ``sample_submission.csv``, one PNG per image and a held-back
``solution.csv``.

``python -m foldwise.demo report`` prints the leaderboard and the submissions'
scores against the solution.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from foldwise.io import write_csv


def make_digits_competition(out_dir: str | Path, test_size: float = 0.3, seed: int = 0, limit: int | None = None) -> dict:
    """Write the digits data set as a competition folder.

    Args:
        out_dir: destination folder (created).
        test_size: share of images held back as the test set.
        seed: seed of the stratified train/test split.
        limit: keep only the first ``limit`` images (tiny configs for tests).

    Returns:
        Counts: ``{"train": n_train, "test": n_test}``.
    """
    import cv2
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = np.clip(digits.images * 16, 0, 255).astype(np.uint8)  # 0..16 -> 0..255, 8x8
    labels = digits.target
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    ids = np.array([f"digit_{i:04d}" for i in range(len(labels))])
    tr, te = train_test_split(np.arange(len(labels)), test_size=test_size, random_state=seed, stratify=labels)
    tr, te = np.sort(tr), np.sort(te)
    out = Path(out_dir)
    for split, rows in (("train", tr), ("test", te)):
        folder = out / f"{split}_images"
        folder.mkdir(parents=True, exist_ok=True)
        for r in rows:
            cv2.imwrite(str(folder / f"{ids[r]}.png"), images[r])
    write_csv(pd.DataFrame({"id": ids[tr], "label": labels[tr]}), out / "train.csv")
    write_csv(pd.DataFrame({"id": ids[te]}), out / "test.csv")
    write_csv(pd.DataFrame({"id": ids[te], "label": 0}), out / "sample_submission.csv")
    write_csv(pd.DataFrame({"id": ids[te], "label": labels[te]}), out / "solution.csv")
    return {"train": len(tr), "test": len(te)}


def report(results: str | Path = "results") -> str:
    """The leaderboard as text, for the end of the demo."""
    board = pd.read_csv(Path(results) / "leaderboard.csv")
    shown = board.drop(columns=[c for c in board.columns if c.endswith("sha256")])
    text = shown.to_string(index=False, float_format=lambda v: f"{v:.4f}")
    if "holdout" in board and board["holdout"].notna().any():
        best = board.iloc[0]
        text += f"\n\nbest by CV: {best['name']} ({best['kind']}); held-back solution {best['metric']}: {best['holdout']:.4f}"
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m foldwise.demo", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("digits", help="write the digits competition folder")
    p.add_argument("out", nargs="?", default="data/digits")
    p.add_argument("--limit", type=int, default=None, help="keep only the first N images")
    p.add_argument("--test-size", type=float, default=0.3)
    r = sub.add_parser("report", help="print the leaderboard and the held-back score")
    r.add_argument("results", nargs="?", default="results")
    args = parser.parse_args(argv)
    if args.cmd == "digits":
        counts = make_digits_competition(args.out, test_size=args.test_size, limit=args.limit)
        print(f"wrote {args.out}: {counts['train']} train and {counts['test']} test images")
    else:
        print(report(args.results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
