"""``foldwise init``: every zoo and demo folder is read into the keys its hand-written config sets, the written
config plans (``snakemake -n``), two of them run to a valid submission with no edits, and folders it cannot
read get one clear message.
"""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from foldwise.config import validate
from foldwise.init import infer, size_plan
from foldwise.init.cli import main
from foldwise.init.columns import _looks_multilabel
from foldwise.init.series import find_step_col

from . import zoo
from .pipeline import REPO, Pipeline, copy_code

# The data keys that decide what is read (not modelling choices such as derived_channels or frames).
KEYS = ("kind", "train_csv", "test_csv", "sample_submission", "solution", "id_col", "target_col", "label_cols",
        "train_images", "test_images", "train_videos", "test_videos", "train_series", "test_series", "step_col")
ZOO = [zoo.dacon_sensor, zoo.messy_sensor, zoo.text_ids, zoo.odd_classes, zoo.image_formats, zoo.label_columns,
       zoo.empty_label]
DEMOS = {  # demo -> (writer args, hand-written config)
    "digits": (["digits", "--limit", "300"], "config.yaml"),
    "multilabel-digits": (["multilabel-digits", "--n-train", "60", "--n-test", "20"], "configs/multilabel_digits.yaml"),
    "basicmotions": (["basicmotions"], "configs/basicmotions.yaml"),
    "video-digits": (["video-digits", "--n-train", "24", "--n-test", "9"], "configs/video_digits.yaml"),
}


def filled(config: dict) -> dict:
    """``config`` with the schema's defaults filled in (no file checks)."""
    cfg = copy.deepcopy(config)
    cfg.setdefault("models", {"m": {"family": "logistic"}})
    return validate(cfg)


def run_init(folder: Path, out: Path, *args: str) -> tuple[int, dict | None]:
    """``foldwise init`` in-process; returns the exit status and the written config (None if none)."""
    code = main([str(folder), "-o", str(out), "--device", "cpu", *args])
    return code, yaml.safe_load(out.read_text()) if out.exists() else None


def same_keys(written: dict, hand: dict) -> dict:
    """The keys that matter where the written config differs from the hand-written one: ``{key: (got, want)}``."""
    got, want = filled(written), filled(hand)
    diff = {k: (got["data"][k], want["data"][k]) for k in KEYS if got["data"][k] != want["data"][k]}
    if got["task"] != want["task"]:
        diff["task"] = (got["task"], want["task"])
    return diff


def planner(code: Path, work: Path) -> Pipeline:
    """A :class:`Pipeline` on ``work`` that runs the config init wrote there (writes no config of its own)."""
    pipe = object.__new__(Pipeline)
    pipe.code, pipe.work = code, work
    return pipe


def demo_init(demo: str, tmp_path: Path, *init_args: str) -> tuple[Path, Path, int, dict | None]:
    """The demo's folder written under ``tmp_path/data`` and ``foldwise init`` run on it into ``tmp_path/work``.

    Returns:
        The folder, the working directory, init's exit status and the written config.
    """
    from foldwise.demo import main as demo_main

    args = DEMOS[demo][0]
    folder = tmp_path / "data"
    assert demo_main([*args[:1], str(folder), *args[1:]]) == 0
    work = tmp_path / "work"
    work.mkdir()
    return folder, work, *run_init(folder, work / "init.yaml", *init_args)


@pytest.fixture(scope="module")
def code(tmp_path_factory) -> Path:
    return copy_code(tmp_path_factory.mktemp("init") / "code")


@pytest.mark.workflow
@pytest.mark.parametrize("builder", ZOO, ids=lambda b: b.__name__)
def test_zoo_folder_plans_with_the_hand_written_keys(builder, code, tmp_path):
    """Each zoo format: init reads the hand-written config's keys, and the written config plans."""
    comp = builder(tmp_path / "comp")
    work = tmp_path / "work"
    work.mkdir()
    status, written = run_init(comp.dir, work / "init.yaml", "--budget", "3")
    assert status == 0
    hand = {"task": comp.task, "data": comp.data}
    assert same_keys(written, hand) == {}
    planner(code, work).snakemake("-n", configfile="init.yaml")


