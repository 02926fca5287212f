"""One GPU per training process on a multi-GPU machine.

Snakemake's ``--resources gpu=N`` only counts: it lets N training jobs run at
once but does not say which device each should use, so without help every job
would pick ``cuda:0``. :func:`claim_gpu` picks a free device and narrows
``CUDA_VISIBLE_DEVICES`` to it; it must run before CUDA initialises (before
torch is imported is safest).

A device is "taken" while some process holds an exclusive ``fcntl.flock`` on
its lock file (``<lock_dir>/gpu-<device>.lock``). The kernel drops the lock
when that process ends, however it ends (SIGKILL and out-of-memory kills
included), so a crashed job never leaves a device reserved.

Which devices make up the pool, first match wins:

1. ``FOLDWISE_GPU_POOL`` (comma-separated ids; empty means none) - simulates
   a machine in tests or restricts the pool by hand;
2. ``CUDA_VISIBLE_DEVICES`` as set before the job started (empty means none);
3. the GPUs ``nvidia-smi -L`` lists;
4. none: the job trains on the CPU.

Under SLURM (``SLURM_JOB_ID`` is set) the devices SLURM assigned to the job are
used as they are: nothing is picked or locked.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import subprocess
import time
from dataclasses import dataclass
from typing import MutableMapping

from foldwise.errors import FoldwiseError

POOL_ENV = "FOLDWISE_GPU_POOL"
LOCK_DIR_ENV = "FOLDWISE_GPU_LOCK_DIR"
DEFAULT_LOCK_DIR = os.path.join("results", ".gpu_locks")


@dataclass
class GpuClaim:
    """The outcome of :func:`claim_gpu`.

    Attributes:
        device: the device id now in ``CUDA_VISIBLE_DEVICES`` (for SLURM: what
            SLURM set, possibly several or empty), or None for the CPU.
        source: ``"lock"`` (picked and locked here), ``"slurm"`` or ``"cpu"``.
        lock_path: the lock file held, when ``source == "lock"``.
        fd: the open descriptor that holds the lock (None otherwise).
    """

    device: str | None
    source: str
    lock_path: str | None = None
    fd: int | None = None

    def release(self) -> None:
        """Give the device back before the process ends (ending the process also does)."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def describe(self) -> str:
        """One line for the job's log, e.g. ``GPU 2 (locked results/.gpu_locks/gpu-2.lock)``."""
        if self.source == "cpu":
            return "no GPU in the pool: training on the CPU"
        if self.source == "slurm":
            return f"GPU(s) assigned by SLURM: CUDA_VISIBLE_DEVICES={self.device}"
        return f"GPU {self.device} (locked {self.lock_path})"


def _split(value: str) -> list[str]:
    return [d.strip() for d in value.split(",") if d.strip()]


def nvidia_smi_devices() -> list[str]:
    """Indices of the GPUs ``nvidia-smi -L`` lists; [] without the tool or a driver.

    Returns:
        e.g. ``["0", "1", "2", "3"]``.
    """
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=60, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return re.findall(r"^GPU (\d+):", out, flags=re.MULTILINE)


def device_pool(env: MutableMapping[str, str] = os.environ) -> list[str]:
    """The devices this machine offers to training jobs (see the module docstring).

    Args:
        env: the environment to read (``os.environ`` by default).

    Returns:
        Device ids as ``CUDA_VISIBLE_DEVICES`` accepts them; [] means CPU only.
    """
    if POOL_ENV in env:
        return _split(env[POOL_ENV])
    if "CUDA_VISIBLE_DEVICES" in env:
        return _split(env["CUDA_VISIBLE_DEVICES"])
    return nvidia_smi_devices()


def _try_lock(lock_dir: str, device: str) -> tuple[int, str] | None:
    path = os.path.join(lock_dir, "gpu-" + re.sub(r"[^A-Za-z0-9_.-]", "_", device) + ".lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return None
        raise
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd, path


def claim_gpu(
    lock_dir: str | None = None,
    timeout: float | None = None,
    poll: float = 1.0,
    env: MutableMapping[str, str] = os.environ,
) -> GpuClaim:
    """Reserve one free device of the pool for this process and make it the only visible one.

    Waits while every device is taken (possible only when more jobs run than
    there are GPUs, e.g. ``--resources gpu=8`` on a 4-GPU machine).

    Args:
        lock_dir: where the lock files live; ``FOLDWISE_GPU_LOCK_DIR`` or
            ``results/.gpu_locks`` (relative to the working directory) by default.
            Pipelines in different directories that share GPUs must share it.
        timeout: seconds to wait for a free device; None waits for ever, 0 never waits.
        poll: seconds between attempts while waiting.
        env: the environment to read and update (``os.environ`` by default).

    Returns:
        The claim; keep it (or just keep the process alive) to hold the device.

    Raises:
        FoldwiseError: no device became free within ``timeout``.
    """
    if env.get("SLURM_JOB_ID"):
        return GpuClaim(device=env.get("CUDA_VISIBLE_DEVICES", ""), source="slurm")
    pool = device_pool(env)
    if not pool:
        return GpuClaim(device=None, source="cpu")
    lock_dir = lock_dir or env.get(LOCK_DIR_ENV) or DEFAULT_LOCK_DIR
    os.makedirs(lock_dir, exist_ok=True)
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        for device in pool:
            held = _try_lock(lock_dir, device)
            if held:
                env["CUDA_VISIBLE_DEVICES"] = device
                return GpuClaim(device=device, source="lock", lock_path=held[1], fd=held[0])
        if deadline is not None and time.monotonic() >= deadline:
            raise FoldwiseError(
                f"no free GPU among {','.join(pool)} (locks in {lock_dir}); "
                "run fewer jobs at once, e.g. --resources gpu=" + str(len(pool))
            )
        time.sleep(poll)
