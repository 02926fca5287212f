"""Optional experiment tracking in MLflow, switched on by ``MLFLOW_TRACKING_URI``.

With the variable unset (or empty) the factories return None and ``mlflow`` is
never imported. With it set:

- every training job is an MLflow run named ``{model} fold{k}``, nested under one
  parent run per (model, config hash) named ``{model} {config_sha256[:12]}``; it
  logs the resolved settings as parameters, every epoch's ``train_loss``,
  ``valid_loss``, ``valid_<metric>``, ``lr`` and ``epoch_seconds`` (step = epoch),
  the fold's best score, best epoch and speed, and ``best.pt``, ``history.csv``
  and ``metrics.json`` as artifacts;
- every ensemble is a run named ``ensemble {name}`` that logs its settings, each
  member's weight (``weight_<member>``), its CV and fold scores, and
  ``weights.json`` / ``scores.json`` as artifacts.

Runs carry the tags ``foldwise.kind`` (model, train, ensemble), ``foldwise.model``
or ``foldwise.ensemble``, ``foldwise.fold``, ``foldwise.config_sha256`` and
``foldwise.folds_sha256``. The experiment is ``FOLDWISE_MLFLOW_EXPERIMENT``
(default ``foldwise``). Tracking is plumbing: a tracking server that fails
costs a warning in the job's log, never the job.
"""

from __future__ import annotations

import fcntl
import functools
import json
import logging
import os
import time
from typing import Callable, Mapping

URI_ENV = "MLFLOW_TRACKING_URI"
EXPERIMENT_ENV = "FOLDWISE_MLFLOW_EXPERIMENT"
DEFAULT_EXPERIMENT = "foldwise"
LOCK_PATH = os.path.join(".snakemake", "foldwise", "mlflow.lock")

log = logging.getLogger(__name__)


def enabled(env: Mapping[str, str] = os.environ) -> bool:
    """Whether tracking is on: ``MLFLOW_TRACKING_URI`` is set and not empty."""
    return bool(env.get(URI_ENV, "").strip())


def _guarded(method: Callable) -> Callable:
    """Run a tracking call; on any failure log a warning and switch tracking off for the job."""

    @functools.wraps(method)
    def inner(self, *args, **kwargs):
        if self.client is None:
            return None
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - tracking must never fail a job
            log.warning("MLflow tracking switched off for this job: %s: %s", type(exc).__name__, exc)
            self.client = None
            return None

    return inner


def _flatten(d: Mapping, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and v:
            out.update(_flatten(v, key + "."))
        else:
            out[key] = json.dumps(v, sort_keys=True) if isinstance(v, (list, dict)) else str(v)
    return {k: v[:6000] for k, v in out.items()}


class _Tracker:
    def __init__(self, env: Mapping[str, str]):
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "3")
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
        self.client = True  # replaced by an MlflowClient in _connect, or None when that fails
        self.run_id: str | None = None
        self._connect(env)

    @_guarded
    def _connect(self, env: Mapping[str, str]) -> None:
        from mlflow.tracking import MlflowClient

        self.client = MlflowClient(tracking_uri=env[URI_ENV])
        name = env.get(EXPERIMENT_ENV) or DEFAULT_EXPERIMENT
        exp = self.client.get_experiment_by_name(name)
        if exp is None:
            with _lock():
                exp = self.client.get_experiment_by_name(name)
                self.experiment_id = exp.experiment_id if exp else self.client.create_experiment(name)
        else:
            self.experiment_id = exp.experiment_id

    def _log(self, metrics: Mapping[str, float | None] = {}, params: Mapping[str, str] = {}, step: int = 0) -> None:
        from mlflow.entities import Metric, Param

        now = int(time.time() * 1000)
        self.client.log_batch(
            self.run_id,
            metrics=[Metric(k, float(v), now, step) for k, v in metrics.items() if v is not None],
            params=[Param(k, v) for k, v in params.items()],
        )

    def _artifacts(self, paths: list[str]) -> None:
        for p in paths:
            if p and os.path.isfile(p):
                self.client.log_artifact(self.run_id, p)


