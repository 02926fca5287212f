"""The plan (foldwise.workflow): what rules/common.smk asks while it plans, without Snakemake."""

from __future__ import annotations

import copy
import os

import pytest

from foldwise.config import validate
from foldwise.runtime.tracking import HashState
from foldwise.workflow import Plan
from foldwise.workflow.inputs import split_inputs_digest

from .pipeline import TINY


def _plan(digits_dir, **changes) -> Plan:
    cfg = copy.deepcopy({**TINY, "data": {**TINY["data"], "dir": str(digits_dir)}})
    for key, value in changes.items():
        cfg[key] = value
    return Plan(validate(cfg))


def test_names_folds_and_submissions(digits_dir):
    plan = _plan(digits_dir, submissions=["blend", "best"])
    assert plan.models == ["res", "cnx"] and plan.ensembles == ["blend", "hill"]
    assert plan.folds == [0, 1] and plan.candidates == ["res", "cnx", "blend", "hill"]
    assert plan.submissions == ["blend"] and plan.best and plan.report_names() == ["blend", "best"]
    assert plan.job_labels() == ["res/fold0", "res/fold1", "cnx/fold0", "cnx/fold1"]


def test_table_and_cache_params_hold_only_what_they_read(digits_dir):
    plan = _plan(digits_dir)
    assert set(plan.table_params()) == {"dir", "train_csv", "id_col", "target_col", "label_cols", "group_col",
                                        "kind", "train_images"}
    assert "test_images" in plan.test_table_params() and "train_csv" not in plan.test_table_params()
    assert plan.cache_params("train") == {"dir": str(digits_dir), "channels": 1}
    assert plan.cache_size("res") == 16 and plan.cache_size("cnx") == 32


def test_model_params_hash_a_local_weights_file(digits_dir, tmp_path):
    weights = tmp_path / "w.pt"
    weights.write_bytes(b"weights")
    models = copy.deepcopy(TINY["models"])
    models["res"]["pretrained"] = str(weights)
    plan = _plan(digits_dir, models=models)
    first = plan.model_params("res")
    assert first["model"] == "res" and first["pretrained_sha256"]
    weights.write_bytes(b"other weights")
    assert plan.model_params("res")["pretrained_sha256"] != first["pretrained_sha256"]
    assert "pretrained_sha256" not in plan.model_params("cnx")


def test_seeds_refits_and_what_a_refit_reads(digits_dir):
    models = copy.deepcopy(TINY["models"])
    models["res"].update(seeds=2)
    models["lin"] = {"family": "logistic", "refit": "blend", "seeds": 2}
    plan = _plan(digits_dir, models=models, ensembles={})
    assert plan.seed_jobs("res") == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert plan.seed_jobs("cnx") == [(0, 0), (0, 1)]
    assert plan.refit_seeds("lin") == [0, 1] and plan.refit_seeds("res") == []
    assert plan.refit_reads_folds("res") and not plan.refit_reads_folds("lin")
    assert plan.is_net("res") and not plan.is_net("lin")
    assert "res" in plan.nets and "lin" in plan.classics and not set(plan.nets) & set(plan.classics)
    assert "seeds" not in plan.model_params("res")  # a lever shapes the DAG, not one job's training


def test_a_student_reads_its_teacher_fold_wise_by_default(digits_dir):
    models = copy.deepcopy(TINY["models"])
    models["stu"] = {**models["res"], "teacher": "blend"}
    models["stu_all"] = {**models["res"], "teacher": "res", "pseudo": {"source": "all"}}
    plan = _plan(digits_dir, models=models, ensembles={"blend": {"members": ["res", "cnx"]}})
    assert plan.teacher("stu") == "blend" and plan.teacher("res") is None
    assert plan.reads_fold_teacher("stu") and not plan.reads_fold_teacher("stu_all")
    assert plan.teacher_fold_from_predict("res") and not plan.teacher_fold_from_predict("blend")
    assert plan.fold_teacher_jobs("blend") == [("res", 0), ("cnx", 0)]
    spec = plan.fold_teacher_spec("blend")
    assert spec["kind"] == "ensemble" and spec["members"] == ["res", "cnx"] and spec["seeds"] == {"res": 1, "cnx": 1}
    assert {"method", "combiner", "power"} <= set(spec)
    assert plan.fold_teacher_spec("res")["kind"] == "model"


def test_ensemble_and_submission_params(digits_dir):
    plan = _plan(digits_dir)
    params = plan.ensemble_params("blend")
    assert params["members"] == ["res", "cnx"] and params["seed"] == TINY["seed"]
    sub = plan.submission_params()
    assert sub["sample_submission"] == f"{digits_dir}/sample_submission.csv"
    assert sub["solution"] == f"{digits_dir}/solution.csv" and sub["metric"] == "accuracy"


def test_raw_checksums_follow_content(digits_dir):
    plan = _plan(digits_dir)
    sums = plan.raw_checksums(("train_csv", "solution"))
    assert set(sums) == {"train_csv", "solution"} and all(len(v) == 64 for v in sums.values())


def test_split_digest_follows_content_not_mtime(digits_dir, tmp_path):
    import shutil

    data = copy.deepcopy(TINY["data"])
    folder = tmp_path / "comp"
    shutil.copytree(digits_dir, folder)
    data.update(dir=str(folder))
    cfg = validate(copy.deepcopy({**TINY, "data": data}))
    state = HashState(str(tmp_path / "state.json"))
    first = split_inputs_digest(cfg["data"], "train", state)
    image = sorted((folder / "train_images").glob("*.png"))[0]
    os.utime(image, (1, 1))  # touched: the same content
    assert split_inputs_digest(cfg["data"], "train", state) == first
    image.write_bytes(sorted((folder / "train_images").glob("*.png"))[1].read_bytes())
    assert split_inputs_digest(cfg["data"], "train", state) != first
    assert split_inputs_digest(cfg["data"], "test", state) is not None


def test_an_unreadable_tabular_table_is_a_foldwise_error(digits_dir, tmp_path):
    from foldwise.errors import FoldwiseError

    plan = _plan(digits_dir)
    plan.config["data"].update(kind="tabular", train_csv="missing.csv", feature_cols=None, categorical_cols=None)
    with pytest.raises(FoldwiseError):
        plan.tabular_layout()
