"""What a run costs on the 2-core CPU machine, from figures BENCHMARKS.md and the demos measured.

The presets size epochs, image sizes and folds to a time budget with these
figures; no calibration run is made. Each figure names where it comes from.
A GPU divides the nets' costs by :data:`GPU_SPEEDUP`, an assumption (no GPU
figure has been measured yet: BENCHMARKS.md, 'GPU').
"""

from __future__ import annotations

from dataclasses import dataclass

JOB_S = 4.0
"""Seconds per Snakemake job for process start-up and imports (BENCHMARKS.md, 'Model families': 3-6 s per process)."""
GPU_SPEEDUP = 10.0
"""Assumed speed-up of a net's epoch on a GPU over the 2-core CPU (not measured)."""
SOURCE = "figures BENCHMARKS.md and the demos measured on the 2-core CPU machine (no calibration run)"


@dataclass(frozen=True)
class NetCost:
    """Cost of one net: ``epoch_s + rows * row_ms / 1000 * (size / ref_size)**2`` seconds per fold-epoch.

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
        """Seconds of one epoch on ``rows`` training rows at ``size``."""
        scale = (size / self.ref_size) ** 2 if self.ref_size else 1.0
        s = self.epoch_s + rows * self.row_ms / 1000 * scale
        return s / GPU_SPEEDUP if gpu else s


@dataclass(frozen=True)
class FitCost:
    """Cost of one classic fit: ``fit_s + values * value_us / 1e6`` seconds, ``values`` = rows x inputs.

    Attributes:
        fit_s: fixed seconds per fit or prediction job's model work (first-call compilation included).
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
    # README 'Demo figures' and BENCHMARKS.md 'Model families': BasicMotions, 2 nets x 5 folds, 10-20 epochs.
    "resnet1d": NetCost(6.0, 100, 0.8, "BasicMotions through the pipeline (BENCHMARKS.md, 'Model families')"),
    "inception_time": NetCost(9.0, 100, 0.8, "BasicMotions through the pipeline (BENCHMARKS.md, 'Model families')"),
    # README 'Video demo': train seconds over 3 folds, 400 training clips, 16 frames at 32², less 3 job start-ups.
    "slowfast": NetCost(2.4, 32, 0.3, "the video demo: 72 s for 3 folds x 20 epochs of 400 clips (README)"),
    "r3d_18": NetCost(6.4, 32, 0.3, "the video demo: 107 s for 3 folds x 12 epochs of 400 clips (README)"),
    "frame_tshift": NetCost(9.4, 32, 0.3, "the video demo: 151 s for 3 folds x 12 epochs of 400 clips (README)"),
}

FITS: dict[str, FitCost] = {
    # BENCHMARKS.md 'Model families': MultiRocket's 5 in-job fits 13-29 s on 32-216 rows (first call included).
    "multirocket": FitCost(5.0, 1.0, "BENCHMARKS.md 'Model families' (MultiRocket, 5 fits of 2.5-6 s)"),
    "minirocket": FitCost(4.0, 0.8, "estimated from MultiRocket's figure (fewer features per kernel)"),
    "lightgbm": FitCost(2.0, 0.5, "estimated (no LightGBM figure in BENCHMARKS.md yet)"),
    "logistic": FitCost(1.5, 0.1, "estimated (no logistic figure in BENCHMARKS.md yet)"),
}


def run_jobs(n_models: int, n_ensembles: int, folds: int, sizes: int = 1) -> int:
    """Snakemake jobs of a run (BENCHMARKS.md row 5's count, plus the report's figures).

    ``2·M·F`` train and predict + ``M`` gather + ``E`` ensemble + ``M+E`` submissions + 2 tables +
    2 caches per input size + folds + leaderboard + about 6 figure jobs.
    """
    return 2 * n_models * folds + n_models + n_ensembles + (n_models + n_ensembles) + 2 + 2 * sizes + 2 + 6
