"""What a run costs on the 2-core CPU machine, and how its jobs share the cores.

The presets size epochs, image sizes, folds and seeds to a time budget with
these figures; no calibration run is made. Each figure names where it comes
from (BENCHMARKS.md, 'foldwise init', has predicted against measured wall
time). A run's wall time is modelled as Snakemake's start-up, then the fold
jobs (train, predict, refit) placed longest first on :data:`CPU_SLOTS` cores,
one thread each, then the short jobs (tables, caches, gathers, ensembles,
submissions, leaderboard, figures) two at a time. A GPU runs the nets' jobs one
after the other, :data:`GPU_SPEEDUP` times faster (an assumption: no GPU
figure has been measured yet, BENCHMARKS.md 'GPU'), while the CPU runs the
classic families beside them.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

JOB_S = 2.5
"""Seconds per Snakemake job for process start-up and imports (the short rules' benchmark files: 2-3 s each)."""
SNAKEMAKE_S = 5.0
"""Seconds for Snakemake's own start-up, DAG and scheduling of a run."""
CPU_SLOTS = 2
"""Jobs side by side on the CPU machine the figures come from (one thread each, the default profile)."""
SIDE_BY_SIDE = 1.38
"""A net's epoch on 1 thread beside another fold job ÷ alone on 2 threads (BENCHMARKS.md 'Whole against whole':
two 1-thread jobs ~690 samples/s in all, one 2-thread job ~475)."""
GPU_SPEEDUP = 10.0
"""Assumed speed-up of a net's epoch on a GPU over one 2-core CPU job (not measured)."""
SOURCE = "figures BENCHMARKS.md and the demos measured on the 2-core CPU machine (no calibration run)"


@dataclass(frozen=True)
class NetCost:
    """Cost of one net: ``epoch_s + rows * row_ms / 1000 * (size / ref_size)**2`` seconds per fold-epoch.

    The figure is for one job alone with 2 threads; on the CPU, fold jobs run side by side with one thread
    each, :data:`SIDE_BY_SIDE` times slower per job.

    Attributes:
        row_ms: milliseconds per training row per epoch (training and validation) at ``ref_size``.
        ref_size: image side (images, video) or series length (timeseries) of ``row_ms``.
        epoch_s: fixed seconds per epoch (validation pass, checkpoint, scheduler).
        source: where the figure comes from.
    """

    row_ms: float
    ref_size: int
    epoch_s: float
    source: str

    def fold_epoch_s(self, rows: int, size: int, gpu: bool = False) -> float:
        """Seconds of one epoch on ``rows`` training rows at ``size``, as a fold job runs it."""
        scale = (size / self.ref_size) ** 2 if self.ref_size else 1.0
        s = self.epoch_s + rows * self.row_ms / 1000 * scale
        return s / GPU_SPEEDUP if gpu else s * SIDE_BY_SIDE


@dataclass(frozen=True)
class FitCost:
    """Cost of one classic fit: ``fit_s + values * value_us / 1e6`` seconds, ``values`` = rows x inputs.

    Attributes:
        fit_s: fixed seconds of a fit job's model work (loading numba's cached kernels included).
        value_us: microseconds per input value (rows x channels x steps, or rows x features).
        source: where the figure comes from.
    """

    fit_s: float
    value_us: float
    source: str

    def fit_seconds(self, values: int) -> float:
        return self.fit_s + values * self.value_us / 1e6


NETS: dict[str, NetCost] = {
    # BENCHMARKS.md row 3: train_fold on digits at 32², 1,437 rows, 3.08 s/epoch training, x1.14 with validation.
    "resnet10t": NetCost(2.45, 32, 0.3, "BENCHMARKS.md row 3 (resnet10t, 32², 3.08 s per epoch of 1,437 rows)"),
    # The digits demo (README 'Demo figures'): 5 min 25 s for resnet10t 8 epochs + convnext_atto 10 epochs x 5 folds.
    "convnext_atto": NetCost(3.0, 32, 0.3, "the digits demo's wall time less resnet10t's share (README, 'Demo figures')"),
    # init's strong preset on BasicMotions (BENCHMARKS.md 'foldwise init'): 1.7 min for both nets (25 and 23 epochs
    # x 5 folds on 32 rows) and two ROCKET families, after the families' and the jobs' share.
    "resnet1d": NetCost(2.5, 100, 0.05, "init's strong BasicMotions run (BENCHMARKS.md, 'foldwise init')"),
    "inception_time": NetCost(3.5, 100, 0.05, "init's strong BasicMotions run (BENCHMARKS.md, 'foldwise init')"),
    # init's quick preset on the video demo (BENCHMARKS.md 'foldwise init'): 1.8 min for 5 folds x 20 epochs of
    # 480 clips (12 frames at 32²) after the jobs' share.
    "slowfast": NetCost(1.3, 32, 0.3, "init's quick video-digits run: 20 epochs x 5 folds of 480 clips (BENCHMARKS.md)"),
    "r3d_18": NetCost(6.4, 32, 0.3, "the video demo: 107 s for 3 folds x 12 epochs of 400 clips (README)"),
    "frame_tshift": NetCost(9.4, 32, 0.3, "the video demo: 151 s for 3 folds x 12 epochs of 400 clips (README)"),
}

FITS: dict[str, FitCost] = {
    # init's quick BasicMotions run (BENCHMARKS.md 'foldwise init'): 39 s for the whole run, 5 fold jobs.
    "multirocket": FitCost(3.0, 1.0, "init's quick BasicMotions run (BENCHMARKS.md 'foldwise init')"),
    "minirocket": FitCost(2.5, 0.8, "estimated from MultiRocket's figure (fewer features per kernel)"),
    # BENCHMARKS.md 'HYDRA, MultiRocket-HYDRA and QUANT': the 5 in-job fits sum to 13.7-18.5 s and 5.0-6.7 s.
    "multirocket_hydra": FitCost(3.5, 2.0, "BENCHMARKS.md 'HYDRA, MultiRocket-HYDRA and QUANT' (5 fits 14-19 s)"),
    "quant": FitCost(1.2, 1.0, "BENCHMARKS.md 'HYDRA, MultiRocket-HYDRA and QUANT' (5 fits 5-7 s)"),
    "lightgbm": FitCost(2.0, 0.5, "estimated (no LightGBM figure in BENCHMARKS.md yet)"),
    "logistic": FitCost(1.5, 0.1, "estimated (no logistic figure in BENCHMARKS.md yet)"),
}


def makespan(durations: list[float], slots: int) -> float:
    """Seconds until ``durations`` finish when started longest first on ``slots`` free workers.

    Args:
        durations: seconds of each job.
        slots: jobs that run at once.

    Returns:
        The finishing time of the last job (0 for no jobs).
    """
    free = [0.0] * max(1, slots)
    for d in sorted(durations, reverse=True):
        heapq.heapreplace(free, free[0] + d)
    return max(free)


def wall_seconds(net_jobs: list[float], classic_jobs: list[float], short_jobs: int, gpu: bool) -> float:
    """A run's wall time: Snakemake's start-up, the fold jobs on the cores (nets on the GPU), the short jobs.

    Args:
        net_jobs: seconds of each net train, predict or refit job, start-up included.
        classic_jobs: seconds of each classic fit or refit job, start-up included.
        short_jobs: the other jobs (tables, caches, folds, gathers, ensembles, submissions, figures).
        gpu: the nets run on one GPU, one job at a time.

    Returns:
        Expected seconds.
    """
    if gpu:
        fold = max(sum(net_jobs), makespan(classic_jobs, CPU_SLOTS))
    else:
        fold = makespan(net_jobs + classic_jobs, CPU_SLOTS)
    return SNAKEMAKE_S + fold + short_jobs * JOB_S / 2


def short_jobs(n_models: int, n_ensembles: int, sizes: int = 1) -> int:
    """The short jobs of a run: ``M`` gather + ``E`` ensemble + ``M+E`` submissions + 2 tables + 2 caches per
    input size + folds + leaderboard + about 6 figure jobs."""
    return n_models + n_ensembles + (n_models + n_ensembles) + 2 + 2 * sizes + 2 + 6
