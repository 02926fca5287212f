"""The GPU allocator on the CPU: simulated pools, real processes, real file locks. No timing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from foldwise.errors import FoldwiseError
from foldwise.runtime.gpus import claim_gpu, device_pool

from .conftest import REPO

# A job: claim a device (argv: lock dir, seconds to wait, negative = for ever), print it,
# hold it until stdin closes or the process is killed.
HOLDER = """
import sys
from foldwise.runtime.gpus import claim_gpu
wait = float(sys.argv[2])
claim = claim_gpu(lock_dir=sys.argv[1], timeout=None if wait < 0 else wait, poll=0.05)
print(claim.device, flush=True)
sys.stdin.read()
"""


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CUDA_VISIBLE_DEVICES", "SLURM_JOB_ID")}
    env.pop("FOLDWISE_GPU_POOL", None)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    return {**env, **extra}


def start_holder(lock_dir, env, timeout="0"):
    return subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock_dir), timeout],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )


def device_of(proc) -> str:
    line = proc.stdout.readline().strip()
    assert line, proc.stderr.read()
    return line


def finish(*procs) -> None:
    for p in procs:
        if p.poll() is None:
            p.stdin.close()
        p.wait()


def test_concurrent_processes_never_share_a_device(tmp_path):
    env = clean_env(FOLDWISE_GPU_POOL="0,1,2")
    procs = [start_holder(tmp_path, env) for _ in range(3)]
    try:
        devices = [device_of(p) for p in procs]  # all three hold their device now
        assert sorted(devices) == ["0", "1", "2"]
        extra = start_holder(tmp_path, env)  # a fourth job finds every device taken
        _, err = extra.communicate()
        assert extra.returncode != 0 and "no free GPU among 0,1,2" in err
    finally:
        finish(*procs)


def test_a_waiting_job_gets_the_device_when_it_is_released(tmp_path):
    env = clean_env(FOLDWISE_GPU_POOL="3")
    first = start_holder(tmp_path, env)
    assert device_of(first) == "3"
    waiting = start_holder(tmp_path, env, timeout="-1")  # waits for ever
    finish(first)
    assert device_of(waiting) == "3"
    finish(waiting)


def test_a_killed_jobs_device_is_reused(tmp_path):
    env = clean_env(FOLDWISE_GPU_POOL="0")
    victim = start_holder(tmp_path, env)
    assert device_of(victim) == "0"
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert victim.returncode == -signal.SIGKILL
    survivor = start_holder(tmp_path, env)  # timeout 0: the lock must already be free
    assert device_of(survivor) == "0"
    finish(survivor)


def test_preset_cuda_visible_devices_is_the_pool(tmp_path):
    env = clean_env(CUDA_VISIBLE_DEVICES="5,7")
    a, b = start_holder(tmp_path, env), start_holder(tmp_path, env)
    try:
        assert sorted([device_of(a), device_of(b)]) == ["5", "7"]
    finally:
        finish(a, b)


def test_claim_narrows_cuda_visible_devices_in_process(tmp_path):
    env = {"FOLDWISE_GPU_POOL": "0,1"}
    first = claim_gpu(lock_dir=str(tmp_path), timeout=0, env=env)
    assert (first.device, env["CUDA_VISIBLE_DEVICES"], first.source) == ("0", "0", "lock")
    env2 = {"FOLDWISE_GPU_POOL": "0,1"}
    second = claim_gpu(lock_dir=str(tmp_path), timeout=0, env=env2)
    assert env2["CUDA_VISIBLE_DEVICES"] == "1"
    with pytest.raises(FoldwiseError, match="no free GPU"):
        claim_gpu(lock_dir=str(tmp_path), timeout=0, env={"FOLDWISE_GPU_POOL": "0,1"})
    first.release()
    assert claim_gpu(lock_dir=str(tmp_path), timeout=0, env={"FOLDWISE_GPU_POOL": "0,1"}).device == "0"
    second.release()


def test_slurm_assignment_is_kept_and_nothing_is_locked(tmp_path):
    env = {"SLURM_JOB_ID": "42", "CUDA_VISIBLE_DEVICES": "1", "FOLDWISE_GPU_POOL": "0,1,2"}
    claim = claim_gpu(lock_dir=str(tmp_path / "locks"), timeout=0, env=env)
    assert (claim.source, claim.device, env["CUDA_VISIBLE_DEVICES"]) == ("slurm", "1", "1")
    assert not (tmp_path / "locks").exists()


def test_empty_pool_means_cpu(tmp_path):
    for env in ({"FOLDWISE_GPU_POOL": ""}, {"CUDA_VISIBLE_DEVICES": ""}):
        claim = claim_gpu(lock_dir=str(tmp_path), timeout=0, env=env)
        assert claim.source == "cpu" and claim.device is None
        assert env.get("CUDA_VISIBLE_DEVICES", "") == ""


def test_pool_from_nvidia_smi(tmp_path, monkeypatch):
    fake = tmp_path / "nvidia-smi"
    fake.write_text(
        "#!/bin/sh\necho 'GPU 0: NVIDIA A100 (UUID: GPU-aaa)'\n"
        "echo '  MIG 1g.10gb Device 0: (UUID: MIG-bbb)'\necho 'GPU 1: NVIDIA A100 (UUID: GPU-ccc)'\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert device_pool({}) == ["0", "1"]
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    assert device_pool({}) == []


# ----- how train/predict jobs share a machine (foldwise.runtime.scheduling) -----


def test_cpu_machine_runs_every_fold_side_by_side_one_thread_each():
    from foldwise.runtime.scheduling import job_gpus, job_threads

    gpu = job_gpus(True, gpus_here=0)  # a net on a machine without a GPU asks for none
    assert gpu == 0
    assert job_threads(2, jobs=5, gpu=gpu, gpus_here=0) == 1
    assert job_threads(16, jobs=5, gpu=gpu, gpus_here=0) == 3
    assert job_threads(16, jobs=1, gpu=gpu, gpus_here=0) == 16
    assert job_threads(None, jobs=5, gpu=gpu, gpus_here=0) == 1  # a dry run without --cores


def test_gpu_machine_runs_one_job_per_device_with_the_cores_split():
    from foldwise.runtime.scheduling import MAX_GPU_JOB_THREADS, job_gpus, job_threads

    assert job_gpus(True, gpus_here=2) == 1 and job_gpus(False, gpus_here=2) == 0  # classic families: never
    assert job_threads(16, jobs=10, gpu=1, gpus_here=2) == MAX_GPU_JOB_THREADS
    assert job_threads(8, jobs=10, gpu=1, gpus_here=4) == 2
    assert job_threads(16, jobs=10, gpu=0, gpus_here=2) == 1  # a CPU family beside them shares by jobs


def test_local_gpus_reads_the_pool(monkeypatch):
    from foldwise.runtime.scheduling import local_gpus

    monkeypatch.setenv("FOLDWISE_GPU_POOL", "0,1,2")
    assert local_gpus() == 3
    monkeypatch.setenv("FOLDWISE_GPU_POOL", "")
    assert local_gpus() == 0
