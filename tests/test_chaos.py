"""Chaos: the whole ``snakemake`` process tree SIGKILLed at random moments, unlocked, run again, several
times in a row; the final files are byte-identical to those of an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from .pipeline import TINY, Pipeline

pytestmark = pytest.mark.workflow

CFG = {
    **TINY,
    "models": {"res": {**TINY["models"]["res"], "epochs": 3}, "lin": {"family": "logistic"}},
    "ensembles": {"blend": {"method": "optimize"}},
}
FILES = ("folds/folds.pkl", "oof/res.parquet", "test/res.parquet", "oof/lin.parquet", "test/lin.parquet",
         "ensembles/blend/oof.parquet", "ensembles/blend/test.parquet", "submissions/res.csv",
         "submissions/blend.csv")
KILLS = 3


def _kill_tree_at_random(run: Pipeline, delay: float) -> int:
    """Start ``snakemake`` in its own process group, SIGKILL the whole group after ``delay`` s; its exit code."""
    env = {**os.environ, "PYTHONPATH": str(run.code), "HF_HUB_OFFLINE": "1", "OMP_WAIT_POLICY": "PASSIVE"}
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(run.code / "Snakefile"), "--directory",
           str(run.work), "--configfile", str(run.work / "config.yaml"), "--cores", "2", "--resources", "gpu=1"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=run.work,
                            start_new_session=True)
    try:
        proc.wait(timeout=delay)  # finished before the kill: nothing to interrupt
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # snakemake and every job it started, mid-write or not
        proc.wait()
    return proc.returncode


def test_random_sigkills_of_the_whole_tree_then_unlock_and_rerun_match_an_uninterrupted_run(
    digits_dir, tiny_run, tmp_path
):
    cfg = {**CFG, "data": {**CFG["data"], "dir": str(digits_dir)}}
    clean = Pipeline(tiny_run.code, tmp_path / "clean", cfg)
    t0 = time.perf_counter()
    clean.snakemake()
    duration = time.perf_counter() - t0

    run = Pipeline(tiny_run.code, tmp_path / "chaos", cfg)
    rng = np.random.default_rng(0)
    killed = 0
    for _ in range(KILLS):
        # Moments early enough to land inside what is left (each run resumes where the last one was killed):
        # planning, caches, training epochs, gathers, ensembles, submissions.
        code = _kill_tree_at_random(run, float(rng.uniform(0.15, 0.45) * duration))
        killed += code == -signal.SIGKILL
        run.snakemake("--unlock")
    run.snakemake()
    assert killed >= 2, "the kills came too late to interrupt anything: the test checked nothing"
    for rel in FILES:
        a, b = (p.work / "results" / rel for p in (clean, run))
        assert a.read_bytes() == b.read_bytes(), f"{rel} differs after {killed} kills"