@pytest.mark.workflow
@pytest.mark.parametrize("demo", list(DEMOS))
def test_demo_folder_strong_preset_plans_with_the_demo_keys(demo, code, tmp_path):
    """The four demos' folders: the demo config's keys and channels, and the strong preset plans."""
    _, work, status, written = demo_init(demo, tmp_path, "--preset", "strong")
    assert status == 0
    hand = yaml.safe_load((REPO / DEMOS[demo][1]).read_text())
    assert same_keys(written, hand) == {}
    assert filled(written)["data"]["channels"] == filled(hand)["data"]["channels"]
    if demo == "basicmotions":
        assert written["data"]["series_length"] == hand["data"]["series_length"] == 100
    assert written["submissions"] == "best" and written["ensembles"]["blend"]["method"] == "optimize"
    assert len(written["models"]) >= 3
    planner(code, work).snakemake("-n", configfile="init.yaml")


# zoo folder -> what its sample submission's values are (tests/test_zoo.py's check_submission formats)
ZOO_FORMATS = {zoo.dacon_sensor: "proba", zoo.messy_sensor: "label", zoo.text_ids: "label", zoo.odd_classes: "proba",
               zoo.image_formats: "label", zoo.label_columns: "binary", zoo.empty_label: "label"}


@pytest.mark.workflow
@pytest.mark.parametrize("builder", ZOO, ids=lambda b: b.__name__)
def test_written_config_runs_to_a_valid_submission(builder, code, tmp_path):
    """Every zoo folder, no edits: the quick preset at a tiny budget runs end to end and its submission fits the
    sample (header, ids as written, values of the sample's kind)."""
    from .test_zoo import check_submission

    comp = builder(tmp_path / "comp")
    work = tmp_path / "work"
    work.mkdir()
    status, written = run_init(comp.dir, work / "init.yaml", "--budget", "0.5")
    assert status == 0 and written["folds"]["n_splits"] == 2  # the budget shrank the folds
    planner(code, work).snakemake(configfile="init.yaml")
    (name,) = written["models"]
    check_submission(work / "results" / "submissions" / f"{name}.csv", comp, ZOO_FORMATS[builder])


@pytest.mark.workflow
@pytest.mark.parametrize("demo", list(DEMOS))
def test_demo_folder_quick_preset_runs_to_a_valid_submission(demo, code, tmp_path):
    """The four demos' folders (images, multilabel, long-CSV series, video), no edits: the quick preset at a tiny
    budget runs end to end; the submission has the sample's header and ids and scores on the held-back answers."""
    import pandas as pd

    folder, work, status, written = demo_init(demo, tmp_path, "--budget", "0.5")
    assert status == 0
    planner(code, work).snakemake(configfile="init.yaml")
    (name,) = written["models"]
    sub = pd.read_csv(work / "results" / "submissions" / f"{name}.csv", dtype=str, keep_default_na=False)
    sample = pd.read_csv(folder / written["data"]["sample_submission"], dtype=str, keep_default_na=False)
    assert list(sub.columns) == list(sample.columns) and list(sub.iloc[:, 0]) == list(sample.iloc[:, 0])
    board = pd.read_csv(work / "results" / "leaderboard.csv")
    assert board["holdout"].notna().all()  # scored on the folder's solution.csv


def _folder(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True)
    for name, text in files.items():
        (root / name).write_text(text)
    return root


@pytest.mark.parametrize("files,needle", [
    ({"train.csv": "id,label\na,1\n", "test.csv": "id\nb\n"}, "no sample submission"),
    ({"train.csv": "id,x,y,f\na,1,2,3\n", "test.csv": "id,f\nb,3\n", "sample_submission.csv": "id,target\nb,0\n"},
     "2 candidate targets ('x', 'y')"),
    ({"train.csv": "id,label\na,1\n", "sample_submission.csv": "key,label\nb,0\n"}, "'key' (the id column)"),
], ids=["no-sample", "two-targets", "no-id"])
def test_unreadable_folder_gets_one_clear_message(files, needle, tmp_path, capsys):
    """One message naming what is missing (and the key to set), exit status 2, no config written."""
    folder = _folder(tmp_path / "comp", files)
    status, written = run_init(folder, tmp_path / "out.yaml")
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and written is None
    assert len(err) == 1 and err[0].startswith("foldwise init: error:") and needle in err[0], err
    if needle.startswith("2 candidate"):
        assert "set data.target_col" in err[0]


