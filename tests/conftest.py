"""Shared fixtures: small real competition folders built from scikit-learn digits."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def digits_dir(tmp_path_factory) -> Path:
    """A 300-image digits competition folder (train/test CSVs, PNGs, solution)."""
    from foldwise.demo import make_digits_competition

    out = tmp_path_factory.mktemp("digits")
    make_digits_competition(out, test_size=0.3, limit=300)
    return out


@pytest.fixture(scope="session")
def tiny_run(digits_dir, tmp_path_factory):
    """The tiny config run to completion once, on a private copy of the workflow code."""
    from .pipeline import TINY, Pipeline, copy_code

    base = tmp_path_factory.mktemp("tiny")
    cfg = {**TINY, "data": {**TINY["data"], "dir": str(digits_dir)}}
    pipe = Pipeline(copy_code(base / "code"), base / "work", cfg)
    pipe.snakemake()
    return pipe


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
