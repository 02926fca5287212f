"""Training and test prediction of one (classic model, fold): the ``train_classic`` rule.

The same files as a net's ``train`` and ``predict`` jobs together: the fold's
OOF predictions (``oof.parquet``), a one-row ``history.csv``, the fitted state
in ``best.pt`` (an ``.npz`` archive of arrays, see :mod:`foldwise.classic.state`),
a summary for ``metrics.json`` and the fold's ``test.parquet``, predicted from
the fitted chain in memory (one process: the imports, numba's kernels and the
transform are paid once per fold, not twice).

A model is a short chain, each step fitted on the fold's training rows only:
per-channel standardisation of series (statistics of the training rows, as the
nets' inputs), a feature transform (ROCKET kernels, summary statistics or
pooled pixels), per-feature standardisation (linear heads), and a head
(calibrated ridge, logistic regression or LightGBM). The feature and head
modules are imported by name from :mod:`foldwise.classic.families`, so each
classic model's code hash covers only the modules it runs.
"""

from __future__ import annotations

import importlib
import logging
import time

import numpy as np
import pandas as pd

from foldwise.classic.families import FAMILIES, FEATURES, SELF_SCALED, family_of, features_of
from foldwise.classic.state import load_state, save_state
from foldwise.errors import FoldwiseError
from foldwise.io import load_classes, open_cache, sha256_file, sha256_json, write_csv
from foldwise.jobs.data import fold_split, read_labelled
from foldwise.jobs.paths import TrainPaths
from foldwise.jobs.scaling import CHANNELS, Standardiser
from foldwise.jobs.seeds import job_seed
from foldwise.jobs.writers import job_meta, write_oof, write_test
from foldwise.metrics import get_metric
from foldwise.tasks import get_task

log = logging.getLogger(__name__)
# Hyper-parameters of the features, not of the head.
FEATURE_KEYS = ("features", "head", "n_kernels", "max_dilations_per_kernel", "n_features_per_kernel", "pool",
                "k", "g", "max_num_channels", "depth", "div")
# Settings each feature transform reads (besides the seed), by transform.
TRANSFORM_KEYS = {
    "minirocket": ("n_kernels", "max_dilations_per_kernel", "n_features_per_kernel"),
    "multirocket": ("n_kernels", "max_dilations_per_kernel", "n_features_per_kernel"),
    "hydra": ("k", "g", "max_num_channels"),
    "multirocket_hydra": ("n_kernels", "max_dilations_per_kernel", "n_features_per_kernel", "k", "g",
                          "max_num_channels"),
    "quant": ("depth", "div"),
}


