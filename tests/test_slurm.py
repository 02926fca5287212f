"""Runs the tiny workflow on a real one-node SLURM and checks it matches a local run.

The cluster comes from tests/slurm (install.sh, start.sh, stop.sh): slurmctld and
slurmd on this host with one fake GPU. The run uses the shipped profiles/slurm
with tests/slurm/profile on top (status by squeue, short waits, small sizes).
Skipped only outside CI when SLURM is not installed or we are not root; with
CI=true it always runs.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from .conftest import REPO

pytestmark = [pytest.mark.workflow, pytest.mark.slurm]

SLURM = REPO / "tests" / "slurm"
STATE = Path(os.environ.get("FOLDWISE_SLURM_DIR", "/tmp/foldwise-slurm"))
SMALL = {
    "seed": 1,
    "metric": "accuracy",
    "data": {"solution": "solution.csv", "channels": 1},
    "folds": {"scheme": "stratified", "n_splits": 2, "seed": 0},
    "models": {"res": {"backbone": "resnet10t", "img_size": 16, "epochs": 1, "batch_size": 32, "lr": 0.003}},
    "ensembles": {},
}
CONTRACT = ["folds/folds.pkl", "oof/res.parquet", "test/res.parquet", "submissions/res.csv", "leaderboard.csv"]


def _why_not_runnable() -> str | None:
    if not (shutil.which("slurmctld") or Path("/usr/sbin/slurmctld").exists()) or not shutil.which("sbatch"):
        return "SLURM is not installed (bash tests/slurm/install.sh installs it)"
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        return "snakemake-executor-plugin-slurm is not installed (pip install -e '.[slurm]')"
    if os.geteuid() != 0:
        return "starting the test cluster (tests/slurm/start.sh) needs root"
    return None


def _sh(script: str) -> None:
    proc = subprocess.run(["timeout", "-k", "10", "120", "bash", str(SLURM / script)], capture_output=True, text=True)
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout}\n{proc.stderr}"


@pytest.fixture(scope="module")
def cluster():
    why = _why_not_runnable()
    if why:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true, so the SLURM test must run, but {why}")
        pytest.skip(why)
    already_up = (STATE / "slurmctld.pid").exists()
    _sh("start.sh")
    yield
    if not already_up:
        _sh("stop.sh")


def _snakemake(workdir: Path, *args: str, limit: int = 600) -> list[str]:
    return ["timeout", "-k", "10", str(limit), sys.executable, "-m", "snakemake", "--snakefile",
            str(REPO / "Snakefile"), "--configfile", str(workdir / "config.yaml"), "--workflow-profile", "none", *args]


@pytest.fixture(scope="module")
def runs(cluster, digits_dir, tmp_path_factory):
    """The same config run locally and on SLURM (at the same time); returns both work dirs and the SLURM log."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_WAIT_POLICY": "PASSIVE",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    env.pop("SLURM_CONF", None)
    dirs = {}
    for name in ("local", "slurm"):
        dirs[name] = tmp_path_factory.mktemp(name)
        cfg = {**SMALL, "data": {**SMALL["data"], "dir": str(digits_dir)}}
        (dirs[name] / "config.yaml").write_text(yaml.safe_dump(cfg))
    local_cmd = _snakemake(dirs["local"], "--cores", "1", "--resources", "gpu=1", "--set-threads", "train=1", "cache=1", "predict=1")
    local = subprocess.Popen(local_cmd, cwd=dirs["local"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
    profiles = ["--profile", str(REPO / "profiles" / "slurm"), "--profile", str(SLURM / "profile")]
    cluster_run = subprocess.run(_snakemake(dirs["slurm"], *profiles), cwd=dirs["slurm"], env=env,
                                 capture_output=True, text=True)
    local_out, _ = local.communicate(timeout=600)
    assert local.returncode == 0, f"local run failed:\n{local_out[-4000:]}"
    log = cluster_run.stdout + cluster_run.stderr
    assert cluster_run.returncode == 0, f"SLURM run failed ({cluster_run.returncode}):\n{log[-6000:]}"
    return dirs["local"], dirs["slurm"], log


def _submitted(log: str) -> dict[str, list[str]]:
    """SLURM job ids per rule, from the plugin's 'submitted with SLURM jobid' lines."""
    jobs: dict[str, list[str]] = {}
    for jobid, rule in re.findall(r"submitted with SLURM jobid (\d+) \(log: \S*/slurm_logs/rule_(\w+?)/", log):
        jobs.setdefault(rule, []).append(jobid)
    return jobs


def test_every_rule_ran_as_a_slurm_job_and_training_asked_for_a_gpu(runs):
    _, _, log = runs
    jobs = _submitted(log)
    want = {"tables", "test_table", "cache", "folds", "train", "predict", "gather", "submission", "leaderboard"}
    assert set(jobs) == want, log[-3000:]
    assert len(jobs["train"]) == len(jobs["predict"]) == 2  # one job per fold
    for rule, ids in jobs.items():
        for jobid in ids:  # MinJobAge keeps finished jobs visible to scontrol
            info = subprocess.run(["scontrol", "show", "job", jobid], capture_output=True, text=True).stdout
            assert "JobState=COMPLETED" in info, info
            tres = re.search(r"TresPerJob=(\S*)", info)
            wants_gpu = rule in ("train", "predict")
            assert (tres is not None and "gpu:1" in tres.group(1)) == wants_gpu, f"{rule}: {info}"


def test_training_jobs_saw_the_gpu_slurm_assigned(runs):
    # What this checks: each training job found and logged the device SLURM put in CUDA_VISIBLE_DEVICES
    # (foldwise.runtime.gpus). The CI machine has no GPU, so training itself ran on the CPU: that a job
    # trains on the device it was given is not tested here (it needs a GPU machine).
    _, work, _ = runs
    for fold in (0, 1):
        text = (work / "logs" / "train" / "res" / f"fold{fold}.log").read_text()
        assert "GPU(s) assigned by SLURM: CUDA_VISIBLE_DEVICES=0" in text, text


def test_outputs_match_a_local_run(runs):
    local, work, _ = runs
    assert (local / "results/folds/folds.pkl").read_bytes() == (work / "results/folds/folds.pkl").read_bytes()
    for rel in CONTRACT[1:]:
        read = pd.read_csv if rel.endswith(".csv") else pd.read_parquet
        a, b = read(local / "results" / rel), read(work / "results" / rel)
        assert list(a.columns) == list(b.columns), rel
        num = a.select_dtypes("number").columns
        other = [c for c in a.columns if c not in num]
        np.testing.assert_allclose(a[num].to_numpy(float), b[num].to_numpy(float), atol=1e-6, err_msg=rel)
        assert a[other].equals(b[other]), rel
