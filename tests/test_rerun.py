"""What re-runs when: every claim of the README's table, read from Snakemake's own plan."""

from __future__ import annotations

import copy
import hashlib
import os
import time

import pytest
import yaml

from .pipeline import TINY, Pipeline, summarize

pytestmark = pytest.mark.workflow

DOWNSTREAM_OF_RES = {
    "gather[res]", "ensemble[blend]", "ensemble[hill]",
    "submission[res]", "submission[blend]", "submission[hill]", "leaderboard", "all",
}
RES_JOBS = {"train[res,0]", "train[res,1]", "predict[res,0]", "predict[res,1]"}
CNX_JOBS = {"train[cnx,0]", "train[cnx,1]", "predict[cnx,0]", "predict[cnx,1]"}
ALL_PREDICTIONS = {
    "gather[res]", "gather[cnx]", "ensemble[blend]", "ensemble[hill]", "leaderboard", "all",
    *(f"submission[{n}]" for n in ("res", "cnx", "blend", "hill")),
}


def _config(pipe: Pipeline) -> dict:
    return yaml.safe_load((pipe.work / "config.yaml").read_text())


def _plan_with(pipe: Pipeline, edit) -> set[str]:
    cfg = copy.deepcopy(_config(pipe))
    edit(cfg)
    pipe.write_config(cfg, "changed.yaml")
    return summarize(pipe.plan(configfile="changed.yaml"))


def test_no_op_after_a_finished_run(tiny_run):
    assert tiny_run.plan() == []


def test_touching_unchanged_raw_inputs_reruns_nothing(tiny_run):
    data = tiny_run.work / _config(tiny_run)["data"]["dir"]
    later = time.time() + 5
    for name in ("train.csv", "test.csv", "sample_submission.csv", "solution.csv"):
        os.utime(data / name, (later, later))
    assert tiny_run.plan() == []


def test_model_change_replans_only_that_model(tiny_run):
    def edit(cfg):
        cfg["models"]["res"]["lr"] = 0.001

    assert _plan_with(tiny_run, edit) == RES_JOBS | DOWNSTREAM_OF_RES


def test_model_image_size_change_adds_just_that_cache(tiny_run):
    def edit(cfg):
        cfg["models"]["res"]["img_size"] = 24

    want = {"cache[24,train]", "cache[24,test]"} | RES_JOBS | DOWNSTREAM_OF_RES
    assert _plan_with(tiny_run, edit) == want


def test_ensemble_change_replans_only_that_ensemble(tiny_run):
    def edit(cfg):
        cfg["ensembles"]["hill"]["method"] = "equal"

    assert _plan_with(tiny_run, edit) == {"ensemble[hill]", "submission[hill]", "leaderboard", "all"}


def test_ensemble_weights_change(tiny_run):
    def edit(cfg):
        cfg["ensembles"]["blend"] = {"method": "given", "weights": {"res": 2, "cnx": 1}}

    assert _plan_with(tiny_run, edit) == {"ensemble[blend]", "submission[blend]", "leaderboard", "all"}


@pytest.mark.parametrize("key, value", [("seed", 5), ("n_splits", 3), ("scheme", "kfold")])
def test_fold_change_replans_folds_and_everything_downstream(tiny_run, key, value):
    def edit(cfg):
        cfg["folds"][key] = value

    plan = _plan_with(tiny_run, edit)
    n = value if key == "n_splits" else 2
    trains = {f"{r}[{m},{k}]" for r in ("train", "predict") for m in ("res", "cnx") for k in range(n)}
    want = {"folds", *trains, "gather[cnx]", "submission[cnx]"} | DOWNSTREAM_OF_RES
    assert plan == want
    assert not any(j.startswith(("cache", "tables")) for j in plan)


def test_one_fold_rerun(tiny_run):
    plan = summarize(tiny_run.plan("--forcerun", "results/models/res/fold1/oof.parquet"))
    assert plan == {"train[res,1]", "predict[res,1]"} | DOWNSTREAM_OF_RES


def test_training_a_single_model_and_running_until_a_rule(tiny_run, tmp_path):
    fresh = Pipeline(tiny_run.code, tmp_path / "fresh", _config(tiny_run))
    plan = summarize(fresh.plan("results/oof/cnx.parquet"))
    assert plan == {"tables", "test_table", "cache[32,train]", "cache[32,test]", "folds", *CNX_JOBS, "gather[cnx]"}
    assert summarize(fresh.plan("--until", "folds")) == {"tables", "folds"}