class ClassicModel:
    """One classic model's fitted chain: channel scaling (series), features, feature scaling (linear heads), head.

    Args:
        settings: the model's resolved settings (``model_settings``: family, its hyper-parameters, task, kind, …).
        seed: seed of every random draw (kernels, LightGBM, lbfgs).
        threads: CPU threads (numba, LightGBM).
    """

    def __init__(self, settings: dict, seed: int, threads: int = 1):
        self.settings, self.seed, self.threads = settings, int(seed), max(1, int(threads))
        self.family = family_of(settings)
        self.kind, self.multilabel = settings["kind"], settings["task"] == "multilabel"
        hyper = dict(settings.get(self.family) or {})
        self.features = features_of(settings, self.kind)
        # ROCKET and HYDRA families choose their head (ridge or logistic); quant always uses ExtraTrees;
        # lightgbm and logistic are their own head.
        spec = FAMILIES[self.family]
        self.head_name = spec.fixed_head or (hyper["head"] if spec.features else self.family)
        self.feature_params = self._feature_params(hyper)
        self.head_params = {k: v for k, v in hyper.items() if k not in FEATURE_KEYS}
        self.head_params.update(class_weights=settings["class_weights"], seed=self.seed,
                                threads=self.threads)
        self.scale_features = self.head_name in ("ridge", "logistic")

    def _feature_params(self, hyper: dict) -> dict:
        if self.features in TRANSFORM_KEYS:
            keep = TRANSFORM_KEYS[self.features]
            return {**{k: hyper[k] for k in keep if hyper.get(k) is not None}, "seed": self.seed}
        if self.features == "pixels":
            return {"pool": hyper["pool"]}
        if self.features == "columns":  # the cache's layout, decided from train_csv when the DAG is planned
            layout = self.settings.get("layout") or {"columns": [], "categorical": []}
            categorical = [layout["columns"].index(c) for c in layout["categorical"]]
            return {"categorical": categorical, "onehot": self.family != "lightgbm"}
        return {}

    def _module(self, name: str):
        return importlib.import_module(name)

    # ----- fitting -----

    def fit(self, data: np.ndarray, y: np.ndarray, train_rows: np.ndarray, valid_rows=None, n_classes: int = 0):
        """Fit every step on ``train_rows`` of ``data``; ``valid_rows`` only early-stop LightGBM."""
        self.n_classes = n_classes
        x_tr = np.asarray(data[train_rows])
        if self.kind == "timeseries":
            self.channels_ = Standardiser(**CHANNELS).fit(x_tr)
        feat_mod = self._module(FEATURES[self.features][0])
        self.transform_ = feat_mod.create_transform(self.features, **self.feature_params, threads=self.threads)
        x_tr = self._inputs(x_tr)
        f_tr = self.transform_.fit(x_tr).transform(x_tr)
        f_va = None if valid_rows is None else self.features_of(data, valid_rows, scaled=False)
        if self.scale_features:
            self.scaler_ = self._new_scaler(feat_mod).fit(f_tr)
            f_tr = self.scaler_.transform(f_tr)
            f_va = None if f_va is None else self.scaler_.transform(f_va)
        head_mod = self._module(FAMILIES[self.family].head)
        self.head_ = head_mod.create_head(self.head_name, **self.head_params)
        y_va = None if valid_rows is None else y[valid_rows]
        self.head_.fit(f_tr, y[train_rows], n_classes, multilabel=self.multilabel, x_valid=f_va, y_valid=y_va,
                       categorical=getattr(self.transform_, "categorical_out_", None))
        self._train_features, self._valid_features = f_tr, f_va  # for the OOF predictions: transformed once
        return self

    def _new_scaler(self, feat_mod):
        """The feature scaling of a linear head: the transform's own (HYDRA's sparse scaler), else standardisation."""
        if self.features in SELF_SCALED:
            return feat_mod.create_scaler(self.features, self.transform_)
        return Standardiser()

    def _restore_scaler(self, feat_mod, arrays: dict):
        if self.features in SELF_SCALED:
            return feat_mod.restore_scaler(self.features, arrays)
        return Standardiser.restore(arrays)

    def _inputs(self, x: np.ndarray) -> np.ndarray:
        """Series standardised per channel, ``(N, T, C)`` -> ``(N, C, T)`` float32 as the transforms read them."""
        if self.kind != "timeseries":
            return x
        return np.ascontiguousarray(self.channels_.transform(x).transpose(0, 2, 1))

    def features_of(self, data: np.ndarray, rows=None, scaled: bool = True, batch: int = 4096) -> np.ndarray:
        """Feature rows of ``data`` (all rows when ``rows`` is None), read in slices of the cache."""
        rows = np.arange(len(data)) if rows is None else np.asarray(rows)
        parts = []
        for start in range(0, len(rows), batch):
            x = self._inputs(np.asarray(data[rows[start : start + batch]]))
            f = self.transform_.transform(x)
            parts.append(self.scaler_.transform(f) if scaled and self.scale_features else f)
        return np.concatenate(parts) if parts else np.zeros((0, 0), dtype=np.float32)

    def predict_proba(self, data: np.ndarray, rows=None) -> np.ndarray:
        """Probabilities ``(len(rows), K)``: softmax over classes, or one sigmoid per label."""
        return np.asarray(self.head_.predict_proba(self.features_of(data, rows)), dtype=np.float64)

    def train_proba(self) -> np.ndarray:
        """Probabilities of the training rows (from the features computed while fitting)."""
        return np.asarray(self.head_.predict_proba(self._train_features), dtype=np.float64)

    def valid_proba(self) -> np.ndarray:
        """Probabilities of the ``valid_rows`` given to :meth:`fit` (their features were computed there)."""
        return np.asarray(self.head_.predict_proba(self._valid_features), dtype=np.float64)

    @property
    def selects_on_valid(self) -> bool:
        """Whether fitting chose anything on the validation rows (LightGBM's early stopping)."""
        return bool(getattr(self.head_, "selects_on_valid_", False))

    def last_valid_proba(self) -> np.ndarray:
        """Probabilities of the validation rows at the last round trained (= :meth:`valid_proba` when
        nothing was chosen on them)."""
        last = getattr(self.head_, "last_valid_proba_", None)
        return self.valid_proba() if last is None else np.asarray(last, dtype=np.float64)

    # ----- state -----

    def save(self, path: str, header: dict) -> None:
        arrays = {}
        for prefix, step in (("channels", getattr(self, "channels_", None)), ("features", self.transform_),
                             ("scaler", getattr(self, "scaler_", None)), ("head", self.head_)):
            if step is not None:
                arrays.update({f"{prefix}/{k}": v for k, v in step.arrays().items()})
        save_state(path, arrays, {
            **header, "family": self.family, "features": self.features, "head": self.head_name,
            "feature_params": self.transform_.params, "head_params": _jsonable(self.head_params),
            "multilabel": self.multilabel, "n_classes": self.n_classes,
        })

    @classmethod
    def load(cls, path: str, settings: dict, threads: int = 1) -> "ClassicModel":
        """A fitted model from its state archive; refuses a state made for other settings."""
        arrays, header = load_state(path)
        if header.get("config_sha256") != sha256_json(settings):
            raise FoldwiseError(f"{path} was fitted with other settings than model '{settings['model']}' has now")
        model = cls(settings, header["seed"], threads)
        model.n_classes = header["n_classes"]

        def part(prefix):
            return {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith(prefix + "/")}

        if model.kind == "timeseries":
            model.channels_ = Standardiser.restore(part("channels"), **CHANNELS)
        feat_mod = model._module(FEATURES[model.features][0])
        model.transform_ = feat_mod.restore_transform(model.features, header["feature_params"], part("features"),
                                                      threads)
        if model.scale_features:
            model.scaler_ = model._restore_scaler(feat_mod, part("scaler"))
        head_mod = model._module(FAMILIES[model.family].head)
        head_params = {**header["head_params"], "threads": threads}
        model.head_ = head_mod.restore_head(model.head_name, head_params, part("head"), header["multilabel"])
        return model


