"""A package that installs: the wheel (not an editable install) carries everything the workflow needs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .pipeline import REPO, TINY, parse_plan

pytestmark = pytest.mark.workflow

WORKFLOW_PARTS = ("Snakefile", "rules", "workflow_scripts", "profiles", "envs", "report")


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The package built as a wheel from a clean copy of the sources and installed into a bare folder."""
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    shutil.copytree(REPO / "foldwise", src / "foldwise", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(base / "dist"), str(src)],
                   check=True, capture_output=True, text=True)
    wheels = list((base / "dist").glob("foldwise-*.whl"))
    assert len(wheels) == 1
    target = base / "site"
    subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheels[0])],
                   check=True, capture_output=True, text=True)
    return target


def _env(site: Path) -> dict:
    return {**os.environ, "PYTHONPATH": str(site), "HF_HUB_OFFLINE": "1", "OMP_WAIT_POLICY": "PASSIVE"}


def test_the_wheel_validates_every_shipped_config(installed, tmp_path):
    configs = [REPO / "config.yaml", *sorted((REPO / "configs").glob("*.yaml"))]
    code = (
        "import sys, yaml, foldwise\n"
        "from foldwise.config import validate\n"
        f"assert foldwise.__file__.startswith({str(installed)!r}), foldwise.__file__\n"
        "for path in sys.argv[1:]:\n"
        "    validate(yaml.safe_load(open(path)))\n"
        "    print('valid', path)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, *map(str, configs)], cwd=tmp_path, env=_env(installed),
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("valid ") == len(configs) >= 3


def test_a_checkout_plans_with_the_installed_package(installed, digits_dir, tmp_path):
    import yaml

    code = tmp_path / "checkout"
    code.mkdir()
    for part in WORKFLOW_PARTS:  # the workflow without the package sources
        src = REPO / part
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, code / part)
    work = tmp_path / "work"
    work.mkdir()
    (work / "config.yaml").write_text(yaml.safe_dump({**TINY, "data": {**TINY["data"], "dir": str(digits_dir)}}))
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--snakefile", str(code / "Snakefile"), "--directory", str(work),
         "--configfile", str(work / "config.yaml"), "--cores", "1"],
        cwd=work, env=_env(installed), capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    rules = {rule for rule, _ in parse_plan(proc.stdout + proc.stderr)}
    assert {"tables", "test_table", "cache", "folds", "train", "predict", "gather", "leaderboard"} <= rules
