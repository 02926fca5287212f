"""The ``quick`` and ``strong`` presets per data kind, sized to a time budget.

``quick`` is one strong model that fits the budget on a 2-core CPU machine;
``strong`` adds nets and classic families and an optimised blend, with
``submissions: best``, classic families refitted on all rows (``refit: blend``).
Epochs (nets), the input size and the fold count are chosen from the costs and
the wall-time model of :mod:`.costs`: the largest epochs up to a cap that fit
the budget, then a smaller input size, then fewer folds, until it fits (or a
warning says by how much it does not); in ``strong``, nets at their cap with
time to spare average seeds.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

from .costs import CPU_SLOTS, FITS, JOB_S, NETS, SOURCE, short_jobs, wall_seconds
from .infer import Inference

SERIES_AUG = {"roll": 0.2, "scale": 0.1, "noise": 0.05, "shift": 0, "rotate": 0}
CLIP_KW = {"clip_frames": 12, "temporal_jitter": 1, "tta_offsets": 3}

# kind -> model name -> (settings, cost key). Nets carry no epochs or img_size here: sizing sets them.
MODELS: dict[str, dict[str, tuple[dict, str]]] = {
    "images": {
        "resnet10t": ({"backbone": "resnet10t", "batch_size": 64, "lr": 0.003}, "resnet10t"),
        "convnext": ({"backbone": "convnext_atto", "batch_size": 64, "lr": 0.003}, "convnext_atto"),
        "pixels_lgbm": ({"family": "lightgbm", "lightgbm": {"features": "pixels"}}, "lightgbm"),
        "pixels_logistic": ({"family": "logistic", "logistic": {"features": "pixels"}}, "logistic"),
    },
    "timeseries": {
        "multirocket": ({"family": "multirocket"}, "multirocket"),
        "resnet1d": ({"backbone": "resnet1d", "batch_size": 16, "lr": 0.003, "augment": SERIES_AUG}, "resnet1d"),
        "inception": ({"backbone": "inception_time", "batch_size": 16, "lr": 0.003, "augment": SERIES_AUG},
                      "inception_time"),
        "minirocket": ({"family": "minirocket"}, "minirocket"),
        "mr_hydra": ({"family": "multirocket_hydra"}, "multirocket_hydra"),
        "quant": ({"family": "quant"}, "quant"),
    },
    "video": {
        "slowfast": ({"backbone": "slowfast", "batch_size": 32, "lr": 0.003,
                      "model_kwargs": {"width": 16, "alpha": 4, "beta": 0.25, **CLIP_KW}}, "slowfast"),
        "r3d": ({"backbone": "r3d_18", "batch_size": 32, "lr": 0.003, "model_kwargs": {"width": 8, **CLIP_KW}},
                "r3d_18"),
        "frame_tshift": ({"backbone": "frame_tshift", "batch_size": 32, "lr": 0.003,
                          "model_kwargs": {"encoder": "test_resnet", **CLIP_KW}}, "frame_tshift"),
    },
    "tabular": {
        "lgbm": ({"family": "lightgbm"}, "lightgbm"),
        "logistic": ({"family": "logistic"}, "logistic"),
    },
}
PRESETS: dict[str, dict[str, list[str]]] = {
    "quick": {"images": ["resnet10t"], "timeseries": ["multirocket"], "video": ["slowfast"], "tabular": ["lgbm"]},
    "strong": {"images": ["resnet10t", "convnext", "pixels_lgbm", "pixels_logistic"],
               "timeseries": ["mr_hydra", "quant", "resnet1d", "inception"],
               "video": ["slowfast", "r3d", "frame_tshift"], "tabular": ["lgbm", "logistic"]},
}
DEFAULT_BUDGET = {"quick": 10.0, "strong": 60.0}  # minutes
MAX_EPOCHS = {"images": 30, "timeseries": 40, "video": 20}
MIN_EPOCHS = 5  # below this at the chosen size, sizing shrinks the input (more epochs), then the folds
MAX_SEEDS = 3  # strong: nets at their epoch cap with time to spare average up to this many seeds
SIZE_CAP = {("images", False): 64, ("images", True): 224, ("video", False): 32, ("video", True): 112}


@dataclass
class Plan:
    """A sized preset.

    Attributes:
        preset: ``quick`` or ``strong``.
        models: model name -> config settings.
        notes: model name -> comment (epochs, expected seconds, the cost's source).
        ensembles: the ``ensembles`` section.
        submissions: the ``submissions`` key (None = one per model and ensemble).
        n_splits: folds.
        img_size: image side (images, video), 0 otherwise.
        expected_s: expected wall time of the whole run.
        budget_s: the budget.
        header: comment lines on how it was sized.
    """

    preset: str
    models: dict[str, dict]
    notes: dict[str, str]
    ensembles: dict
    submissions: str | None
    n_splits: int
    img_size: int
    expected_s: float
    budget_s: float
    header: list[str] = field(default_factory=list)


def native_size(inf: Inference, gpu: bool) -> int:
    """The square input side: the images' median longer side rounded up to a multiple of 16, 32 to the cap."""
    cap = SIZE_CAP.get((inf.inputs.kind, gpu), 0)
    return min(cap, max(32, 16 * math.ceil(inf.inputs.size / 16))) if cap else 0


def _values(inf: Inference) -> int:
    """Input values per training row for the classic fits (pixels, channels x steps, or features)."""
    kind = inf.inputs.kind
    if kind == "timeseries":
        return inf.inputs.channels * inf.inputs.length
    if kind == "tabular":
        return inf.inputs.channels
    return inf.inputs.channels * 8 * 8 + 2 * inf.inputs.channels  # the pooled pixels features (pool 8)


def _model_jobs(inf: Inference, name: str, folds: int, size: int, epochs: int, seeds: int, refit: bool,
                gpu: bool) -> list[float]:
    """Seconds of each fold job of one model (train and predict per fold and seed; a refit), start-up included."""
    rows_tr = int(inf.n_train * (folds - 1) / folds)
    key = MODELS[inf.inputs.kind][name][1]
    if key in NETS:
        per = NETS[key].fold_epoch_s(rows_tr, size or inf.inputs.length, gpu)
        predict = per * inf.n_test / max(rows_tr, 1) / 3  # inference only, no backward pass
        jobs = [JOB_S + epochs * per, JOB_S + predict] * (folds * seeds)
        return jobs + ([JOB_S + epochs * per * inf.n_train / max(rows_tr, 1) + predict] if refit else [])
    cost = FITS[key]
    test = inf.n_test * _values(inf) * cost.value_us / 1e6
    jobs = [JOB_S + cost.fit_seconds(rows_tr * _values(inf)) + test] * (folds * seeds)
    return jobs + ([JOB_S + cost.fit_seconds(inf.n_train * _values(inf)) + test] if refit else [])


@dataclass(frozen=True)
class _Sizing:
    """One candidate sizing: folds, input size, epochs and seeds per net; classic refits."""

    folds: int
    size: int
    epochs: dict[str, int]
    seeds: int
    refit: bool

    def jobs(self, inf: Inference, names: list[str], gpu: bool) -> dict[str, list[float]]:
        return {n: _model_jobs(inf, n, self.folds, self.size, self.epochs.get(n, 0),
                               self.seeds if n in self.epochs else 1, self.refit and n not in self.epochs, gpu)
                for n in names}

    def wall(self, inf: Inference, names: list[str], gpu: bool) -> float:
        jobs = self.jobs(inf, names, gpu)
        net = [s for n in self.epochs for s in jobs[n]]
        classic = [s for n in names if n not in self.epochs for s in jobs[n]]
        return wall_seconds(net, classic, short_jobs(len(names), 1 if len(names) > 1 else 0), gpu)


def _fit_epochs(inf: Inference, names: list[str], nets: list[str], folds: int, size: int, refit: bool, cap: int,
                budget: float, gpu: bool) -> _Sizing:
    """The most epochs that fit ``budget``: every net gets the same seconds of epochs (up to ``cap`` epochs)."""
    rows_tr = int(inf.n_train * (folds - 1) / folds)
    kind = inf.inputs.kind
    per = {n: folds * NETS[MODELS[kind][n][1]].fold_epoch_s(rows_tr, size or inf.inputs.length, gpu) for n in nets}

    def sizing(share: float) -> _Sizing:
        return _Sizing(folds, size, {n: max(1, min(cap, int(share / per[n]))) for n in nets}, 1, refit)

    lo, hi = 0.0, max((cap * p for p in per.values()), default=0.0)
    for _ in range(40):  # bisection on the seconds of epochs each net gets
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if sizing(mid).wall(inf, names, gpu) <= budget else (lo, mid)
    return sizing(hi if sizing(hi).wall(inf, names, gpu) <= budget else lo)


def _size(inf: Inference, names: list[str], preset: str, budget: float, gpu: bool) -> _Sizing:
    """Epochs up to the cap, then a smaller input, then fewer folds until the run fits; seeds with time to spare."""
    kind = inf.inputs.kind
    nets = [n for n in names if MODELS[kind][n][1] in NETS]
    folds, size = inf.folds["n_splits"], native_size(inf, gpu)
    cap = MAX_EPOCHS.get(kind, 1) * (2 if gpu else 1)
    refit = preset == "strong"
    while True:
        best = _fit_epochs(inf, names, nets, folds, size, refit, cap, budget, gpu)
        fits = best.wall(inf, names, gpu) <= budget and (not nets or min(best.epochs.values()) >= MIN_EPOCHS)
        if fits or (folds <= 2 and (not nets or size <= 32)):
            break
        if nets and size > 32:
            size = max(32, size // 2 // 16 * 16)
        else:
            folds -= 1
    if preset == "strong" and nets and fits and min(best.epochs.values()) >= cap:
        for seeds in range(MAX_SEEDS, 1, -1):  # the nets at their cap with time to spare: average seeds
            more = _Sizing(best.folds, best.size, best.epochs, seeds, refit)
            if more.wall(inf, names, gpu) <= budget:
                return more
    return best


def size_plan(inf: Inference, preset: str, budget_min: float | None, gpu: bool = False) -> Plan:
    """Pick the models of ``preset`` for the folder's kind and size them to the budget.

    Args:
        inf: the folder's inference.
        preset: ``quick`` or ``strong``.
        budget_min: minutes for the whole run (None = :data:`DEFAULT_BUDGET`).
        gpu: a CUDA device is present (nets run faster; larger inputs and more epochs).

    Returns:
        The plan.

    Raises:
        KeyError: an unknown preset (the message lists the valid ones).
    """
    if preset not in PRESETS:
        raise KeyError(f"unknown preset {preset!r}; valid: {', '.join(PRESETS)}")
    kind = inf.inputs.kind
    names = list(PRESETS[preset][kind])
    budget = 60.0 * (budget_min if budget_min is not None else DEFAULT_BUDGET[preset])
    sizing = _size(inf, names, preset, budget, gpu)
    jobs = sizing.jobs(inf, names, gpu)
    models, notes = {}, {}
    for n in names:
        settings, key = copy.deepcopy(MODELS[kind][n][0]), MODELS[kind][n][1]
        if n in sizing.epochs:
            if kind != "timeseries":
                settings["img_size"] = sizing.size
            settings["epochs"] = sizing.epochs[n]
            settings["warmup_epochs"] = 1 if sizing.epochs[n] > 2 else 0
            if sizing.seeds > 1:
                settings["seeds"] = sizing.seeds
            what = f"{sizing.epochs[n]} epochs x {sizing.folds} folds" + (
                f" x {sizing.seeds} seeds" if sizing.seeds > 1 else "")
        else:
            if sizing.refit:
                settings["refit"] = "blend"
            what = f"{sizing.folds} fold fits" + (" + a refit on all rows (blended)" if sizing.refit else "")
        models[n] = settings
        src = (NETS.get(key) or FITS[key]).source
        notes[n] = f"{what}, {sum(jobs[n]) / 60:.1f} min of jobs; cost from {src}"
    ensembles = {"blend": {"method": "optimize"}} if len(names) > 1 else {}
    expected = sizing.wall(inf, names, gpu)
    header = [f"preset {preset}: {len(names)} model(s) sized to a budget of {budget / 60:.0f} min on "
              f"{'a GPU machine' if gpu else 'a 2-core CPU machine'}; expected wall time {expected / 60:.1f} min",
              f"costs: {SOURCE}; fold jobs {CPU_SLOTS} side by side"
              + ("; a GPU is assumed 10x faster per net epoch (not measured)" if gpu else "")]
    if expected > budget * 1.05:
        header.append(f"WARNING: the smallest sizing ({sizing.folds} folds) still needs {expected / 60:.1f} min, "
                      "over the budget")
    elif sizing.epochs and min(sizing.epochs.values()) < MIN_EPOCHS:
        header.append(f"WARNING: only {min(sizing.epochs.values())} epoch(s) fit the budget at the smallest sizing "
                      f"({sizing.folds} folds, {sizing.size or inf.inputs.length}); a larger --budget buys more")
    return Plan(preset, models, notes, ensembles, "best" if preset == "strong" else None, sizing.folds, sizing.size,
                expected, budget, header)
