"""Every config value a user can get wrong stops the plan: all problems at once, each naming its key.

Unit tests call :func:`foldwise.config.validate` with ``files=True`` (what ``rules/common.smk``
runs); the workflow tests check that ``snakemake -n`` refuses each case with no job planned.
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
import time

import pytest
import yaml

from foldwise.checks import Reference, backbone_problem, reference_problems
from foldwise.config import ConfigError, validate

from .conftest import REPO
from .pipeline import TINY, Pipeline, copy_code, parse_plan

RES = TINY["models"]["res"]


def _cfg(data_dir, data=None, models=None, **top):
    """The tiny config on ``data_dir`` with one model, ``res``, and the given overrides."""
    cfg = copy.deepcopy({**TINY, "ensembles": {}, "models": {"res": RES}})
    cfg["data"] = {**cfg["data"], "dir": str(data_dir), **(data or {})}
    cfg["models"] = models or cfg["models"]
    return {**cfg, **top}


def _problems(cfg, files=True) -> list[str]:
    try:
        validate(copy.deepcopy(cfg), files=files)
    except ConfigError as exc:
        return exc.problems
    return []


def _one(cfg) -> str:
    problems = _problems(cfg)
    assert len(problems) == 1, problems
    return problems[0]


@pytest.fixture
def comp(digits_dir, tmp_path):
    dst = tmp_path / "comp"
    shutil.copytree(digits_dir, dst)
    return dst


# ----- backbones -----


def test_names_file_is_current():
    from importlib.metadata import version

    from foldwise.models.names import NAMES_PATH, registry, render

    assert NAMES_PATH.read_text() == render(registry(), version("timm")), "run: python -m foldwise.models.names"


def test_names_file_is_package_data():
    text = (REPO / "pyproject.toml").read_text()
    assert '"models/names.txt"' in text and '"schemas/*.yaml"' in text


@pytest.mark.parametrize(
    "backbone, kind, message",
    [
        ("resnet10t", "images", None),
        ("resnet18.a1_in1k", "images", None),  # a pretrained tag
        ("tf_efficientnet_b0_ns", "images", None),  # a deprecated alias timm still builds
        ("resnet1d", "timeseries", None),
        ("resnet10x", "images", "unknown backbone 'resnet10x' (did you mean 'resnet10t'"),
        ("inception_tim", "timeseries", "unknown backbone 'inception_tim' (did you mean 'inception_time'?)"),
        ("zzzz", "timeseries", "unknown backbone 'zzzz'; backbones for timeseries: inception_time, resnet1d"),
        ("resnet1d", "images", "'resnet1d' is a time-series model, but data.kind is images"),
        ("resnet18", "timeseries", "'resnet18' is an image model, but data.kind is timeseries; "
                                   "backbones for timeseries: inception_time, resnet1d"),
        ("hf-hub:timm/resnet18.a1_in1k", "images", "names a hub model, and hubs are never contacted"),
    ],
)
def test_backbone_names(backbone, kind, message):
    found = backbone_problem(backbone, kind)
    assert found == message if message is None else message in found


def test_a_newer_timm_is_asked_about_names_the_list_lacks(monkeypatch):
    """names.txt lists one timm version; under another, a name it lacks is looked up in timm itself."""
    from importlib.metadata import version

    import foldwise.checks.models as checks

    names = {"images": frozenset({"resnet10t"}), "timeseries": frozenset({"resnet1d"})}
    monkeypatch.setattr(checks, "backbone_names", lambda: (names, "0.0.0"))
    assert backbone_problem("resnet18", "images") is None
    assert "unknown backbone 'resnet10x'" in backbone_problem("resnet10x", "images")
    monkeypatch.setattr(checks, "backbone_names", lambda: (names, version("timm")))
    assert "unknown backbone 'resnet18'" in backbone_problem("resnet18", "images")


def test_backbone_typo_names_the_key(comp):
    assert _one(_cfg(comp, models={"res": {**RES, "backbone": "resnet10x"}})).startswith(
        "config key 'models.res.backbone': unknown backbone 'resnet10x' (did you mean 'resnet10t'"
    )


# ----- pretrained weights -----


def test_pretrained_true_without_cached_weights_is_refused_offline(comp, tmp_path, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "empty"))
    msg = _one(_cfg(comp, models={"res": {**RES, "pretrained": True}}))
    assert msg.startswith("config key 'models.res.pretrained': true needs model.safetensors or pytorch_model.bin of "
                          f"the Hugging Face repository timm/resnet10t.c3_in1k in {tmp_path / 'empty'}")
    assert "populate the cache" in msg and "local weights file" in msg


@pytest.mark.parametrize("model, message", [
    ({"backbone": "resnet10t.nope"}, "true: timm has no pretrained tag 'resnet10t.nope'; tags of resnet10t: "
                                     "resnet10t.c3_in1k"),
    ({"backbone": "resnet1d"}, "true: timeseries nets have no hub weights"),
])
def test_pretrained_true_refusals(comp, model, message):
    kind = {"data": {"kind": "timeseries"}} if model["backbone"] == "resnet1d" else {}
    cfg = _cfg(comp, models={"res": {**RES, **model, "pretrained": True}})
    cfg["data"] = {**cfg["data"], **kind.get("data", {})}
    problems = [p for p in _problems(cfg) if "models.res.pretrained" in p]
    assert problems and problems[0].startswith(f"config key 'models.res.pretrained': {message}"), problems


@pytest.mark.parametrize(
    "name, content, message",
    [
        (None, None, "weights file not found: /nonexistent/w.pth; no folder nonexistent in /"),
        ("folder.pth", "dir", "is a folder, not a weights file"),
        ("w.onnx", b"PK\x03\x04rest", "is not a weights file: expected .pth, .pt, .bin, .safetensors"),
        ("w.pth", b"", "is empty"),
        ("w.pth", b"<!DOCTYPE html><html>", "is not a torch weights file (it starts with b'<!DOCTYPE ht'"),
        ("w.safetensors", b"\xff" * 8 + b"{}", "is not a safetensors weights file"),
        ("w.pt", b"PK\x03\x04 a zip archive", None),
        ("w.bin", b"\x80\x02 a legacy pickle", None),
    ],
)
def test_pretrained_file(comp, tmp_path, name, content, message):
    path = "/nonexistent/w.pth"
    if name:
        path = tmp_path / name
        path.mkdir() if content == "dir" else path.write_bytes(content)
    problems = _problems(_cfg(comp, models={"res": {**RES, "pretrained": str(path)}}))
    if message is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problems[0].startswith("config key 'models.res.pretrained': ")
        assert message in problems[0]


def test_real_weights_files_pass(comp, tmp_path):
    import torch
    from safetensors.torch import save_file

    torch.save({"w": torch.zeros(2)}, tmp_path / "a.pth")
    save_file({"w": torch.zeros(2)}, str(tmp_path / "b.safetensors"))
    models = {n: {**RES, "pretrained": str(tmp_path / f)} for n, f in [("a", "a.pth"), ("b", "b.safetensors")]}
    assert _problems(_cfg(comp, models=models)) == []


def test_unreadable_weights_file(comp, tmp_path):
    import socket

    path = tmp_path / "w.pth"  # a socket: it exists, but open() fails even for root
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        assert "cannot read" in _one(_cfg(comp, models={"res": {**RES, "pretrained": str(path)}}))


# ----- data files -----


def test_missing_data_dir_suggests_a_close_folder(comp):
    msg = _one(_cfg(comp.parent / "compp"))
    assert msg == f"config key 'data.dir': folder not found: {comp}p; no folder compp in {comp.parent} (did you mean 'comp'?)"


def test_relative_data_dir_names_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert f"folder not found: nowhere (relative to the working directory {tmp_path})" in _one(_cfg("nowhere"))


@pytest.mark.parametrize("key", ["train_csv", "sample_submission", "test_csv", "solution"])
def test_missing_file(comp, key):
    name = _cfg(comp)["data"].get(key) or {"train_csv": "train.csv", "sample_submission": "sample_submission.csv",
                                             "test_csv": "test.csv"}[key]
    (comp / name).unlink()
    assert _one(_cfg(comp)) == f"config key 'data.{key}': file not found: {comp / name}; no file {name} in {comp}"


def test_unset_optional_files_are_not_needed(comp):
    (comp / "test.csv").unlink()
    (comp / "solution.csv").unlink()
    assert _problems(_cfg(comp, data={"test_csv": None, "solution": None})) == []


def test_missing_columns_are_worded_as_the_tables_rule_words_them(comp):
    problems = _problems(_cfg(comp, data={"id_col": "image_id"}))
    assert problems == [
        f"{comp / f}: no column 'image_id' (config key data.id_col); columns are: {cols}"
        for f, cols in [("train.csv", "id, label"), ("sample_submission.csv", "id, label"),
                        ("test.csv", "id"), ("solution.csv", "id, label")]
    ]
    assert _problems(_cfg(comp, data={"target_col": "digit"})) == [
        f"{comp / f}: no column 'digit' (config key data.target_col); columns are: id, label"
        for f in ("train.csv", "solution.csv")
    ]


def test_unreadable_csv(comp):
    (comp / "train.csv").write_bytes(b"\xff\xfe\x00\x00garbage\xff")
    assert _one(_cfg(comp)).startswith(f"config key 'data.train_csv': {comp / 'train.csv'} cannot be read as CSV")


@pytest.mark.parametrize(
    "template, message",
    [
        ("images/{id}.png", "template 'images/{id}.png' matches none of the first 5 train ids (looked for {comp}/images/"
                            "digit_0002.png); no folder images in {comp} (did you mean 'test_images' or 'train_images'?)"),
        ("train_images/{id}.jpg", "; {comp}/train_images holds digit_0002.png (another extension?)"),
        ("train_images/{name}.png", "template 'train_images/{name}.png' names '{name}', which is not a column"),
        ("train_images/{}.png", "has an empty or unbalanced {}"),
    ],
)
def test_image_template(comp, template, message):
    msg = _one(_cfg(comp, data={"train_images": template}))
    assert msg.startswith("config key 'data.train_images': ") and message.replace("{comp}", str(comp)) in msg


def test_template_with_some_of_the_first_images_missing(comp):
    (comp / "test_images" / "digit_0001.png").unlink()
    assert _one(_cfg(comp)) == (
        f"config key 'data.test_images': 1 of the first 5 test images are missing, e.g. {comp}/test_images/digit_0001.png"
    )


def _series_comp(tmp_path):
    from foldwise.demo import make_basicmotions_competition

    make_basicmotions_competition(tmp_path / "sensor")
    return tmp_path / "sensor"


def _series_cfg(comp, **data):
    return _cfg(comp, data={"kind": "timeseries", "step_col": "step", "channels": 3, **data},
                models={"r1d": {"backbone": "resnet1d", "epochs": 1}})


def test_series_files_and_columns(tmp_path):
    comp = _series_comp(tmp_path)
    assert _problems(_series_cfg(comp)) == []
    (comp / "test_features.csv").unlink()
    assert _problems(_series_cfg(comp, step_col="t", series_channels=["acc_x", "acc_q"])) == [
        f"{comp}/train_features.csv: no column 't' (config key data.step_col); "
        "columns are: id, step, acc_x, acc_y, acc_z, gyr_x, gyr_y, gyr_z",
        f"{comp}/train_features.csv: no column 'acc_q' (config key data.series_channels); "
        "columns are: id, step, acc_x, acc_y, acc_z, gyr_x, gyr_y, gyr_z",
        f"config key 'data.test_series': file not found: {comp}/test_features.csv; no file test_features.csv in {comp}",
    ]


# ----- contradictions -----


@pytest.mark.parametrize(
    "over, message",
    [
        ({"folds": {"scheme": "group"}}, "config key 'folds.scheme': 'group' needs data.group_col (the column of groups)"),
        ({"data": {"label_cols": ["a"]}}, "config key 'data.label_cols': only for task multilabel"),
        ({"models": {"res": {**RES, "augment": {"roll": 0.2}}}},
         "config key 'models.res.augment.roll': a time-series augmentation, but data.kind is images; "
         "augmentations for images: hflip, vflip, shift, rotate, cutout, blur, blur_sigma, jpeg, jpeg_quality, "
         "brightness, contrast, noise, scale"),
        ({"data": {"series_length": 50}},
         "config key 'data.series_length': a time-series setting, but data.kind is images; "
         "set data.kind: timeseries or remove it"),
        ({"ensembles": {"e": {"weights": {"res": 1}}}},
         "config key 'ensembles.e.weights': used only by method 'given' (the method is 'optimize'); "
         "set method: given or remove the weights"),
        ({"ensembles": {"e": {"method": "given", "weights": {"ghost": 1}}}},
         "config key 'ensembles.e.weights': method 'given' needs one non-negative weight per member"),
        ({"multilabel": {"fixed_threshold": 0.3}},
         "config key 'multilabel.fixed_threshold': used only by multilabel.threshold: fixed (it is 'per_label')"),
    ],
)
def test_contradictory_settings(comp, over, message):
    cfg = _cfg(comp)
    for key, value in over.items():
        cfg[key] = {**cfg[key], **value} if key == "data" else value
    assert _one(cfg) == message or _one(cfg).startswith(message)


def test_zero_strengths_and_defaults_of_the_other_kind_pass(comp):
    models = {"res": {**RES, "augment": {"roll": 0, "noise": 0.1, "hflip": 0.5, "blur": 0.2}, "tta": ["hflip", "shift"]}}
    assert _problems(_cfg(comp, models=models)) == []


@pytest.mark.parametrize("key", ["hflip", "vflip", "shift", "rotate", "cutout", "blur", "jpeg", "brightness", "contrast"])
def test_image_augmentation_on_timeseries(tmp_path, key):
    cfg = _series_cfg(tmp_path, train_series="x.csv")
    cfg["models"]["r1d"]["augment"] = {key: 0.5, "roll": 0.1}
    assert _problems(cfg, files=False) == [
        f"config key 'models.r1d.augment.{key}': an image augmentation, but data.kind is timeseries; "
        "augmentations for timeseries: roll, noise, scale"
    ]


def test_image_settings_on_timeseries(tmp_path):
    cfg = _series_cfg(tmp_path, train_images="train/{id}.png", channels=1)
    cfg["models"]["r1d"]["tta"] = ["hflip"]
    assert _problems(cfg, files=False) == [
        "config key 'data.train_images': an image setting, but data.kind is timeseries; set data.kind: images or remove it",
        "config key 'data.channels': an image setting, but data.kind is timeseries; set data.kind: images or remove it",
        "config key 'models.r1d.tta': 'hflip' is an image view, but data.kind is timeseries; views for timeseries: roll",
    ]


def test_stratified_group_is_not_for_multilabel(comp):
    cfg = _cfg(comp, task="multilabel", folds={"scheme": "stratified_group"}, data={"group_col": "label"})
    assert "config key 'folds.scheme': 'stratified_group' is not available for task multilabel; use group" in _problems(cfg)


# ----- references -----


def test_references(comp):
    models = {"res": RES, "cnx": TINY["models"]["cnx"]}
    cfg = _cfg(comp, models=models, ensembles={"e": {"members": ["res", "cnxx", "res"]}, "res": {}},
               submissions=["e", "ghost"])
    assert _problems(cfg) == [
        "config key 'ensembles.res': the name is already used by a model",
        "config key 'ensembles.e.members': 'cnxx' is not a model or an ensemble (did you mean 'cnx'?); names: res, cnx, e",
        "config key 'ensembles.e.members': 'res' is listed twice",
        "config key 'submissions': 'ghost' is not a model or an ensemble; names: res, cnx, e",
    ]
    assert _problems(_cfg(comp, ensembles={"e": {"members": []}})) == ["config key 'ensembles.e.members': empty list"]


def test_reference_cycles_are_found_generically():
    """A later model-to-model reference (e.g. a teacher) gets cycle detection by adding one Reference."""
    refs = (Reference("models", "teacher", ("models",)), Reference("ensembles", "members", ("models", "ensembles")))
    config = {
        "models": {"a": {"teacher": "b"}, "b": {"teacher": "c"}, "c": {"teacher": "a"}, "d": {"teacher": "a"}},
        "ensembles": {"e": {"members": ["e", "d"]}},
    }
    assert [p.text for p in reference_problems(config, refs)] == [
        "config key 'models.c.teacher': reference cycle: a -> b -> c -> a",
        "config key 'ensembles.e.members': reference cycle: e -> e",
    ]


# ----- training techniques -----


def test_teacher_references(comp):
    models = {"res": RES, "stu": {**RES, "teacher": "ress"}, "self": {**RES, "teacher": "self"}}
    assert _problems(_cfg(comp, models=models)) == [
        "config key 'models.stu.teacher': 'ress' is not a model or an ensemble (did you mean 'res'?); "
        "names: res, stu, self",
        "config key 'models.self.teacher': reference cycle: self -> self",
    ]
    ok = {"res": RES, "stu": {**RES, "teacher": "blend"}}
    assert _problems(_cfg(comp, models=ok, ensembles={"blend": {"members": ["res"]}})) == []


def test_a_teacher_ensemble_of_every_model_includes_its_student(comp):
    """``members: null`` combines every model, the student too: a cycle through the ensemble."""
    models = {"res": RES, "stu": {**RES, "teacher": "blend"}}
    assert _problems(_cfg(comp, models=models, ensembles={"blend": {}})) == [
        "config key 'models.stu.teacher': reference cycle: blend -> stu -> blend",
    ]


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"pseudo": {"threshold": 0.5}}, "config key 'models.res.pseudo': used only with a teacher"),
        ({"tta": ["hflip", "hflip"]}, "config key 'models.res.tta': 'hflip' is listed twice"),
        ({"tta": ["roll"]}, "config key 'models.res.tta': 'roll' is a time-series view, but data.kind is images; "
                            "views for images: hflip, vflip, shift"),
        ({"tta": ["hflip"], "tta_shift": 0.1}, "config key 'models.res.tta_shift': used only by the 'shift' view"),
        ({"mix": {"prob": 0.5}}, "config key 'models.res.mix': no effect: mixing is on only when mixup_alpha or"),
        ({"epochs": 3, "mix": {"cutmix_alpha": 1.0, "off_last_epochs": 3}},
         "config key 'models.res.mix.off_last_epochs': 3 leaves no epoch with mixing (epochs is 3)"),
        ({"ema": {"warmup": False}}, "config key 'models.res.ema.warmup': used only with ema.decay above 0"),
        ({"epochs": 2, "freeze": {"epochs": 2}}, "config key 'models.res.freeze.epochs': 2 freezes every epoch"),
        ({"epochs": 2, "freeze": {"epochs": 1, "modules": []}}, "config key 'models.res.freeze.modules': empty list"),
        ({"head": {"margin": 0.5}}, "config key 'models.res.head.margin': used only by head kind: arcface"),
        ({"tta_hflip": True}, "config key 'models.res': unknown key 'tta_hflip' (replaced by 'tta: [hflip]' in "
                              "foldwise 0.3)"),
    ],
)
def test_technique_settings(comp, settings, message):
    assert _one(_cfg(comp, models={"res": {**RES, **settings}})).startswith(message)


def test_technique_settings_by_task_and_kind(comp, tmp_path):
    arc = {**RES, "head": {"kind": "arcface"}}
    assert _problems(_cfg(comp, models={"res": arc})) == []
    assert _problems(_cfg(comp, models={"res": arc}, task="multilabel", metric="micro_f1"), files=False) == [
        "config key 'models.res.head.kind': arcface predicts one class per row, but the task is multilabel"
    ]
    cfg = _series_cfg(tmp_path, train_series="x.csv")
    cfg["models"]["r1d"].update(epochs=3, tta=["roll"], tta_roll=0.1, mix={"mixup_alpha": 0.2, "cutmix_alpha": 1.0})
    assert _problems(cfg, files=False) == [
        "config key 'models.r1d.mix.cutmix_alpha': CutMix pastes image rectangles, but data.kind is timeseries; "
        "use mix.mixup_alpha for series"
    ]


# ----- all at once -----


def test_all_problems_at_once_schema_errors_first(tmp_path):
    cfg = _cfg(tmp_path / "missing", models={"res": {**RES, "backbone": "resnet10x", "epochz": 2, "pretrained": "/no/w.pth"},
                                            "bad": {"epochs": "ten"}},
               ensembles={"e": {"members": ["res", "nope"]}}, folds={"scheme": "group"})
    with pytest.raises(ConfigError) as info:
        validate(cfg, files=True)
    keys = [p.split("'")[1] for p in info.value.problems]
    assert keys == [
        "models.res", "models.bad", "models.bad.epochs", "models.res.backbone", "ensembles.e.members",
        "folds.scheme", "models.res.pretrained", "data.dir",
    ]
    assert str(info.value).startswith("8 problems:\n  - config key 'models.res': unknown key 'epochz' (did you mean")


def test_shipped_configs_pass_on_their_competitions(digits_dir, tmp_path, monkeypatch):
    from foldwise.demo import make_multilabel_digits_competition

    make_multilabel_digits_competition(tmp_path / "ml", n_train=40, n_test=10)
    _series_comp(tmp_path)
    dirs = {"config.yaml": digits_dir, "configs/multilabel_digits.yaml": tmp_path / "ml",
            "configs/basicmotions.yaml": tmp_path / "sensor"}
    for name, data_dir in dirs.items():
        cfg = yaml.safe_load((REPO / name).read_text())
        cfg["data"]["dir"] = str(data_dir)
        assert _problems(cfg) == [], name


def test_plan_time_checks_import_neither_torch_nor_timm(digits_dir):
    code = (
        "import sys, time, yaml; t = time.perf_counter()\n"
        "from foldwise.config import validate\n"
        f"cfg = yaml.safe_load({yaml.safe_dump(_cfg(digits_dir))!r}); validate(cfg, files=True)\n"
        "print(round(time.perf_counter() - t, 3))\n"
        "assert not {'torch', 'timm'} & set(sys.modules), 'torch or timm imported'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr


# ----- snakemake -n refuses each case -----


@pytest.fixture(scope="module")
def code(tmp_path_factory):
    return copy_code(tmp_path_factory.mktemp("plan_checks") / "code")


def _refused(code, work, cfg, *messages):
    pipe = Pipeline(code, work, cfg)
    start = time.perf_counter()
    proc = pipe.snakemake("-n", check=False)
    out = proc.stdout + proc.stderr
    print(f"snakemake -n refused in {time.perf_counter() - start:.2f} s")
    assert proc.returncode != 0, out
    assert "invalid config: " in out
    for message in messages:
        assert message in out, out
    assert parse_plan(out) == [] and not (work / "results").exists()
    return out


WORKFLOW_CASES = {
    "backbone": ({"models": {"res": {**RES, "backbone": "resnet10x"}}},
                 "config key 'models.res.backbone': unknown backbone 'resnet10x' (did you mean 'resnet10t'"),
    "pretrained-missing": ({"models": {"res": {**RES, "pretrained": "/nonexistent/w.pth"}}},
                           "config key 'models.res.pretrained': weights file not found: /nonexistent/w.pth"),
    "pretrained-tag": ({"models": {"res": {**RES, "backbone": "resnet10t.nope", "pretrained": True}}},
                       "config key 'models.res.pretrained': true: timm has no pretrained tag 'resnet10t.nope'"),
    "data-dir": ({"data": {"dir": "no/such/folder"}}, "config key 'data.dir': folder not found: no/such/folder"),
    "template": ({"data": {"test_images": "test/{id}.png"}},
                 "config key 'data.test_images': template 'test/{id}.png' matches none of the first 5 test ids"),
    "member": ({"ensembles": {"e": {"members": ["res", "cnx"]}}},
               "config key 'ensembles.e.members': 'cnx' is not a model or an ensemble; names: res, e"),
    "submission": ({"submissions": ["blend"]}, "config key 'submissions': 'blend' is not a model or an ensemble"),
    "group": ({"folds": {"scheme": "stratified_group"}}, "config key 'folds.scheme': 'stratified_group' needs data.group_col"),
    "label-cols": ({"data": {"label_cols": ["a", "b"]}}, "config key 'data.label_cols': only for task multilabel"),
    "roll-on-images": ({"models": {"res": {**RES, "augment": {"roll": 0.2}}}},
                       "config key 'models.res.augment.roll': a time-series augmentation, but data.kind is images"),
    "flip-on-series": ({"data": {"kind": "timeseries"}, "models": {"r": {"backbone": "resnet1d", "tta": ["hflip"],
                                                                         "augment": {"hflip": 0.5}}}},
                       "config key 'models.r.augment.hflip': an image augmentation, but data.kind is timeseries",
                       "config key 'models.r.tta': 'hflip' is an image view, but data.kind is timeseries"),
    "teacher-cycle": ({"models": {"res": {**RES, "teacher": "stu"}, "stu": {**RES, "teacher": "blend"}},
                       "ensembles": {"blend": {"method": "equal"}}},
                      "config key 'models.stu.teacher': reference cycle: blend -> res -> stu -> blend"),
}


@pytest.mark.workflow
@pytest.mark.parametrize("case", list(WORKFLOW_CASES))
def test_snakemake_plan_refuses(code, digits_dir, tmp_path, case):
    over, *messages = WORKFLOW_CASES[case]
    cfg = _cfg(digits_dir)
    for key, value in over.items():
        cfg[key] = {**cfg[key], **value} if key == "data" else value
    _refused(code, tmp_path / "work", cfg, *messages)


@pytest.mark.workflow
def test_snakemake_plan_lists_every_problem(code, digits_dir, tmp_path):
    cfg = _cfg(digits_dir, models={"res": {**RES, "backbone": "resnet10x", "epochz": 2}},
               data={"train_csv": "train.CVS"}, ensembles={"e": {"members": ["ress"]}})
    out = _refused(code, tmp_path / "work", cfg, "invalid config: 4 problems:\n")
    lines = [line.strip() for line in out.splitlines() if line.strip().startswith("- config key")]
    assert lines == [
        "- config key 'models.res': unknown key 'epochz' (did you mean 'epochs'?); valid keys: augment, backbone, "
        "batch_size, class_weights, compile, ema, epochs, family, freeze, head, hydra, img_size, inner_fraction, "
        "label_smoothing, lightgbm, logistic, loss, lr, minirocket, mix, model_kwargs, multirocket, multirocket_hydra, "
        "oversample, patience, predict_batch_size, pretrained, pseudo, quant, refit, seeds, select_epoch, teacher, "
        "tta, tta_roll, tta_shift, warmup_epochs, weight_decay",
        "- config key 'models.res.backbone': unknown backbone 'resnet10x' (did you mean 'resnet10t', 'resnet101' or "
        "'resnet101s'?)",
        "- config key 'ensembles.e.members': 'ress' is not a model or an ensemble (did you mean 'res'?); names: res, e",
        f"- config key 'data.train_csv': file not found: {digits_dir}/train.CVS; {digits_dir} holds train.csv "
        "(another extension?)",
    ]
