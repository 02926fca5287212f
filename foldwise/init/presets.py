"""The ``quick`` and ``strong`` presets per data kind, sized to a time budget.

``quick`` is one strong model that fits the budget on a 2-core CPU machine;
``strong`` adds nets and classic families and an optimised blend, with
``submissions: best``. Epochs (nets), the input size and the fold count are
chosen from the per-epoch and per-fit costs of :mod:`.costs`: the largest
epochs up to a cap that fit the budget, then a smaller input size, then fewer
folds, until it fits (or a warning says by how much it does not).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

from .costs import FITS, JOB_S, NETS, SOURCE, run_jobs
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
               "timeseries": ["multirocket", "resnet1d", "inception", "minirocket"],
               "video": ["slowfast", "r3d", "frame_tshift"], "tabular": ["lgbm", "logistic"]},
}
# ---- THE ONE PLACE for keys and families that are not on main yet -------------------------------------------
# `strong` merges these settings into its models once the schema has them (e.g. seeds: 3 or refit: true on the
# nets; hydra / quant families for time series, as new MODELS entries listed in PRESETS["strong"]).
# kind -> model name -> extra settings. Empty: nothing here exists in foldwise/schemas/config.schema.yaml yet.
STRONG_EXTRAS: dict[str, dict[str, dict]] = {}
# -------------------------------------------------------------------------------------------------------------
DEFAULT_BUDGET = {"quick": 10.0, "strong": 60.0}  # minutes
MAX_EPOCHS = {"images": 30, "timeseries": 40, "video": 20}
MIN_EPOCHS = 3  # below this at the chosen size, sizing shrinks the input, then the folds
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


def _cost(inf: Inference, names: list[str], folds: int, size: int, epochs: dict[str, int], gpu: bool) -> dict:
    """Seconds per model (train + predict jobs) and for the rest of the run."""
    rows_tr = int(inf.n_train * (folds - 1) / folds)
    out = {}
    for name in names:
        key = MODELS[inf.inputs.kind][name][1]
        if key in NETS:
            ref = size or inf.inputs.length
            per = NETS[key].fold_epoch_s(rows_tr, ref, gpu)
            out[name] = folds * (epochs[name] * per + 2 * JOB_S) + folds * per * inf.n_test / max(rows_tr, 1) / 3
        else:
            fit = FITS[key].fit_seconds(rows_tr * _values(inf))
            out[name] = folds * (2 * fit + 2 * JOB_S)
    n_ens = 1 if len(names) > 1 else 0
    out["_rest"] = (run_jobs(len(names), n_ens, folds) - 2 * len(names) * folds) * JOB_S
    return out


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
    nets = [n for n in names if MODELS[kind][n][1] in NETS]
    folds, size = inf.folds["n_splits"], native_size(inf, gpu)
    cap = MAX_EPOCHS.get(kind, 1) * (2 if gpu else 1)
    while True:
        base = _cost(inf, names, folds, size, {n: 0 for n in nets}, gpu)
        spare = budget - sum(base.values())
        rows_tr = int(inf.n_train * (folds - 1) / folds)
        per = {n: folds * NETS[MODELS[kind][n][1]].fold_epoch_s(rows_tr, size or inf.inputs.length, gpu) for n in nets}
        epochs = {n: max(1, min(cap, int(spare / len(nets) / per[n]))) if spare > 0 else 1 for n in nets}
        fits = spare >= 0 and (not nets or min(epochs.values()) >= MIN_EPOCHS)
        if fits:
            break
        if nets and size > 32:
            size = max(32, size // 2 // 16 * 16)
        elif folds > 2:
            folds -= 1
        else:
            break
    costs = _cost(inf, names, folds, size, epochs, gpu)
    models, notes = {}, {}
    for n in names:
        settings, key = copy.deepcopy(MODELS[kind][n][0]), MODELS[kind][n][1]
        if n in nets:
            if kind != "timeseries":
                settings["img_size"] = size
            settings["epochs"] = epochs[n]
            settings["warmup_epochs"] = 1 if epochs[n] > 2 else 0
        settings.update(copy.deepcopy(STRONG_EXTRAS.get(kind, {}).get(n, {})) if preset == "strong" else {})
        models[n] = settings
        src = (NETS.get(key) or FITS[key]).source
        what = f"{epochs[n]} epochs x {folds} folds" if n in nets else f"{folds} fold fits"
        notes[n] = f"{what}, expected {costs[n] / 60:.1f} min; cost from {src}"
    ensembles = {"blend": {"method": "optimize"}} if len(names) > 1 else {}
    expected = sum(costs.values()) + (5 * JOB_S if ensembles else 0)
    header = [f"preset {preset}: {len(names)} model(s) sized to a budget of {budget / 60:.0f} min on "
              f"{'a GPU machine' if gpu else 'a 2-core CPU machine'}; expected wall time {expected / 60:.1f} min",
              f"costs: {SOURCE}" + ("; a GPU is assumed 10x faster per net epoch (not measured)" if gpu else "")]
    if expected > budget * 1.05:
        header.append(f"WARNING: the smallest sizing ({folds} folds) still needs {expected / 60:.1f} min, over the budget")
    return Plan(preset, models, notes, ensembles, "best" if preset == "strong" else None, folds, size,
                expected, budget, header)