def _edit_module(pipe: Pipeline, rel: str, text: str):
    path = pipe.code / rel
    original = path.read_text()
    path.write_text(original + text)
    return path, original


@pytest.mark.parametrize(
    "module, want",
    [
        ("foldwise/leaderboard.py", {"leaderboard", "all"}),
        ("foldwise/ensemble/weights.py", {"ensemble[blend]", "ensemble[hill]", "submission[blend]", "submission[hill]", "leaderboard", "all"}),
        # training picks each fold's best epoch with the metric, so metric code re-trains; tables, caches, folds stay
        ("foldwise/metrics.py", RES_JOBS | CNX_JOBS | ALL_PREDICTIONS),
        ("foldwise/train/infer.py", {"predict[res,0]", "predict[res,1]", "predict[cnx,0]", "predict[cnx,1]"} | ALL_PREDICTIONS),
        ("foldwise/data/images.py", {"cache[16,train]", "cache[16,test]", "cache[32,train]", "cache[32,test]"}
         | RES_JOBS | CNX_JOBS | ALL_PREDICTIONS),
        ("foldwise/data/series.py", set()),  # an image competition: the series reader is not its code
        ("foldwise/runtime/gpus.py", set()),  # plumbing: GPU claims, logging, provenance, tracking
        ("foldwise/runtime/process.py", set()),
        ("foldwise/runtime/provenance.py", set()),
        ("foldwise/folds.py", None),  # folds and train import it: everything from folds on
    ],
)
def test_package_code_change_reruns_importing_rules(tiny_run, module, want):
    path, original = _edit_module(tiny_run, module, "\n\ndef _added_helper():\n    return 1\n")
    try:
        plan = summarize(tiny_run.plan())
    finally:
        path.write_text(original)
    if want is None:
        assert "folds" in plan and {"train[res,0]", "train[cnx,1]"} <= plan
        assert not any(j.startswith(("cache", "tables", "test_table")) for j in plan)
    else:
        assert plan == want
    assert tiny_run.plan() == []


def _replace_bytes(path, data: bytes):
    original = path.read_bytes()
    path.write_bytes(data)
    return original


def test_touching_every_image_reruns_nothing(tiny_run):
    data = tiny_run.work / _config(tiny_run)["data"]["dir"]
    later = time.time() + 7
    for image in [*data.glob("train_images/*.png"), *data.glob("test_images/*.png")]:
        os.utime(image, (later, later))
    assert tiny_run.plan() == []


PREDICTS = {j for j in RES_JOBS | CNX_JOBS if j.startswith("predict")}


@pytest.mark.parametrize(
    "split, want",
    [
        ("train", {"cache[16,train]", "cache[32,train]"} | RES_JOBS | CNX_JOBS | ALL_PREDICTIONS),
        ("test", {"cache[16,test]", "cache[32,test]"} | PREDICTS | ALL_PREDICTIONS),  # never training
    ],
)
def test_replacing_one_image_reruns_that_splits_caches_and_what_follows(tiny_run, split, want):
    data = tiny_run.work / _config(tiny_run)["data"]["dir"]
    first, second = sorted(data.glob(f"{split}_images/*.png"))[:2]
    original = _replace_bytes(first, second.read_bytes())
    try:
        plan = summarize(tiny_run.plan())
    finally:
        first.write_bytes(original)
    assert plan == want
    assert tiny_run.plan() == []  # the same bytes again: nothing to do


def test_adding_a_test_image_reruns_the_test_side_only(tiny_run):
    data = tiny_run.work / _config(tiny_run)["data"]["dir"]
    files = {n: data / n for n in ("test.csv", "sample_submission.csv", "solution.csv")}
    originals = {n: p.read_bytes() for n, p in files.items()}
    new_image = data / "test_images" / "added_0001.png"
    new_image.write_bytes(sorted(data.glob("train_images/*.png"))[0].read_bytes())
    try:
        for name, path in files.items():
            extra = "added_0001" if name == "test.csv" else "added_0001,0"
            path.write_bytes(originals[name] + extra.encode() + b"\n")
        plan = summarize(tiny_run.plan())
    finally:
        new_image.unlink()
        for name, path in files.items():
            path.write_bytes(originals[name])
    assert plan == {"test_table", "cache[16,test]", "cache[32,test]"} | PREDICTS | ALL_PREDICTIONS
    assert tiny_run.plan() == []


