"""Kill a training job mid-epoch, run again: it resumes, and the results are byte-identical."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from .pipeline import TINY, Pipeline

pytestmark = pytest.mark.workflow

CFG = {
    **TINY,
    # The stateful techniques on: the weight average, MixUp's draws, the photometric augmentations' draws.
    "models": {"res": {**TINY["models"]["res"], "epochs": 10, "ema": {"decay": 0.9}, "mix": {"mixup_alpha": 0.4},
                       "augment": {"blur": 0.3, "noise": 0.05}, "tta": ["hflip"]}},
    "folds": {"scheme": "stratified", "n_splits": 2, "seed": 0},
    "ensembles": {},
}


def _train_pids(work) -> list[int]:
    """PIDs of the training scripts Snakemake started in ``work``."""
    marker = str(work / ".snakemake" / "scripts")
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmd = open(f"/proc/{entry}/cmdline", "rb").read().decode(errors="replace")
            except OSError:
                continue
            if marker in cmd and cmd.rstrip("\0").endswith(".train.py"):
                pids.append(int(entry))
    return pids


def _wait_for(predicate, timeout=300, what="condition"):
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def test_sigkill_mid_epoch_resumes_and_matches_uninterrupted(digits_dir, tiny_run, tmp_path):
    cfg = {**CFG, "data": {**CFG["data"], "dir": str(digits_dir)}}
    clean = Pipeline(tiny_run.code, tmp_path / "clean", cfg)
    clean.snakemake()

    run = Pipeline(tiny_run.code, tmp_path / "killed", cfg)
    logs = [run.work / "logs" / "train" / "res" / f"fold{k}.log" for k in (0, 1)]

    def epochs_logged():
        return sum(p.read_text().count(" epoch ") for p in logs if p.is_file())
    env = {**os.environ, "PYTHONPATH": str(run.code), "HF_HUB_OFFLINE": "1", "OMP_WAIT_POLICY": "PASSIVE"}
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(run.code / "Snakefile"), "--directory", str(run.work),
           "--configfile", str(run.work / "config.yaml"), "--cores", "2", "--resources", "gpu=1"]
    first = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=run.work)
    try:
        _wait_for(lambda: _train_pids(run.work), what="training to start")
        # A second invocation in the same directory is refused by Snakemake's lock.
        second = run.snakemake(check=False)
        assert second.returncode != 0
        assert "cannot be locked" in second.stdout + second.stderr
        # Kill the training process right after it finishes an epoch: mid-way through the next one.
        seen = epochs_logged()
        _wait_for(lambda: epochs_logged() > seen and 0 < epochs_logged() < 19, what="a new epoch")
        pids = _train_pids(run.work)
        assert pids, "no training process found"
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        first.wait(timeout=300)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode != 0
    assert not (run.work / "results" / "oof" / "res.parquet").exists()
    assert list((run.work / "results" / "checkpoints" / "res").glob("fold*/last.pt"))

    run.snakemake()
    text = "".join(p.read_text() for p in logs)
    assert "resuming res fold" in text and "from the checkpoint of epoch" in text
    for rel in ("oof/res.parquet", "test/res.parquet", "submissions/res.csv", "folds/folds.pkl"):
        a = (clean.work / "results" / rel).read_bytes()
        b = (run.work / "results" / rel).read_bytes()
        assert a == b, f"{rel} differs after resuming"


def test_checkpoint_of_another_config_is_ignored(digits_dir, tiny_run, tmp_path):
    cfg = {**CFG, "models": {"res": {**CFG["models"]["res"], "epochs": 1}}, "data": {**CFG["data"], "dir": str(digits_dir)}}
    run = Pipeline(tiny_run.code, tmp_path / "work", cfg)
    run.snakemake("--until", "train")
    cfg["models"]["res"]["lr"] = 0.001
    run.write_config(cfg)
    run.snakemake("--until", "train")
    text = (run.work / "logs" / "train" / "res" / "fold1.log").read_text()
    assert "ignoring checkpoint" in text and "different config" in text
    assert "resuming" not in text
