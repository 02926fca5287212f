"""End to end: models with select_epoch last and inner, a blend, a stacker, an ensemble of ensembles,
``submissions: best``, and the leaderboard's honest columns, on the real Snakefile."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from .pipeline import Pipeline, summarize

pytestmark = pytest.mark.workflow

HONEST = {
    "seed": 1,
    "metric": "accuracy",
    "data": {"solution": "solution.csv", "channels": 1},
    "folds": {"scheme": "stratified", "n_splits": 2, "seed": 0},
    "models": {
        "res": {"backbone": "resnet10t", "img_size": 16, "epochs": 2, "batch_size": 32, "lr": 0.003,
                "select_epoch": "last"},
        "cnx": {"backbone": "test_convnext", "img_size": 32, "epochs": 2, "batch_size": 32, "lr": 0.003,
                "select_epoch": "inner", "inner_fraction": 0.25},
    },
    "ensembles": {
        "blend": {"method": "optimize"},
        "stack": {"method": "stack", "members": ["res", "cnx"]},
        "meta": {"method": "hill_climb", "members": ["blend", "stack", "res"], "combiner": "geometric"},
    },
    "submissions": ["best", "res", "cnx", "blend", "stack", "meta"],
}


@pytest.fixture(scope="module")
def honest_run(tiny_run, digits_dir, tmp_path_factory):
    pipe = Pipeline(tiny_run.code, tmp_path_factory.mktemp("honest") / "work",
                    {**HONEST, "data": {**HONEST["data"], "dir": str(digits_dir)}})
    pipe.snakemake()
    return pipe


def test_leaderboard_ranks_by_honest_cv_and_best_is_its_top(honest_run):
    res = honest_run.work / "results"
    board = pd.read_csv(res / "leaderboard.csv")
    assert list(board.columns[:9]) == ["name", "kind", "metric", "cv", "cv_no_tta", "cv_is", "cv_honest", "honest_by", "optimism"]
    assert board["cv_honest"].is_monotonic_decreasing
    rows = board.set_index("name")
    assert rows.loc["res", "honest_by"] == "fixed_epochs" and rows.loc["cnx", "honest_by"] == "inner_split"
    assert (rows.loc[["res", "cnx"], "cv"] == rows.loc[["res", "cnx"], "cv_honest"]).all()
    assert (rows.loc[["blend", "stack", "meta"], "honest_by"] == "nested").all()
    assert (rows.loc[["blend", "stack", "meta"], "cv_is"] == "in_sample").all()
    # 210 OOF rows, 20 log-probability features: the stacker's in-sample CV flatters it
    assert rows.loc["stack", "cv"] > rows.loc["stack", "cv_honest"] + 0.05
    best = json.loads((res / "submissions" / "best.json").read_text())
    assert best["picked"] == board["name"].iloc[0] and best["by"] == "cv_honest"
    assert board["selected"].tolist() == [True] + [False] * (len(board) - 1)
    assert (res / "submissions" / "best.csv").read_bytes() == (res / "submissions" / f"{best['picked']}.csv").read_bytes()
    assert best["holdout"] == rows.loc[best["picked"], "holdout"]


def test_ensemble_of_ensembles_files(honest_run):
    ens = honest_run.work / "results" / "ensembles"
    weights = json.loads((ens / "meta" / "weights.json").read_text())
    assert set(weights["weights"]) == set(weights["fold_weights"]) == {"blend", "stack", "res"}
    assert weights["combiner"] == "geometric" and all(len(v) == 2 for v in weights["fold_weights"].values())
    stack = json.loads((ens / "stack" / "weights.json").read_text())
    assert stack["stacker"] == {"learner": "logistic", "params": {}}
    # the member ensembles enter meta with their nested OOF: their member scores are their nested scores
    for member in ("blend", "stack"):
        inner = json.loads((ens / member / "weights.json").read_text())
        assert weights["member_oof_objective"][member] == pytest.approx(inner["nested_oof_objective"], rel=1e-5)
    for name in ("blend", "stack", "meta"):
        nested = pd.read_parquet(ens / name / "oof_nested.parquet")
        assert list(nested.columns) == list(pd.read_parquet(ens / name / "oof.parquet").columns)


def test_a_member_ensembles_change_replans_the_ensembles_built_on_it(honest_run):
    cfg = yaml.safe_load((honest_run.work / "config.yaml").read_text())
    cfg["ensembles"]["stack"]["stacker_params"] = {"C": 0.1}
    honest_run.write_config(cfg, "changed.yaml")
    assert summarize(honest_run.plan(configfile="changed.yaml")) == {
        "ensemble[stack]", "ensemble[meta]", "submission[stack]", "submission[meta]", "best_submission",
        "leaderboard", "all",
    }
    assert honest_run.plan() == []
