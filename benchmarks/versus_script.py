"""Whole against whole: the pipeline from a clean results folder vs the plain script of the same recipe.

    python -m benchmarks.versus_script [--rounds 2] [--only images|series] [--first pipeline|script] [--quick]

For one image and one series competition, each round runs, one after the
other and in alternating order, ``snakemake --cores all`` on a fresh working
directory (every job: tables, caches, folds, training, prediction, gathers,
submission, leaderboard, report figures) and the plain script
(``benchmarks/plain/``) on the same folder. Both are scored on the held-back
``solution.csv``. Prints, per competition, held-back accuracy and wall time of
both sides and their ratio; the raw rows go to ``benchmarks/versus_script.json``.

The competitions (real data, none of the data sets held back for review):
- images: scikit-learn's digits, split 70/30 by source image, each source drawn
  again with a random affine warp and noise at 28² until there are 6,000
  training and 2,000 test PNGs (test images come only from held-back sources);
- series: ACSF1 (power consumption of 10 appliance types; 100 + 100 recordings
  of 1,460 steps, official split) as a Dacon-style long CSV.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.common import REPO, SCRATCH, machine, sub_env

OUT = REPO / "benchmarks" / "versus_script.json"
EPOCHS = 10


def warped_digits(n_train: int = 6000, n_test: int = 2000, side: int = 28, seed: int = 0):
    """scikit-learn's digits redrawn with random warps and noise, training and test from disjoint sources.

    Returns:
        ``{"train": (images, labels), "test": (images, labels)}``; images ``(N, side, side)`` uint8.
    """
    import cv2
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    src = np.clip(d.images * 16, 0, 255).astype(np.float32)
    tr_src, te_src = train_test_split(np.arange(len(src)), test_size=0.3, random_state=0, stratify=d.target)
    rng = np.random.default_rng(seed)
    out = {}
    for split, pool, n in (("train", tr_src, n_train), ("test", te_src, n_test)):
        imgs, labels = np.empty((n, side, side), np.uint8), np.empty(n, np.int64)
        for k in range(n):
            s = int(pool[rng.integers(len(pool))])
            big = cv2.resize(src[s], (side - 6, side - 6), interpolation=cv2.INTER_CUBIC)
            img = cv2.copyMakeBorder(big, 3, 3, 3, 3, cv2.BORDER_CONSTANT, value=0)
            m = cv2.getRotationMatrix2D((side / 2, side / 2), rng.uniform(-15, 15), rng.uniform(0.85, 1.1))
            m[:, 2] += rng.uniform(-2.5, 2.5, 2)
            img = cv2.warpAffine(img, m, (side, side)) + rng.normal(0, 12, (side, side))
            imgs[k], labels[k] = np.clip(img, 0, 255).astype(np.uint8), d.target[s]
        out[split] = (imgs, labels)
    return out


def image_competition(root: Path, n_train: int = 6000, n_test: int = 2000) -> Path:
    """:func:`warped_digits` as PNGs: ``train_images/``, ``test_images/``, the CSVs and ``solution.csv``."""
    import cv2

    if (root / ".done").is_file():
        return root
    shutil.rmtree(root, ignore_errors=True)
    tables = {}
    for split, (imgs, labels) in warped_digits(n_train, n_test).items():
        (root / f"{split}_images").mkdir(parents=True)
        ids = [f"{split}_{k:05d}" for k in range(len(imgs))]
        for ident, img in zip(ids, imgs):
            cv2.imwrite(str(root / f"{split}_images" / f"{ident}.png"), img)
        tables[split] = pd.DataFrame({"id": ids, "label": labels})
    tables["train"].to_csv(root / "train.csv", index=False)
    tables["test"][["id"]].to_csv(root / "test.csv", index=False)
    tables["test"].assign(label=0).to_csv(root / "sample_submission.csv", index=False)
    tables["test"].to_csv(root / "solution.csv", index=False)
    (root / ".done").touch()
    return root


def series_competition(root: Path, name: str = "ACSF1") -> Path:
    """A bundled UCR/UEA set with its official split as ``train_features.csv`` (id, step, value...) etc."""
    from sktime.datasets import load_UCR_UEA_dataset

    if (root / ".done").is_file():
        return root
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    for split in ("train", "test"):
        x, y = load_UCR_UEA_dataset(name, split=split, return_type="numpy3D")
        n, c, t = x.shape
        ids = np.arange(n) + (0 if split == "train" else 10_000)  # integer ids, as Dacon's
        long = pd.DataFrame(x.transpose(0, 2, 1).reshape(n * t, c), columns=[f"ch{k}" for k in range(c)])
        long.insert(0, "step", np.tile(np.arange(t), n))
        long.insert(0, "id", np.repeat(ids, t))
        long.to_csv(root / f"{split}_features.csv", index=False)
        labels = pd.DataFrame({"id": ids, "label": y})
        if split == "train":
            labels.to_csv(root / "train.csv", index=False)
        else:
            labels[["id"]].to_csv(root / "test.csv", index=False)
            labels.assign(label=y[0]).to_csv(root / "sample_submission.csv", index=False)
            labels.to_csv(root / "solution.csv", index=False)
    (root / ".done").touch()
    return root


def image_config(data: Path, epochs: int) -> dict:
    """The plain script's recipe as a pipeline config."""
    return {
        "seed": 0, "task": "multiclass", "metric": "accuracy",
        "data": {"dir": str(data), "train_csv": "train.csv", "test_csv": "test.csv",
                 "sample_submission": "sample_submission.csv", "solution": "solution.csv",
                 "id_col": "id", "target_col": "label", "channels": 1,
                 "train_images": "train_images/{id}.png", "test_images": "test_images/{id}.png"},
        "folds": {"scheme": "stratified", "n_splits": 5, "seed": 0},
        "models": {"resnet10t": {"backbone": "resnet10t", "img_size": 32, "epochs": epochs, "batch_size": 64,
                                 "lr": 0.003, "weight_decay": 0.05, "warmup_epochs": 1, "select_epoch": "last",
                                 "augment": {"shift": 0, "scale": 0, "rotate": 0}}},
        "ensembles": {},
    }


