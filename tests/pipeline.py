"""Run the real Snakefile on a private copy of the workflow code, and read its plans.

The copy lets tests edit package modules without touching the checkout: scripts
import the copy's ``foldwise`` through ``PYTHONPATH``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
CODE_PARTS = ("Snakefile", "rules", "workflow_scripts", "foldwise", "profiles", "envs", "report")

TINY = {
    "seed": 1,
    "metric": "accuracy",
    "data": {"solution": "solution.csv", "channels": 1},
    "folds": {"scheme": "stratified", "n_splits": 2, "seed": 0},
    "models": {
        "res": {"backbone": "resnet10t", "img_size": 16, "epochs": 1, "batch_size": 32, "lr": 0.003},
        "cnx": {"backbone": "test_convnext", "img_size": 32, "epochs": 1, "batch_size": 32, "lr": 0.003},
    },
    "ensembles": {"blend": {"method": "optimize"}, "hill": {"method": "hill_climb", "members": ["res", "cnx"]}},
}


def copy_code(dest: Path) -> Path:
    """Copy the workflow code (not results, not tests) into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for part in CODE_PARTS:
        src = REPO / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(src, dest / part)
    return dest


class Pipeline:
    """A workflow code copy plus a working directory with a config."""

    def __init__(self, code: Path, work: Path, config: dict):
        self.code, self.work = code, work
        work.mkdir(parents=True, exist_ok=True)
        self.write_config(config)

    def write_config(self, config: dict, name: str = "config.yaml") -> Path:
        path = self.work / name
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        return path

    def snakemake(self, *args: str, configfile: str = "config.yaml", check: bool = True, timeout: int = 900):
        env = {**os.environ, "PYTHONPATH": str(self.code), "HF_HUB_OFFLINE": "1", "OMP_WAIT_POLICY": "PASSIVE"}
        cmd = [
            sys.executable, "-m", "snakemake", "--snakefile", str(self.code / "Snakefile"),
            "--directory", str(self.work), "--configfile", str(self.work / configfile),
            "--cores", "2", "--resources", "gpu=1", *args,
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, cwd=self.work)
        if check and proc.returncode != 0:
            raise AssertionError(f"snakemake {args} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
        return proc

    def plan(self, *args: str, configfile: str = "config.yaml") -> list[tuple[str, dict]]:
        """Jobs a dry run would execute: ``[(rule, wildcards), ...]`` sorted."""
        proc = self.snakemake("-n", *args, configfile=configfile)
        return parse_plan(proc.stdout + proc.stderr)


def parse_plan(text: str) -> list[tuple[str, dict]]:
    """Parse Snakemake's dry-run output into ``(rule, wildcards)`` pairs."""
    jobs = []
    for block in re.split(r"\n(?=(?:local)?rule \w+:\s*\n)", "\n" + text):
        m = re.match(r"\s*(?:local)?rule (\w+):", block)
        if not m:
            continue
        wc = re.search(r"^\s+wildcards: (.*)$", block, re.M)
        pairs = dict(kv.split("=", 1) for kv in wc.group(1).split(", ")) if wc else {}
        jobs.append((m.group(1), pairs))
    return sorted(jobs, key=lambda j: (j[0], sorted(j[1].items())))


FIGURE_RULES = ("plot_", "report_")  # the report's figures (rules/report.smk), checked in tests/test_report.py


def summarize(plan: list[tuple[str, dict]], figures: bool = False) -> set[str]:
    """A plan as strings like ``train[res,0]`` for readable assertions; report figures only with ``figures``."""
    return {
        f"{rule}[{','.join(wc.values())}]" if wc else rule
        for rule, wc in plan
        if figures or not rule.startswith(FIGURE_RULES)
    }


def classic_settings(family: str, task: str = "multiclass", kind: str = "timeseries", **hyper) -> dict:
    """A classic model's settings as the ``train_classic`` rule passes them: validated, every default filled.

    ``model`` is ``m`` and ``seed`` 3; ``hyper`` are the family's own keys (``models.m.<family>``).
    """
    from foldwise.config import model_settings, validate

    multilabel = task == "multilabel"
    cfg = {"data": {"kind": kind, "dir": "unused"}, "task": task, "metric": "macro_f1" if multilabel else "accuracy",
           "seed": 3, "models": {"m": {"family": family, family: hyper}}}
    return model_settings(validate(cfg), "m")
