"""Pretrained weights by name (issue 25): hub caches laid out on disk, read offline by timm's and torch hub's paths.

Every check runs in a fresh interpreter whose environment (``HF_HUB_OFFLINE=1``, ``HF_HUB_CACHE``,
``TORCH_HOME``) is set before Python starts, as huggingface_hub reads it at import.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
import yaml

from .hubcache import hf_cache_file, safetensors_bytes, timm_state
from .pipeline import TINY, Pipeline, copy_code, summarize

REPO = Path(__file__).resolve().parents[1]
SOURCE = "test_resnet.r160_in1k"  # test_resnet's default pretrained tag in timm
REPO_ID = f"timm/{SOURCE}"


def _run(code: str, tmp_path: Path, **env) -> dict:
    """Run ``code`` in a fresh Python with the hub caches of ``tmp_path``; it prints one JSON line."""
    full = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
            "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path / "hf"), "TORCH_HOME": str(tmp_path / "torch"),
            "OMP_WAIT_POLICY": "PASSIVE", **env}
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=full,
                          cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


TIMM_CHECKS = """
    import json, torch
    from safetensors.torch import load_file
    import timm
    from foldwise.errors import FoldwiseError
    from foldwise.models.factory import create_model
    from foldwise.models.weights import cached_file, fetch_weights, resolve_source
    from foldwise.checks.models import hub_weights_problem

    cached = load_file(SNAP)
    out = {}
    # timm's own hub path reads the laid-out cache offline
    hub = timm.create_model("test_resnet", pretrained=True).state_dict()
    out["timm_reads_cache"] = all(torch.equal(hub[k], v) for k, v in cached.items())
    source = resolve_source("test_resnet")
    out["source"], out["same_source"] = source.name, resolve_source("test_resnet.r160_in1k") == source
    out["cached"] = str(cached_file(source))
    info = fetch_weights(source, "w/x.safetensors", "w/x.json")
    out["info"] = info
    same = create_model("test_resnet", 1000, in_chans=3, pretrained="w/x.safetensors").state_dict()
    out["all_equal"] = sorted(k for k in cached if not torch.equal(same[k], cached[k]))
    new = create_model("test_resnet", 4, in_chans=1, pretrained="w/x.safetensors").state_dict()
    out["differ"] = sorted(k for k in cached if new[k].shape != cached[k].shape or not torch.equal(new[k], cached[k]))
    out["head"] = list(new["fc.weight"].shape)
    stem = cached["conv1.0.weight"]
    out["stem_summed"] = bool(torch.allclose(new["conv1.0.weight"], stem.sum(1, keepdim=True)))
    out["missing"] = hub_weights_problem({"backbone": "test_efficientnet", "pretrained": True}, "images")
    try:
        fetch_weights(resolve_source("test_efficientnet"), "w/y.safetensors", "w/y.json")
    except FoldwiseError as exc:
        out["fetch_offline"] = str(exc)
    print(json.dumps(out))
"""


def test_timm_hub_cache_offline(tmp_path):
    data = safetensors_bytes(timm_state("test_resnet"))
    snap = hf_cache_file(tmp_path / "hf", REPO_ID, "model.safetensors", data, revision="a" * 40)
    out = _run(f"SNAP = {str(snap)!r}\n" + textwrap.dedent(TIMM_CHECKS), tmp_path)
    assert out["timm_reads_cache"] and out["source"] == SOURCE and out["same_source"]
    assert out["cached"] == str(snap)
    info = out["info"]
    assert info["repository"] == REPO_ID and info["revision"] == "a" * 40 and info["file"] == "model.safetensors"
    assert info["license"] == "apache-2.0" and info["downloaded"] is False
    assert info["sha256"] == info["source_sha256"] == __import__("hashlib").sha256(data).hexdigest()
    assert out["all_equal"] == []  # the loaded tensors are the file's
    # 4 classes, 1 channel: the head is re-initialised and the 3-channel stem summed (timm's adapt_input_conv)
    assert out["differ"] == ["conv1.0.weight", "fc.bias", "fc.weight"] and out["head"][0] == 4
    assert out["stem_summed"]
    for msg in (out["missing"], out["fetch_offline"]):
        assert "timm/test_efficientnet.r160_in1k" in msg and "model.safetensors" in msg
        assert "HF_HUB_OFFLINE=1" in msg and "populate the cache" in msg and "local weights file" in msg


VIDEO_CHECKS = """
    import json, torch
    from foldwise.models.video import _video_resnet, create_video_model
    from foldwise.models.weights import cached_file, fetch_weights, resolve_source, torch_hub_checkpoints
    from foldwise.checks.models import hub_weights_problem

    out = {}
    source = resolve_source("r3d_18")
    out["source"], out["file"] = source.name, source.files[0]
    out["missing"] = hub_weights_problem({"backbone": "r3d_18", "pretrained": True}, "video")
    out["narrow"] = hub_weights_problem({"backbone": "r3d_18", "pretrained": True, "model_kwargs": {"width": 8}}, "video")
    torch.manual_seed(0)
    state = _video_resnet("r3d_18", 3, 400).half().state_dict()  # torchvision's shapes (width 64), 400 classes
    path = torch_hub_checkpoints() / source.files[0]
    path.parent.mkdir(parents=True)
    torch.save(state, path)
    out["cached"] = str(cached_file(source))
    info = fetch_weights(source, "w/v.safetensors", "w/v.json")
    out["info"] = {k: info[k] for k in ("library", "repository", "file", "tensors", "downloaded")}
    net = create_video_model("r3d_18", 5, 3, pretrained="w/v.safetensors").net.state_dict()
    out["differ"] = sorted(k for k in state if net[k].shape != state[k].shape or not torch.equal(net[k], state[k].float()))
    print(json.dumps(out))