def series_config(data: Path, length: int) -> dict:
    return {
        "seed": 0, "task": "multiclass", "metric": "accuracy",
        "data": {"kind": "timeseries", "dir": str(data), "train_csv": "train.csv", "test_csv": "test.csv",
                 "sample_submission": "sample_submission.csv", "solution": "solution.csv", "id_col": "id",
                 "target_col": "label", "train_series": "train_features.csv", "test_series": "test_features.csv",
                 "step_col": "step", "series_length": length},
        "folds": {"scheme": "stratified", "n_splits": 5, "seed": 0},
        "models": {"multirocket": {"family": "multirocket"}},
        "ensembles": {},
    }


def held_back(submission: Path, solution: Path) -> float:
    sub, sol = pd.read_csv(submission, dtype=str), pd.read_csv(solution, dtype=str)
    merged = sol.merge(sub, on="id", suffixes=("_true", "_pred"))
    assert len(merged) == len(sol), f"{submission} does not list every test id"
    return float((merged["label_true"] == merged["label_pred"]).mean())


def run_pipeline(work: Path, cfg: dict) -> dict:
    """``snakemake --cores all`` (the default profile, as a user runs it) from a clean working directory."""
    import yaml

    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    (work / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    cmd = [str(Path(sys.executable).parent / "snakemake"), "--cores", "all", "--resources", "gpu=1",
           "--snakefile", str(REPO / "Snakefile"), "--directory", str(work), "--configfile", str(work / "config.yaml"),
           "--workflow-profile", str(REPO / "profiles" / "default"), "--quiet", "rules"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=sub_env(), cwd=work)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"pipeline failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
    name = next(iter(cfg["models"]))
    board = pd.read_csv(work / "results" / "leaderboard.csv")
    sub = work / "results" / "submissions" / f"{name}.csv"
    return {"wall": wall, "held_back": held_back(sub, Path(cfg["data"]["dir"]) / "solution.csv"),
            "cv": float(board.loc[board["name"] == name, "cv"].iloc[0]), "jobs": _job_seconds(work)}


def _job_seconds(work: Path) -> dict:
    """Seconds per rule, summed over its jobs (Snakemake's benchmark files)."""
    out: dict[str, float] = {}
    for tsv in (work / "results" / "benchmarks").rglob("*.tsv"):
        rule = tsv.relative_to(work / "results" / "benchmarks").parts[0]
        out[rule] = out.get(rule, 0.0) + float(pd.read_csv(tsv, sep="\t")["s"].iloc[0])
    return {k: round(v, 1) for k, v in sorted(out.items())}


def run_script(script: str, data: Path, work: Path, extra: list[str]) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    out = work / "script_submission.csv"
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "plain" / script), str(data), str(out), *extra],
                          capture_output=True, text=True, env=sub_env())
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{script} failed:\n{proc.stderr[-4000:]}")
    cv = float(next(l for l in proc.stdout.splitlines() if l.startswith("CV ")).split()[1])
    return {"wall": wall, "held_back": held_back(out, data / "solution.csv"), "cv": cv}


