"""Experiment tracking against a real MLflow tracking server (sqlite backend, loopback only)."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .conftest import REPO
from .pipeline import TINY, Pipeline, copy_code

HAVE_MLFLOW = importlib.util.find_spec("mlflow") is not None and importlib.util.find_spec("flask") is not None


def test_nothing_is_imported_without_a_tracking_uri():
    code = (
        "import sys\n"
        "from foldwise.runtime.experiments import track_ensemble, train_tracking\n"
        "assert train_tracking('m', 0, {}, 'c', 'f', env={}) is None\n"
        "track_ensemble('e', {}, 'missing.json', 'missing.json', env={'MLFLOW_TRACKING_URI': ''})\n"
        "assert 'mlflow' not in sys.modules, 'mlflow was imported'\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("MLFLOW_TRACKING_URI", None)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def mlflow_server(tmp_path):
    """``mlflow server`` on 127.0.0.1 with a sqlite store; stopped (with its workers) afterwards."""
    port = _free_port()
    exe = Path(sys.executable).with_name("mlflow")
    log = open(tmp_path / "mlflow-server.log", "w")
    proc = subprocess.Popen(
        [str(exe), "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
         "--backend-store-uri", f"sqlite:///{tmp_path / 'mlflow.db'}",
         "--artifacts-destination", str(tmp_path / "artifacts")],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=tmp_path,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(url + "/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"MLflow server did not start:\n{(tmp_path / 'mlflow-server.log').read_text()[-3000:]}")
            time.sleep(1)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


@pytest.mark.workflow
@pytest.mark.skipif(not HAVE_MLFLOW and os.environ.get("CI") != "true",
                    reason="mlflow-skinny and the server's dependencies are not installed (pip install -e '.[dev]')")
def test_train_and_ensemble_jobs_log_to_mlflow(mlflow_server, digits_dir, tmp_path, monkeypatch):
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    monkeypatch.setenv("FOLDWISE_MLFLOW_EXPERIMENT", "foldwise-test")
    cfg = {
        **TINY,
        "data": {**TINY["data"], "dir": str(digits_dir)},
        "models": {"res": {**TINY["models"]["res"], "epochs": 2}},
        "ensembles": {"blend": {"method": "optimize", "members": ["res"]}},
    }
    pipe = Pipeline(copy_code(tmp_path / "code"), tmp_path / "work", cfg)
    proc = pipe.snakemake("--until", "ensemble")  # train, predict, gather, ensemble: no submissions or figures

    # live progress: plain per-epoch lines from the train jobs on snakemake's stderr (no terminal here)
    err = proc.stdout + proc.stderr
    assert "[foldwise] res fold 0 started; follow it with: tail -f logs/train/res/fold0.log" in err
    assert "[foldwise] res fold 1 epoch 2/2 valid_accuracy " in err
    assert "[foldwise] res fold 1 done in " in err

    client = MlflowClient(mlflow_server)
    exp = client.get_experiment_by_name("foldwise-test")
    runs = client.search_runs([exp.experiment_id])
    by_kind = {}
    for r in runs:
        by_kind.setdefault(r.data.tags["foldwise.kind"], []).append(r)
    assert sorted(by_kind) == ["ensemble", "model", "train"]
    (parent,) = by_kind["model"]
    folds = sorted(by_kind["train"], key=lambda r: r.data.tags["foldwise.fold"])
    sha = parent.data.tags["foldwise.config_sha256"]
    assert parent.info.run_name == f"res {sha[:12]}" and len(sha) == 64
    assert [r.info.run_name for r in folds] == ["res fold0", "res fold1"]
    for k, run in enumerate(folds):
        assert run.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert run.data.tags["foldwise.config_sha256"] == sha and run.info.status == "FINISHED"
        assert run.data.params["backbone"] == "resnet10t" and run.data.params["epochs"] == "2"
        history = client.get_metric_history(run.info.run_id, "valid_accuracy")
        assert sorted(m.step for m in history) == [1, 2]
        assert [m.step for m in client.get_metric_history(run.info.run_id, "train_loss")] == [1, 2]
        assert 0 <= run.data.metrics["best_score"] <= 1 and run.data.metrics["best_epoch"] in (1, 2)
        assert {a.path for a in client.list_artifacts(run.info.run_id)} == {"best.pt", "history.csv", "metrics.json"}
    (ens,) = by_kind["ensemble"]
    assert ens.info.run_name == "ensemble blend" and ens.data.tags["foldwise.ensemble"] == "blend"
    assert ens.data.metrics["weight_res"] == pytest.approx(1.0)
    assert {"cv", "fold_0", "fold_1", "oof_objective"} <= set(ens.data.metrics)
    assert ens.data.params["method"] == "optimize"
    assert {a.path for a in client.list_artifacts(ens.info.run_id)} == {"weights.json", "scores.json"}
