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


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