def test_comment_only_change_and_files_outside_the_package_rerun_nothing(tiny_run):
    path, original = _edit_module(tiny_run, "foldwise/train/fold.py", "\n# a comment only\n")
    notes = tiny_run.code / "NOTES.md"
    try:
        notes.write_text("not code\n")
        assert tiny_run.plan() == []
    finally:
        path.write_text(original)
        notes.unlink()


def _digests(results):
    files = ["folds/folds.pkl", *sorted(str(p.relative_to(results)) for p in results.glob("oof/*.parquet"))]
    files += [str(p.relative_to(results)) for p in sorted(results.glob("ensembles/*/weights.json"))]
    files += [str(p.relative_to(results)) for p in sorted(results.glob("submissions/*.csv"))]
    return {f: hashlib.sha256((results / f).read_bytes()).hexdigest() for f in files}


def test_two_clean_runs_are_byte_identical(tiny_run, tmp_path):
    second = Pipeline(tiny_run.code, tmp_path / "work", _config(tiny_run))
    second.snakemake()
    first, again = _digests(tiny_run.work / "results"), _digests(second.work / "results")
    assert len(first) >= 1 + 2 + 2 + 4
    assert first == again


def test_forcerun_of_a_finished_fold_repredicts_byte_identically(tiny_run):
    results = tiny_run.work / "results"
    fold_files = [f"models/res/fold1/{n}" for n in ("oof.parquet", "test.parquet", "history.csv", "best.pt")]
    before = _digests(results) | {f: hashlib.sha256((results / f).read_bytes()).hexdigest() for f in fold_files}
    tiny_run.snakemake("--forcerun", "results/models/res/fold1/oof.parquet")
    after = _digests(results) | {f: hashlib.sha256((results / f).read_bytes()).hexdigest() for f in fold_files}
    assert after == before
    log = (tiny_run.work / "logs" / "train" / "res" / "fold1.log").read_text()
    assert "resuming res fold 1 from the checkpoint of epoch 1/1" in log
    assert tiny_run.plan() == []


SENSOR_TINY = {
    "seed": 1,
    "data": {"kind": "timeseries", "step_col": "step", "series_length": 100},
    "folds": {"n_splits": 2, "seed": 0},
    "models": {"r1d": {"backbone": "resnet1d", "epochs": 1, "batch_size": 8, "model_kwargs": {"width": 8}}},
}
R1D_JOBS = {"train[r1d,0]", "train[r1d,1]", "predict[r1d,0]", "predict[r1d,1]"}
R1D_AFTER = {"gather[r1d]", "submission[r1d]", "leaderboard", "all"}


@pytest.fixture(scope="module")
def sensor_run(tiny_run, tmp_path_factory):
    """A finished one-model sensor run (BasicMotions as long CSV) on the tiny run's code copy."""
    from foldwise.demo import make_basicmotions_competition

    base = tmp_path_factory.mktemp("sensor_rerun")
    make_basicmotions_competition(base / "comp")
    pipe = Pipeline(tiny_run.code, base / "work", {**SENSOR_TINY, "data": {**SENSOR_TINY["data"], "dir": str(base / "comp")}})
    pipe.snakemake()
    return pipe


def _edit_series_value(path):
    lines = path.read_text().splitlines(keepends=True)
    fields = lines[5].rstrip("\n").split(",")
    fields[-1] = str(float(fields[-1]) + 1.5)
    lines[5] = ",".join(fields) + "\n"
    return "".join(lines)


def test_series_csvs_are_tracked_by_content(sensor_run):
    comp = sensor_run.work / _config(sensor_run)["data"]["dir"]
    later = time.time() + 9
    for name in ("train_features.csv", "test_features.csv"):
        os.utime(comp / name, (later, later))
    assert sensor_run.plan() == []
    for split in ("train", "test"):
        path = comp / f"{split}_features.csv"
        original = path.read_text()
        path.write_text(_edit_series_value(path))
        try:
            plan = summarize(sensor_run.plan())
        finally:
            path.write_text(original)
        jobs = R1D_JOBS if split == "train" else {j for j in R1D_JOBS if j.startswith("predict")}
        assert plan == {f"cache[100,{split}]"} | jobs | R1D_AFTER, split
    assert sensor_run.plan() == []


