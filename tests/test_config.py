import copy
import re

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


def test_config_doc_is_current():
    from foldwise.reference import config_doc

    doc = (REPO / "docs" / "config.md").read_text()
    assert doc == config_doc(), "run: python -m foldwise.reference --write-docs"


def test_readme_points_at_the_config_doc_and_holds_no_copy_of_it():
    readme = (REPO / "README.md").read_text()
    assert "config-reference:start" not in readme
    assert "](docs/config.md)" in readme


def test_every_schema_key_lands_in_exactly_one_group():
    from foldwise.checks.settings import KIND_ONLY
    from foldwise.classic.families import FAMILIES, FAMILY_NAMES, SHARED_KEYS, TORCH_KEYS
    from foldwise.reference import _reference_rows, reference_groups

    schema = load_schema()
    rows = [row for _, row in _reference_rows(schema)]
    grouped = [(title, row) for title, _, group_rows in reference_groups(schema) for row in group_rows]
    assert sorted(row for _, row in grouped) == sorted(rows)  # none lost, none twice
    assert len(rows) == len(set(rows))
    by_key = {row.split("`")[1]: title for title, row in grouped}
    model = schema["$defs"]["model"]["properties"]
    assert tuple(model["family"]["enum"]) == FAMILY_NAMES
    for family in FAMILIES:
        assert by_key[f"models.<name>.{family}"] == f"Classic family: {family}"
    for key in TORCH_KEYS:
        assert by_key[f"models.<name>.{key}"].startswith("Nets"), key
    # what lands in "Every model" is what every family reads: the shared keys and the DAG levers
    every = {key.split(".")[2] for key, title in by_key.items() if title == "Every model" and key != "models"}
    assert every == {*SHARED_KEYS, "seeds", "refit"}, "a new model key: add it to TORCH_KEYS if only nets read it"
    # a description that starts with a data kind ("timeseries: ...") lands in a group of that kind
    descriptions = {row.split("`")[1]: row.rsplit(" | ", 1)[0].split(" | ")[-1] for row in rows}
    for key, text in (pair for pair in descriptions.items() if pair[0].startswith(("data.", "models.<name>.augment."))):
        kind = text.split(":")[0]
        if kind in KIND_ONLY:
            assert kind in by_key[key], f"{key} says '{kind}:' but lands in '{by_key[key]}'"


def _headings(text: str) -> list[str]:
    """The Markdown headings of ``text`` outside code fences, as written."""
    fenced, found = False, []
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"#{1,6} ", line):
            found.append(line.split(" ", 1)[1].strip())
    return found


def _anchors(text: str) -> set[str]:
    """GitHub's anchors for the headings of ``text``: the slug, then -1, -2, ... for repeats."""
    from foldwise.reference import github_slug

    seen: dict[str, int] = {}
    anchors = set()
    for heading in _headings(text):
        slug = github_slug(heading)
        anchors.add(f"{slug}-{seen[slug]}" if slug in seen else slug)
        seen[slug] = seen.get(slug, 0) + 1
    return anchors


def _links(text: str) -> list[str]:
    """Link targets outside code fences and inline code."""
    out, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced:
            out += re.findall(r"\]\(([^)\s]+)\)", re.sub(r"`[^`]*`", "", line))
    return out


def test_github_slug():
    from foldwise.reference import github_slug

    assert github_slug("Starting from a folder: `foldwise init`") == "starting-from-a-folder-foldwise-init"
    assert github_slug("Video demo (`make demo-video`, issue 13)") == "video-demo-make-demo-video-issue-13"
    assert github_slug("Classic family: multirocket_hydra") == "classic-family-multirocket_hydra"
    assert _anchors("# a\n```\n# not a heading\n```\n## a\n") == {"a", "a-1"}


@pytest.mark.parametrize("name", ["README.md", "docs/config.md"])
def test_markdown_anchor_links_resolve(name):
    path = REPO / name
    missing = []
    for link in _links(path.read_text()):
        if "://" in link or link.startswith("mailto:"):
            continue
        target, _, anchor = link.partition("#")
        file = (path.parent / target).resolve() if target else path
        assert file.exists(), f"{name}: link to a missing file: {link}"
        if anchor and file.suffix == ".md" and anchor not in _anchors(file.read_text()):
            missing.append(link)
    assert not missing, f"{name}: links to no heading: {missing}"


def test_readme_contents_list_every_section():
    readme = (REPO / "README.md").read_text()
    contents = readme.split("## Contents\n", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"\]\(#([^)]+)\)", contents)
    from foldwise.reference import github_slug

    sections = [github_slug(h) for h in _headings(readme)[1:] if h not in ("Contents", "The two commands")]
    assert listed == sections, "update the README's Contents list"


def test_readme_first_screen_shows_the_commands_then_the_contents():
    readme = (REPO / "README.md").read_text()
    first_screen = "\n".join(readme.splitlines()[:30])
    for command in ("make demo", "make test", "foldwise init my-comp/ && snakemake --cores all --resources gpu=1"):
        assert command in first_screen, command
    assert readme.index("foldwise init my-comp/ &&") < readme.index("## Contents")


def test_readme_minimal_config_is_valid():
    readme = (REPO / "README.md").read_text()
    section = readme.split("### Config reference\n", 1)[1].split("\n### ", 1)[0]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    cfg = validate(yaml.safe_load(block))
    assert cfg["data"]["dir"] == "my-comp"


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