class _lock:
    """An exclusive file lock for search-or-create of shared runs by concurrent jobs."""

    def __enter__(self):
        os.makedirs(os.path.dirname(LOCK_PATH), exist_ok=True)
        self.fd = os.open(LOCK_PATH, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        os.close(self.fd)


class TrainTracking(_Tracker):
    """One training job's MLflow run; call it with each epoch's row (``train_fold(on_epoch=...)``)."""

    def __init__(self, model: str, fold: int, settings: dict, config_sha256: str, folds_sha256: str,
                 artifacts: list[str] = (), env: Mapping[str, str] = os.environ):
        super().__init__(env)
        self.artifacts = list(artifacts)
        self._start(model, fold, settings, config_sha256, folds_sha256)

    @_guarded
    def _start(self, model, fold, settings, config_sha, folds_sha) -> None:
        tags = {"foldwise.model": model, "foldwise.config_sha256": config_sha, "foldwise.folds_sha256": folds_sha}
        with _lock():  # one parent run per (model, config hash), even when folds start together
            found = self.client.search_runs(
                [self.experiment_id],
                filter_string=f"tags.`foldwise.kind` = 'model' and tags.`foldwise.model` = '{model}' "
                f"and tags.`foldwise.config_sha256` = '{config_sha}'",
                max_results=1,
            )
            if found:
                parent = found[0].info.run_id
            else:
                parent = self.client.create_run(
                    self.experiment_id, run_name=f"{model} {config_sha[:12]}", tags={**tags, "foldwise.kind": "model"}
                ).info.run_id
                self.run_id = parent
                self._log(params=_flatten(settings))
        run = self.client.create_run(
            self.experiment_id, run_name=f"{model} fold{fold}",
            tags={**tags, "foldwise.kind": "train", "foldwise.fold": str(fold), "mlflow.parentRunId": parent},
        )
        self.run_id = run.info.run_id
        self._log(params=_flatten(settings))

    @_guarded
    def __call__(self, row: dict) -> None:
        metric = row["metric"]
        self._log(
            {"train_loss": row.get("train_loss"), "valid_loss": row.get("valid_loss"),
             f"valid_{metric}": row.get(f"valid_{metric}"), "lr": row.get("lr"), "epoch_seconds": row.get("seconds")},
            step=int(row["epoch"]),
        )

    @_guarded
    def finish(self, summary: dict | None = None, failed: bool = False) -> None:
        """Log the fold's result and files (the ``artifacts`` that exist), and close the run."""
        if summary:
            keys = ("best_score", "best_epoch", "epochs_run", "wall_seconds", "samples_per_second", "peak_gpu_memory_mb")
            self._log({k: summary.get(k) for k in keys})
        self._artifacts(self.artifacts)
        self.client.set_terminated(self.run_id, "FAILED" if failed else "FINISHED")


def train_tracking(model: str, fold: int, settings: dict, config_sha256: str, folds_sha256: str,
                   artifacts: list[str] = (), env: Mapping[str, str] = os.environ) -> TrainTracking | None:
    """The training job's tracker, or None (nothing imported) when tracking is off.

    Args:
        artifacts: files to log when the job finishes (best weights, history, metrics).
    """
    if not enabled(env):
        return None
    return TrainTracking(model, fold, settings, config_sha256, folds_sha256, artifacts, env)


class EnsembleTracking(_Tracker):
    """One ensemble's MLflow run, logged once its files are written."""

    def __init__(self, name: str, settings: dict, weights_json: str, scores_json: str,
                 env: Mapping[str, str] = os.environ):
        super().__init__(env)
        self._record(name, settings, weights_json, scores_json)

    @_guarded
    def _record(self, name, settings, weights_json, scores_json) -> None:
        with open(weights_json) as fh:
            weights = json.load(fh)
        with open(scores_json) as fh:
            scores = json.load(fh)
        tags = {"foldwise.kind": "ensemble", "foldwise.ensemble": name,
                "foldwise.config_sha256": str(scores.get("config_sha256")),
                "foldwise.folds_sha256": str(scores.get("folds_sha256"))}
        self.run_id = self.client.create_run(self.experiment_id, run_name=f"ensemble {name}", tags=tags).info.run_id
        metrics = {f"weight_{m}": w for m, w in weights["weights"].items()}
        metrics.update(cv=scores.get("cv"), oof_objective=weights.get("oof_objective"))
        metrics.update({f"fold_{k}": v for k, v in enumerate(scores.get("folds", []))})
        self._log(metrics, _flatten(settings))
        self._artifacts([weights_json, scores_json])
        self.client.set_terminated(self.run_id, "FINISHED")


def track_ensemble(name: str, settings: dict, weights_json: str, scores_json: str,
                   env: Mapping[str, str] = os.environ) -> None:
    """Log an ensemble to MLflow when tracking is on; otherwise do nothing (and import nothing)."""
    if enabled(env):
        EnsembleTracking(name, settings, weights_json, scores_json, env)
