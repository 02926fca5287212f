"""How a run's cores and GPUs are split between the training and prediction jobs (plan time, torch-free).

The default, for ``snakemake --cores all --resources gpu=1``:

- **On a machine without a GPU** a net's job asks for no ``gpu`` resource (it
  would only queue the folds one after the other behind a device that is not
  there) and every job gets ``cores // jobs`` threads (at least 1): on 2 cores
  with 5 folds, two folds train side by side with one thread each. Small CPU
  nets scale badly over threads, so this is the faster split (BENCHMARKS.md,
  "Whole against whole": two 1-thread jobs train ~2.2x the samples/s of one
  2-thread job on this machine).
- **On a machine with GPUs** a net's job asks for one ``gpu``; as many jobs as
  there are devices run at once, each with ``cores // devices`` threads (at most
  :data:`MAX_GPU_JOB_THREADS`) for its input pipeline.
- Classic (CPU-only) families never ask for a GPU and share the cores like CPU nets.

``--set-threads train=N predict=N`` (command line or a profile) overrides the
threads; a cluster profile (``profiles/slurm``) sets both threads and GPUs itself.
"""

from __future__ import annotations

from foldwise.runtime.gpus import device_pool

MAX_GPU_JOB_THREADS = 8  # a GPU job's threads only feed the device: more rarely helps


def local_gpus() -> int:
    """GPUs this machine offers to jobs (``FOLDWISE_GPU_POOL``, ``CUDA_VISIBLE_DEVICES`` or ``nvidia-smi``)."""
    return len(device_pool())


def job_gpus(wants_gpu: bool, gpus_here: int) -> int:
    """The ``gpu`` resource of one train/predict job: 1 for a net where this machine has a GPU, else 0."""
    return 1 if wants_gpu and gpus_here > 0 else 0


def job_threads(cores: int | None, jobs: int, gpu: int, gpus_here: int) -> int:
    """Threads of one train/predict job.

    Args:
        cores: the run's ``--cores`` (None in a dry run without it: 1).
        jobs: how many such jobs the run has (models x folds), i.e. how many could run at once.
        gpu: this job's ``gpu`` resource (:func:`job_gpus`).
        gpus_here: GPUs on this machine (:func:`local_gpus`).

    Returns:
        ``cores`` split evenly over the jobs that run side by side, at least 1.
    """
    if not cores:
        return 1
    side_by_side = max(1, min(jobs, gpus_here) if gpu else jobs)
    threads = max(1, int(cores) // side_by_side)
    return min(threads, MAX_GPU_JOB_THREADS) if gpu else threads