@pytest.mark.parametrize(
    "module, want",
    [
        ("foldwise/data/series.py", {"cache[100,train]", "cache[100,test]"} | R1D_JOBS | R1D_AFTER),
        ("foldwise/data/images.py", set()),  # a series competition: image decoding is not its code
    ],
)
def test_series_reader_edits_rerun_the_series_caches_on(sensor_run, module, want):
    path, original = _edit_module(sensor_run, module, "\n\ndef _added_helper():\n    return 1\n")
    try:
        plan = summarize(sensor_run.plan())
    finally:
        path.write_text(original)
    assert plan == want
    assert not any(j.startswith(("tables", "test_table", "folds")) for j in plan)


# ----- pseudo-labelling: the teacher -> student edge -----

STUDENT = {**TINY["models"]["res"], "teacher": "res", "pseudo": {"threshold": 0.0, "top_fraction": 0.5}, "tta": ["hflip"]}
PSEUDO_TINY = {**TINY, "models": {"res": TINY["models"]["res"], "stu": STUDENT},
               "ensembles": {"duo": {"members": ["res"], "method": "equal"}}}
STU_JOBS = {"train[stu,0]", "train[stu,1]", "predict[stu,0]", "predict[stu,1]", "gather[stu]", "submission[stu]"}
RES_ONLY = {"train[res,0]", "train[res,1]", "predict[res,0]", "predict[res,1]", "gather[res]", "submission[res]",
            "ensemble[duo]", "submission[duo]"}


@pytest.fixture(scope="module")
def pseudo_run(tiny_run, digits_dir, tmp_path_factory):
    """A finished run of a teacher (res), an ensemble of it (duo) and a student of res (stu), on the tiny run's code."""
    base = tmp_path_factory.mktemp("pseudo_rerun")
    pipe = Pipeline(tiny_run.code, base / "work", {**PSEUDO_TINY, "data": {**TINY["data"], "dir": str(digits_dir)}})
    pipe.snakemake()
    return pipe


def test_student_trains_on_pseudo_labels_and_reports_cv_without_tta(pseudo_run):
    import json

    import pandas as pd

    results = pseudo_run.work / "results"
    runs = [json.loads((results / "models" / "stu" / f"fold{k}" / "metrics.json").read_text()) for k in (0, 1)]
    assert all(r["pseudo_rows"] > 0 for r in runs)
    board = pd.read_csv(results / "leaderboard.csv").set_index("name")
    assert list(board.columns[:4]) == ["kind", "metric", "cv", "cv_no_tta"]
    assert board.loc["res", "cv_no_tta"] == board.loc["res", "cv"]  # no TTA: the same score
    assert 0 < board.loc["stu", "cv_no_tta"] <= 1 and pd.isna(board.loc["duo", "cv_no_tta"])
    oof = pd.read_parquet(results / "oof" / "stu.parquet")
    assert not any(c.startswith("plain_") for c in oof.columns)  # the public OOF file keeps its columns
    assert pseudo_run.plan() == []


def test_changing_the_teacher_replans_it_and_its_student_only(pseudo_run):
    def edit(cfg):
        cfg["models"]["res"]["lr"] = 0.001

    assert _plan_with(pseudo_run, edit) == RES_ONLY | STU_JOBS | {"leaderboard", "all"}


@pytest.mark.parametrize("setting, value", [("pseudo", {"threshold": 0.5}), ("teacher", "duo")])
def test_changing_the_students_pseudo_labels_replans_exactly_the_student(pseudo_run, setting, value):
    def edit(cfg):
        cfg["models"]["stu"][setting] = value

    # pseudo.source fold (the default): an ensemble teacher's fold-k blends are made for the student
    teachers = {"fold_teacher[duo,0]", "fold_teacher[duo,1]"} if setting == "teacher" else set()
    assert _plan_with(pseudo_run, edit) == STU_JOBS | teachers | {"leaderboard", "all"}


def test_a_new_test_image_retrains_the_student_but_not_the_teacher(pseudo_run):
    data = pseudo_run.work / _config(pseudo_run)["data"]["dir"]
    first, second = sorted(data.glob("test_images/*.png"))[:2]
    original = _replace_bytes(first, second.read_bytes())
    try:
        plan = summarize(pseudo_run.plan())
    finally:
        first.write_bytes(original)
    predicts = {f"predict[{m},{k}]" for m in ("res", "stu") for k in (0, 1)}
    assert plan == {"cache[16,test]", *predicts, "train[stu,0]", "train[stu,1]", "gather[res]", "gather[stu]",
                    "ensemble[duo]", "submission[res]", "submission[stu]", "submission[duo]", "leaderboard", "all"}
