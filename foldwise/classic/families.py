"""The model families by name: what each reads, which modules build it, which settings it takes.

Plan-time metadata: the Snakefile (``rules/common.smk``), the config checks and
:func:`foldwise.config.model_settings` read it while the DAG is planned, so
nothing here imports numpy, torch, sktime or LightGBM.

A model's family is ``models.<name>.family`` (``torch``, the default, for
the timm/1-D nets). A classic family's hyper-parameters live under the key
named after it (``models.<name>.multirocket: {...}``); the schema validates them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from foldwise.kinds import get_kind, net_kinds
from foldwise.runtime import provenance

TORCH = "torch"


@dataclass(frozen=True)
class Family:
    """One classic family.

    Attributes:
        kinds: the data kinds it reads.
        head: module of its classifier (built by ``build_head``).
        features: the feature transform it always uses, or None when its settings choose (``features``).
        multilabel: whether it handles ``task: multilabel``.
        fixed_head: the head it always uses (``quant``: ExtraTrees), or None when it is its own head
            (lightgbm, logistic) or its settings choose (``head``: ROCKET and HYDRA families).
    """

    kinds: tuple[str, ...]
    head: str
    features: str | None = None
    multilabel: bool = True
    fixed_head: str | None = None


# Feature transforms: name -> (module, data kinds it reads).
FEATURES: dict[str, tuple[str, tuple[str, ...]]] = {
    "minirocket": ("foldwise.classic.rocket", ("timeseries",)),
    "multirocket": ("foldwise.classic.rocket", ("timeseries",)),
    "hydra": ("foldwise.classic.hydra", ("timeseries",)),
    "multirocket_hydra": ("foldwise.classic.multirocket_hydra", ("timeseries",)),
    "quant": ("foldwise.classic.quant", ("timeseries",)),
    "summary": ("foldwise.classic.features", ("timeseries",)),
    "pixels": ("foldwise.classic.features", ("images",)),
    "columns": ("foldwise.classic.features", ("tabular",)),
}
# Feature transforms only their own family reads (not a ``features:`` choice of lightgbm / logistic).
OWN_FEATURES = ("hydra", "multirocket_hydra", "quant")
# Feature transforms whose module scales their outputs its own way for a linear head (``create_scaler``).
SELF_SCALED = ("hydra", "multirocket_hydra")

FAMILIES: dict[str, Family] = {
    "minirocket": Family(kinds=("timeseries",), head="foldwise.classic.linear", features="minirocket"),
    "multirocket": Family(kinds=("timeseries",), head="foldwise.classic.linear", features="multirocket"),
    "hydra": Family(kinds=("timeseries",), head="foldwise.classic.linear", features="hydra"),
    "multirocket_hydra": Family(kinds=("timeseries",), head="foldwise.classic.linear", features="multirocket_hydra"),
    "quant": Family(kinds=("timeseries",), head="foldwise.classic.trees", features="quant", fixed_head="extratrees"),
    "lightgbm": Family(kinds=("timeseries", "images", "tabular"), head="foldwise.classic.gbdt"),
    "logistic": Family(kinds=("timeseries", "images", "tabular"), head="foldwise.classic.linear"),
}
FAMILY_NAMES = (TORCH, *FAMILIES)

TORCH_KINDS = net_kinds()  # the data kinds nets read (foldwise.kinds)
# Model keys only the nets read; a classic model setting one is refused by foldwise.checks.
TORCH_KEYS = (
    "backbone", "pretrained", "model_kwargs", "epochs", "batch_size", "lr", "weight_decay", "warmup_epochs",
    "loss", "label_smoothing", "oversample", "augment", "compile", "patience", "predict_batch_size", "select_epoch",
    "inner_fraction", "tta", "tta_shift", "tta_roll", "teacher", "pseudo", "mix", "ema", "freeze", "head",
)
# Model keys every family reads.
SHARED_KEYS = ("family", "img_size", "class_weights")


def family_of(model: dict) -> str:
    """The family of a model's settings (``torch`` when unset)."""
    return model.get("family") or TORCH


def is_classic(model: dict) -> bool:
    """Whether a model is trained by :mod:`foldwise.classic` (not a torch net)."""
    return family_of(model) != TORCH


def features_of(model: dict, kind: str) -> str | None:
    """The feature transform a classic model uses (``auto`` resolved by the data kind); None for nets."""
    family = family_of(model)
    if family == TORCH:
        return None
    fixed = FAMILIES[family].features
    if fixed:
        return fixed
    chosen = (model.get(family) or {}).get("features", "auto")
    return (get_kind(kind).auto_features or "summary") if chosen == "auto" else chosen


def family_modules(model: dict, kind: str) -> list[str]:
    """The ``foldwise`` modules a classic model's features and head are built by (imported by name)."""
    family = family_of(model)
    if family == TORCH:
        return []
    return list(dict.fromkeys([FEATURES[features_of(model, kind)][0], FAMILIES[family].head]))


def model_keys(model: dict) -> dict:
    """A model's settings without the keys its family does not read (for params and config hashes)."""
    family = family_of(model)
    if family == TORCH:  # as before families existed: a net's params and config hash are unchanged
        return {k: v for k, v in model.items() if k not in FAMILIES and k != "family"}
    return {k: v for k, v in model.items() if k in SHARED_KEYS or k == family}


def code_version(script_path: str | Path, model: dict, kind: str) -> str:
    """SHA-256 over the syntax trees of the code one (model, fold) job runs.

    The script's import closure plus, for a classic model, the closure of its feature
    and head modules, which :mod:`foldwise.classic.fit` imports by name: editing the
    ROCKET module re-runs the ROCKET models and no other.
    """
    return provenance.code_version(str(script_path), tuple(family_modules(model, kind)))
