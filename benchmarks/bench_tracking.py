"""Figure 8: what tracking every raw image by content adds to ``snakemake -n`` on 50,000 images.

A competition folder of 50,000 small PNGs (40,000 train, 10,000 test; real
8×8 digits, scaled to 16×16) and a one-model, two-fold config. Each side is
planned in a fresh ``snakemake`` process after ``snakemake --touch`` recorded
its params, as after a real run:

- tracked, first plan: the project's Snakefile with no memo (its state file
  under ``.snakemake/`` deleted): every image is read and hashed;
- tracked, second plan: the memo is warm: every image is only ``stat``-ed;
- untracked: the same Snakefile with the image digest switched off (a patched
  copy of ``rules/common.smk``), i.e. the plan without tracking.

Goal: the second plan adds < 0.5 s to the untracked plan.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from benchmarks.common import REPO, SCRATCH, Result, alternate, main_for, median, sub_env

GOAL = 0.5
STATE = Path(".snakemake") / "foldwise" / "content-hashes.json"
CODE_PARTS = ("Snakefile", "rules", "workflow_scripts", "foldwise", "profiles", "envs")


def make_folder(out: Path, n_train: int, n_test: int) -> None:
    """Write ``n_train + n_test`` 16×16 PNGs of real digits with train/test CSVs."""
    import cv2
    import numpy as np
    import pandas as pd
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.clip(digits.images * 16, 0, 255).astype(np.uint8)
    for split, n in (("train", n_train), ("test", n_test)):
        folder = out / f"{split}_images"
        folder.mkdir(parents=True, exist_ok=True)
        ids = [f"{split}_{i:06d}" for i in range(n)]
        rows = np.arange(n) % len(images)
        for i, r in zip(ids, rows):
            img = cv2.resize(images[r], (16, 16), interpolation=cv2.INTER_NEAREST)
            img[0, 0] = int(i[-6:]) % 251  # every file different
            cv2.imwrite(str(folder / f"{i}.png"), img)
        if split == "train":
            pd.DataFrame({"id": ids, "label": digits.target[rows]}).to_csv(out / "train.csv", index=False)
        else:
            pd.DataFrame({"id": ids}).to_csv(out / "test.csv", index=False)
            pd.DataFrame({"id": ids, "label": 0}).to_csv(out / "sample_submission.csv", index=False)


def copy_code(dest: Path, untracked: bool) -> Path:
    dest.mkdir(parents=True)
    for part in CODE_PARTS:
        src = REPO / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dest / part)
    if untracked:
        common = dest / "rules" / "common.smk"
        text = common.read_text()
        marker = "def cache_inputs(wildcards):\n"
        assert marker in text, "rules/common.smk changed: update the benchmark's patch"
        common.write_text(text.replace(marker, marker + "    return None  # benchmark: tracking off\n"))
    return dest


def make_outputs(code: Path, work: Path) -> None:
    """Create every output file of the plan (empty), then let ``--touch`` date them and record params."""
    env = {**sub_env(1), "PYTHONPATH": str(code)}
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(code / "Snakefile"), "--directory", str(work),
           "--configfile", str(work / "config.yaml"), "--cores", "2", "-n"]
    text = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=work, check=True).stdout
    for line in text.splitlines():
        if line.strip().startswith("output:"):
            for name in line.split(":", 1)[1].split(","):
                path = work / name.strip()
                path.parent.mkdir(parents=True, exist_ok=True)
                path.touch()
    snakemake(code, work, "--touch")


def snakemake(code: Path, work: Path, *args: str) -> float:
    env = {**sub_env(1), "PYTHONPATH": str(code)}
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(code / "Snakefile"), "--directory", str(work),
           "--configfile", str(work / "config.yaml"), "--cores", "2", "--resources", "gpu=1", *args]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=work, timeout=1200)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"snakemake {' '.join(args)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    if "-n" in args and "Nothing to be done" not in proc.stdout + proc.stderr:
        raise RuntimeError(f"the plan after --touch is not empty:\n{(proc.stdout + proc.stderr)[-3000:]}")
    return dt


def run(quick: bool = False) -> Result:
    n_train, n_test, repeats = (800, 200, 1) if quick else (40_000, 10_000, 3)
    root = SCRATCH / f"tracking_{n_train + n_test}"
    shutil.rmtree(root, ignore_errors=True)
    data = root / "data"
    t0 = time.perf_counter()
    make_folder(data, n_train, n_test)
    write_s = time.perf_counter() - t0
    cfg = {
        "data": {"dir": str(data), "channels": 1},
        "folds": {"n_splits": 2},
        "models": {"m": {"backbone": "resnet10t", "img_size": 16, "epochs": 1}},
    }
    sides = {}
    for name, untracked in (("tracked", False), ("untracked", True)):
        work = root / name
        work.mkdir()
        (work / "config.yaml").write_text(yaml.safe_dump(cfg))
        code = copy_code(root / f"code_{name}", untracked)
        make_outputs(code, work)
        sides[name] = (code, work)

    def first_plan() -> float:
        code, work = sides["tracked"]
        (work / STATE).unlink(missing_ok=True)
        return snakemake(code, work, "-n")

    first = [first_plan() for _ in range(2 if not quick else 1)]
    s = alternate({n: (lambda c=c, w=w: snakemake(c, w, "-n")) for n, (c, w) in sides.items()}, repeats)
    added = median(s["tracked"]) - median(s["untracked"])
    state_mb = (sides["tracked"][1] / STATE).stat().st_size / 2**20
    notes = (
        f"{n_train + n_test:,} PNGs ({n_train:,} train, {n_test:,} test), 1 model × 2 folds; fresh process per plan, "
        f"medians of {repeats}: untracked {median(s['untracked']):.2f} s, tracked second plan "
        f"{median(s['tracked']):.2f} s (+{added:.2f} s: stat of every image, memo {state_mb:.1f} MB JSON), "
        f"tracked first plan {median(first):.2f} s (every image read and hashed, "
        f"+{median(first) - median(s['untracked']):.2f} s). Writing the folder took {write_s:.0f} s."
    )
    return Result(
        key="tracking",
        figure="Content tracking of 50,000 images: `snakemake -n` second plan minus the same plan without tracking",
        goal=f"< {GOAL} s",
        measured=f"+{added:.2f} s (first plan +{median(first) - median(s['untracked']):.2f} s)",
        passed=added < GOAL,
        notes=notes,
        details={"samples": s, "first": first, "added": added, "state_mb": state_mb},
    )


if __name__ == "__main__":
    main_for(run)