def competitions(quick: bool) -> dict:
    epochs = 1 if quick else EPOCHS
    img = image_competition(SCRATCH / ("vs_images_q" if quick else "vs_images"), *((600, 200) if quick else ()))
    ser = series_competition(SCRATCH / "vs_series")
    length = len(pd.read_csv(ser / "train_features.csv", usecols=["id"]).query("id == 0"))
    return {
        "images": (image_config(img, epochs), "timm_folds.py", ["--epochs", str(epochs)]),
        "series": (series_config(ser, length), "rocket_folds.py", []),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--only", choices=["images", "series"])
    p.add_argument("--quick", action="store_true", help="600 images x 1 epoch: a smoke run, not a figure")
    p.add_argument("--label", default="", help="a note stored with the rows (e.g. the commit measured)")
    p.add_argument("--first", choices=["pipeline", "script"], default="pipeline",
                   help="the side that runs first in round 0 (the order alternates from there)")
    args = p.parse_args(argv)
    rows = []
    for name, (cfg, script, extra) in competitions(args.quick).items():
        if args.only and name != args.only:
            continue
        for r in range(args.rounds):
            sides = [("pipeline", lambda: run_pipeline(SCRATCH / f"vs_work_{name}", cfg)),
                     ("script", lambda: run_script(script, Path(cfg["data"]["dir"]), SCRATCH / f"vs_work_{name}", extra))]
            flip = (r % 2 == 1) != (args.first == "script")
            for side, fn in sides[::-1] if flip else sides:
                got = fn()
                rows.append({"competition": name, "round": r, "side": side, **got})
                print(json.dumps(rows[-1]), flush=True)
    summary = summarise(rows)
    print(summary)
    if not args.quick:
        old = json.loads(OUT.read_text()) if OUT.is_file() else []
        OUT.write_text(json.dumps(old + [{"label": args.label, "machine": machine(), "date": time.strftime("%Y-%m-%d"),
                                          "rows": rows}], indent=1))
    return 0


def summarise(rows: list[dict]) -> str:
    df = pd.DataFrame(rows)
    lines = ["| competition | pipeline s | script s | ratio | pipeline held-back | script held-back | pipeline CV | script CV |",
             "|---|---|---|---|---|---|---|---|"]
    for comp, g in df.groupby("competition", sort=False):
        med = g.groupby("side")[["wall", "held_back", "cv"]].median()
        p, s = med.loc["pipeline"], med.loc["script"]
        lines.append(f"| {comp} | {p.wall:.0f} | {s.wall:.0f} | {p.wall / s.wall:.2f}× | {p.held_back:.4f} | "
                     f"{s.held_back:.4f} | {p.cv:.4f} | {s.cv:.4f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
