import copy

import pytest
import yaml

from foldwise.config import SCHEMA_PATH, ConfigError, load_schema, validate
from foldwise.errors import FoldwiseError

from .conftest import REPO

BASE = {"models": {"m": {"backbone": "resnet10t"}}, "ensembles": {"e": {"members": ["m"]}}}


def _validated(overrides=None):
    cfg = copy.deepcopy(BASE)
    for key, value in (overrides or {}).items():
        cfg[key] = value
    return validate(cfg)


def test_defaults_are_filled_at_every_level():
    cfg = _validated()
    assert cfg["folds"] == {"scheme": "stratified", "n_splits": 5, "seed": 42}
    assert cfg["models"]["m"]["epochs"] == 10
    assert cfg["models"]["m"]["augment"]["shift"] == 0.1
    assert cfg["ensembles"]["e"]["method"] == "optimize"
    assert cfg["data"]["id_col"] == "id"


def test_every_schema_key_has_description_and_default():
    schema = load_schema(SCHEMA_PATH)

    def walk(node, path):
        for name, sub in node.get("properties", {}).items():
            assert "description" in sub or "$ref" in sub, f"{path}.{name} has no description"
            if name != "backbone":
                assert "default" in sub, f"{path}.{name} has no default"
            walk(sub, f"{path}.{name}")

    walk(schema, "")
    for name, sub in schema["$defs"].items():
        walk(sub, f"$defs.{name}")


def test_the_shipped_config_is_valid():
    with open(REPO / "config.yaml") as fh:
        cfg = validate(yaml.safe_load(fh))
    assert len(cfg["models"]) >= 2
    assert len({m["backbone"] for m in cfg["models"].values()}) >= 2


@pytest.mark.parametrize(
    "cfg, message",
    [
        ({**BASE, "folds": {"n_split": 5}}, r"'folds': unknown key 'n_split' \(did you mean 'n_splits'\?\)"),
        ({**BASE, "models": {"m": {"backbone": "x", "epochz": 3}}}, r"'models.m': unknown key 'epochz'"),
        ({**BASE, "models": {"m": {"backbone": "x", "epochs": "ten"}}}, r"'models.m.epochs': 'ten' is not of type 'integer'"),
        ({**BASE, "models": {"m": {"epochs": 3}}}, r"'models.m': 'backbone' is a required property"),
        ({**BASE, "folds": {"scheme": "random"}}, r"'folds.scheme': 'random' is not one of"),
        ({**BASE, "ensembles": {"e": {"members": ["nope"]}}}, r"'ensembles.e.members': 'nope' is not a model"),
        ({**BASE, "metric": "acc"}, r"'metric': unknown metric 'acc'"),
        ({**BASE, "folds": {"scheme": "group"}}, r"needs data.group_col"),
        ({**BASE, "ensembles": {"e": {"method": "given", "weights": {"x": 1}}}}, r"ensembles.e.weights"),
        ({**BASE, "submissions": ["ghost"]}, r"'submissions': 'ghost'"),
        ({"models": {}}, r"define at least one model"),
    ],
)
def test_bad_config_names_the_key(cfg, message):
    with pytest.raises(FoldwiseError, match=message):
        validate(copy.deepcopy(cfg))


def test_readme_config_reference_is_current():
    from foldwise.config import schema_reference

    readme = (REPO / "README.md").read_text()
    block = readme.split("<!-- config-reference:start -->")[1].split("<!-- config-reference:end -->")[0]
    assert block.strip() == schema_reference().strip(), "run: python -m foldwise.config and paste into README.md"


SHIPPED = sorted(REPO.glob("configs/*.yaml")) + [REPO / "config.yaml"]


def test_the_shipped_configs_are_found():
    assert {p.name for p in SHIPPED} >= {"config.yaml", "basicmotions.yaml", "multilabel_digits.yaml"}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_config_is_valid_and_each_model_is_trainable(path):
    from foldwise.classic.families import is_classic
    from foldwise.classic.fit import ClassicModel
    from foldwise.config import model_settings
    from foldwise.train.settings import TrainConfig

    with open(path) as fh:
        cfg = validate(yaml.safe_load(fh))
    assert cfg["metric"] != "auto" and cfg["models"]
    for name, model in cfg["models"].items():
        if is_classic(model):  # a classic family: the train rule builds foldwise.classic.fit.ClassicModel
            classic = ClassicModel(model_settings(cfg, name), seed=0)
            assert classic.family == model["family"] and classic.kind == cfg["data"]["kind"]
            continue
        settings = TrainConfig.from_params(model_settings(cfg, name))  # the train rule's view of the model
        assert settings.loss != "auto" and settings.task == cfg["task"] and settings.kind == cfg["data"]["kind"]


def test_every_problem_is_listed_at_once_schema_errors_first():
    cfg = {
        "folds": {"n_split": 5},
        "models": {"m": {"backbone": "resnet10x", "epochs": "ten"}},
        "ensembles": {"e": {"members": ["m", "nope"]}},
        "submissions": ["ghost"],
    }
    with pytest.raises(ConfigError) as info:
        validate(cfg)
    assert [p.split("'")[1] for p in info.value.problems] == [
        "folds", "models.m.epochs", "models.m.backbone", "ensembles.e.members", "submissions",
    ]
    assert str(info.value).startswith("5 problems:\n  - config key 'folds': unknown key 'n_split'")


def test_one_problem_keeps_the_one_line_message():
    with pytest.raises(ConfigError) as info:
        validate({**copy.deepcopy(BASE), "metric": "acc"})
    assert str(info.value).startswith("config key 'metric': unknown metric 'acc' for task multiclass; valid: ")


def test_files_are_checked_only_when_asked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default data.dir, data/digits, is not here
    assert _validated()["data"]["dir"] == "data/digits"
    with pytest.raises(ConfigError, match=r"config key 'data.dir': folder not found: data/digits \(relative to"):
        validate(copy.deepcopy(BASE), files=True)


def test_a_classic_model_on_images_reads_the_nets_cache_unless_it_sets_img_size():
    models = {"net": {"backbone": "resnet10t", "img_size": 48}, "small": {"backbone": "resnet10t", "img_size": 32},
              "gbm": {"family": "lightgbm"}, "own": {"family": "logistic", "img_size": 64}}
    cfg = _validated({"models": models, "ensembles": {}})
    assert cfg["models"]["gbm"]["img_size"] == 32  # the smallest net's: one cache for both
    assert cfg["models"]["own"]["img_size"] == 64 and cfg["models"]["net"]["img_size"] == 48
    alone = _validated({"models": {"gbm": {"family": "lightgbm"}}, "ensembles": {}})
    assert alone["models"]["gbm"]["img_size"] == 224  # no net to share with: the schema's default


def test_numba_kernels_are_cached_outside_site_packages(tmp_path):
    import subprocess
    import sys

    code = ("from foldwise.runtime.process import configure_numba; configure_numba(1); "
            "import os; print(os.environ['NUMBA_CACHE_DIR'])")
    env = {k: v for k, v in __import__("os").environ.items() if k != "NUMBA_CACHE_DIR"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**env, "XDG_CACHE_HOME": str(tmp_path), "PYTHONPATH": str(REPO)}).stdout.strip()
    assert out == str(tmp_path / "foldwise" / "numba")