def _jsonable(params: dict) -> dict:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in params.items()}


def train_classic_fold(
    settings: dict, paths: TrainPaths, fold: int, target_col: str, threads: int = 1, replica: int = 0
) -> dict:
    """Fit a classic model on one fold's training rows and write its files (as :func:`foldwise.train.fold.train_fold`).

    ``replica`` is the seed index of ``models.<name>.seeds`` (:func:`foldwise.jobs.seeds.job_seed`).
    With ``paths.test`` set, the fold's test predictions are written too (as the net's ``predict`` job writes them).

    Returns:
        The summary for ``metrics.json``: best epoch (1; LightGBM: its best round), validation score, seconds.
    """
    t_start = time.perf_counter()
    task = get_task(settings["task"])
    metric = get_metric(settings["metric"], task.name)
    classes, table, y, data = read_labelled(paths, task)
    tr_idx, va_idx = fold_split(paths.folds, fold)
    seed = job_seed(settings["seed"], settings["model"], fold, replica)
    model = ClassicModel(settings, seed, threads).fit(data, y, tr_idx, va_idx, n_classes=len(classes))
    t_fit = time.perf_counter() - t_start
    probs = model.valid_proba()
    score = metric(y[va_idx], probs)
    valid_loss = get_metric("log_loss", task.name)(y[va_idx], probs)
    train_loss = get_metric("log_loss", task.name)(y[tr_idx], model.train_proba())
    info = model.head_.info()
    config_sha, folds_sha = sha256_json(settings), sha256_file(paths.folds)
    # select_epoch as gather reads it: "best" when early stopping chose the round on these validation rows
    # (the honest CV is then the last round's, as for a net's best epoch), else "last" (nothing chosen on them).
    meta = job_meta(folds_sha, config_sha, settings["model"], fold,
                    select_epoch="best" if model.selects_on_valid else "last", replica=replica)
    write_oof(paths.oof, table, va_idx, fold, target_col, classes, probs, meta, model.last_valid_proba())
    seconds = time.perf_counter() - t_start
    row = {"epoch": 1, "lr": None, "train_loss": train_loss, "valid_loss": valid_loss,
           f"valid_{settings['metric']}": score, "seconds": seconds, **info}
    write_csv(pd.DataFrame([row]), paths.history)
    model.save(paths.weights, {"config_sha256": config_sha, "folds_sha256": folds_sha, "seed": seed,
                               "fold": fold, "classes": list(classes)})
    if paths.test is not None:  # the fold's test predictions from the fitted chain in memory: no second job
        test_meta = job_meta(folds_sha, config_sha, settings["model"], fold, replica=replica)
        predict_test(model, paths.classes, paths.test_cache, paths.test_table, paths.test, test_meta)
    log.info("%s fold %d (%s, %s features, %s head): valid_%s %.4f valid_loss %.4f in %.1fs %s", settings["model"],
             fold, model.family, model.features, model.head_name, settings["metric"], score, valid_loss, seconds, info)
    return {
        "best_epoch": int(info.get("best_iteration", 1)),
        "best_score": score,
        "epochs_run": 1,
        "train_seconds": t_fit,
        "samples_per_second": len(tr_idx) / t_fit if t_fit > 0 else None,
        "wall_seconds": time.perf_counter() - t_start,
        "peak_gpu_memory_mb": None,
        "device": "cpu",
        "family": model.family,
        **{f"head_{k}": v for k, v in info.items()},
    }


def predict_test(model: ClassicModel, classes_path: str, test_cache: str, test_table: str, out: str,
                 meta: dict) -> pd.DataFrame:
    """A fitted model's test probabilities, written to ``out`` by :func:`foldwise.jobs.writers.write_test`."""
    probs = model.predict_proba(open_cache(test_cache))
    return write_test(out, probs, load_classes(classes_path), test_table, test_cache, meta)