def test_existing_output_is_kept(tmp_path, digits_dir, capsys):
    out = tmp_path / "config.yaml"
    out.write_text("mine\n")
    assert run_init(digits_dir, out)[0] == 2
    assert out.read_text() == "mine\n" and "--force" in capsys.readouterr().err


def test_tabular_folder_from_real_digits_features(tmp_path):
    """The digits' 64 pixel values as table columns: tabular, the shared columns as features, LightGBM quick."""
    from sklearn.datasets import load_digits

    d = load_digits()
    cols = [f"px{i}" for i in range(64)]
    rows = [[f"r{i}", *map(int, d.data[i]), int(d.target[i])] for i in range(300)]
    zoo.write_rows(tmp_path / "comp" / "train.csv", ["id", *cols, "digit"], rows[:200])
    zoo.write_rows(tmp_path / "comp" / "test.csv", ["id", *cols], [r[:-1] for r in rows[200:]])
    zoo.write_rows(tmp_path / "comp" / "sample_submission.csv", ["id", "digit"], [[r[0], 0] for r in rows[200:]])
    status, written = run_init(tmp_path / "comp", tmp_path / "init.yaml")
    assert status == 0
    assert written["data"]["kind"] == "tabular" and written["data"]["target_col"] == "digit"
    assert "feature_cols" not in written["data"]  # every column but id and target: the default
    assert [m["family"] for m in written["models"].values()] == ["lightgbm"]
    filled(written)


def test_step_column_is_the_evenly_spaced_one():
    import pandas as pd

    rng = np.random.default_rng(0)
    rows = [(f"s{i}", str(10 * t), f"{rng.normal():.3f}", str(int(rng.integers(0, 5)))) for i in range(5) for t in range(20)]
    df = pd.DataFrame([rows[j] for j in rng.permutation(len(rows))], columns=["id", "ms", "x", "level"])
    assert find_step_col(df, "id") == "ms"
    assert find_step_col(df[["id", "x"]], "id") is None


def test_multilabel_is_told_from_classes_with_spaces():
    import pandas as pd

    assert _looks_multilabel(pd.Series(["Sea Lion", "bird, other", "Sea Lion", "cat"]))[0] is False
    assert _looks_multilabel(pd.Series(["1 4", "4", "1", "2 4 1"]))[0] is True
    assert _looks_multilabel(pd.Series(["1", "", "2"]))[0] is True


def test_budget_sizes_epochs_folds_and_gpu(digits_dir):
    """More budget, more epochs; a tiny one fewer folds; time to spare with nets at their cap buys seeds."""
    inf = infer(digits_dir)
    small, big = size_plan(inf, "quick", 1), size_plan(inf, "quick", 1.5)
    assert small.models["resnet10t"]["epochs"] < big.models["resnet10t"]["epochs"]
    assert small.expected_s <= 1 * 60 * 1.05 and big.expected_s <= 1.5 * 60 * 1.05
    tiny = size_plan(inf, "quick", 0.5)
    assert tiny.n_splits < big.n_splits
    assert any(h.startswith("WARNING: only") for h in tiny.header)  # fewer epochs than MIN_EPOCHS: said, not hidden
    assert not any(h.startswith("WARNING") for h in big.header)
    strong, roomy = size_plan(inf, "strong", 3), size_plan(inf, "strong", 30)
    assert {m.get("family", "torch") for m in strong.models.values()} >= {"torch", "lightgbm", "logistic"}
    assert strong.submissions == "best" and strong.ensembles
    assert all(m["refit"] == "blend" for m in strong.models.values() if m.get("family") in ("lightgbm", "logistic"))
    assert all("seeds" not in m for m in strong.models.values())
    nets = [m for m in roomy.models.values() if "epochs" in m]
    assert nets and all(m["seeds"] > 1 and m["epochs"] == 30 for m in nets)  # the cap, then seeds
    assert roomy.expected_s <= 30 * 60
    with pytest.raises(KeyError, match="valid: quick, strong"):
        size_plan(inf, "fast", 5)


def test_module_entry_point(tmp_path, digits_dir):
    """``python -m foldwise init`` is the same command (the console script calls the same main)."""
    out = tmp_path / "c.yaml"
    proc = subprocess.run([sys.executable, "-m", "foldwise", "init", str(digits_dir), "-o", str(out), "--device", "cpu"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "data.target_col = label" in proc.stdout and out.exists()
