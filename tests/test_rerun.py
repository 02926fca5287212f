"""What re-runs when: every claim of the README's table, read from Snakemake's own plan."""

from __future__ import annotations

import copy
import hashlib
import os
import time

import pytest
import yaml

from .pipeline import Pipeline, summarize

pytestmark = pytest.mark.workflow

DOWNSTREAM_OF_RES = {
    "gather[res]", "ensemble[blend]", "ensemble[hill]",
    "submission[res]", "submission[blend]", "submission[hill]", "leaderboard", "all",
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

    assert _plan_with(tiny_run, edit) == {"train[res,0]", "train[res,1]"} | DOWNSTREAM_OF_RES


def test_model_image_size_change_adds_just_that_cache(tiny_run):
    def edit(cfg):
        cfg["models"]["res"]["img_size"] = 24

    want = {"cache[24,train]", "cache[24,test]", "train[res,0]", "train[res,1]"} | DOWNSTREAM_OF_RES
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
    trains = {f"train[{m},{k}]" for m in ("res", "cnx") for k in range(n)}
    want = {"folds", *trains, "gather[cnx]", "submission[cnx]"} | DOWNSTREAM_OF_RES
    assert plan == want
    assert not any(j.startswith(("cache", "tables")) for j in plan)


def test_one_fold_rerun(tiny_run):
    plan = summarize(tiny_run.plan("--forcerun", "results/models/res/fold1/oof.parquet"))
    assert plan == {"train[res,1]"} | DOWNSTREAM_OF_RES


def test_training_a_single_model_and_running_until_a_rule(tiny_run, tmp_path):
    fresh = Pipeline(tiny_run.code, tmp_path / "fresh", _config(tiny_run))
    plan = summarize(fresh.plan("results/oof/cnx.parquet"))
    assert plan == {"tables", "cache[32,train]", "cache[32,test]", "folds", "train[cnx,0]", "train[cnx,1]", "gather[cnx]"}
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
        ("foldwise/ensemble.py", {"ensemble[blend]", "ensemble[hill]", "submission[blend]", "submission[hill]", "leaderboard", "all"}),
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
        assert not any(j.startswith(("cache", "tables")) for j in plan)
    else:
        assert plan == want
    assert tiny_run.plan() == []


def test_comment_only_change_and_files_outside_the_package_rerun_nothing(tiny_run):
    path, original = _edit_module(tiny_run, "foldwise/train.py", "\n# a comment only\n")
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