"""


def test_torch_hub_cache_for_a_video_net(tmp_path):
    out = _run(VIDEO_CHECKS, tmp_path)
    assert out["source"] == "r3d_18.kinetics400_v1" and out["file"].startswith("r3d_18-")
    assert out["file"] in out["missing"] and str(tmp_path / "torch") in out["missing"] and "TORCH_HOME" in out["missing"]
    assert "width 64" in out["narrow"]
    assert out["cached"] == str(tmp_path / "torch" / "hub" / "checkpoints" / out["file"])
    assert out["info"] == {"library": "torchvision", "repository": "torchvision.models.video.R3D_18_Weights.KINETICS400_V1",
                           "file": out["file"], "tensors": len(out["differ"]) and out["info"]["tensors"],
                           "downloaded": False}
    assert out["differ"] == ["fc.bias", "fc.weight"]  # everything but the 5-class head is Kinetics'


# ----- the workflow: one weights job per source, content tracking, plan-time refusal -----

NET = {"img_size": 16, "epochs": 1, "batch_size": 32, "pretrained": True}
MODELS = {
    "a": {"backbone": "test_resnet", **NET},
    "b": {"backbone": SOURCE, **NET, "lr": 0.003},  # the same source, named by its tag
    "c": {"family": "logistic"},
}
TARGET = "results/leaderboard.csv"


@pytest.mark.workflow
def test_pretrained_models_in_the_workflow(digits_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    hf_cache_file(tmp_path / "hf", REPO_ID, "model.safetensors", safetensors_bytes(timm_state("test_resnet")), "a" * 40)
    cfg = {**TINY, "data": {**TINY["data"], "dir": str(digits_dir)}, "models": MODELS, "ensembles": {}}
    pipe = Pipeline(copy_code(tmp_path / "code"), tmp_path / "work", cfg)
    plan = summarize(pipe.plan(TARGET))
    assert {j for j in plan if j.startswith("weights")} == {f"weights[{SOURCE}]"}  # one job for two models
    pipe.snakemake("-p", TARGET)  # a flag first: a bare target would join --resources
    work = pipe.work
    info = json.loads((work / f"results/weights/{SOURCE}.json").read_text())
    manifest = json.loads((work / "results/models/a/manifest.json").read_text())
    assert manifest["weights"]["sha256"] == info["sha256"] and manifest["weights"]["revision"] == "a" * 40
    assert manifest["settings"]["pretrained_sha256"] == info["sha256"]  # in the config hash
    board = pd.read_csv(work / TARGET).set_index("name")
    label = f"{REPO_ID}@aaaaaaaa sha256:{info['sha256'][:12]}"
    assert board.loc["a", "weights"] == board.loc["b", "weights"] == label
    assert pd.isna(board.loc["c", "weights"])
    assert summarize(pipe.plan(TARGET)) == set()  # the job's own read of the cache re-plans nothing

    # a new revision in the cache: the weights job and the two nets re-run, the logistic model does not
    hf_cache_file(tmp_path / "hf", REPO_ID, "model.safetensors", safetensors_bytes(timm_state("test_resnet", 1)), "b" * 40)
    replanned = summarize(pipe.plan(TARGET))
    assert f"weights[{SOURCE}]" in replanned and {"train[a,0]", "train[b,1]", "gather[a]", "gather[b]"} <= replanned
    assert not {j for j in replanned if "[c" in j}

    # weights nobody cached, offline: refused before any job, naming key, repository, file and the two ways out
    pipe.write_config({**cfg, "models": {"d": {"backbone": "test_efficientnet", **NET}}}, "missing.yaml")
    proc = pipe.snakemake("-n", TARGET, configfile="missing.yaml", check=False)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "config key 'models.d.pretrained': true needs" in text
    assert "timm/test_efficientnet.r160_in1k" in text and "model.safetensors" in text
    assert "populate the cache" in text and "local weights file" in text
    assert "Job stats" not in text
