"""The DAG's levers: seeds per fold, full-data refits and the fold-wise (leak-free) teacher of pseudo-labels.

Unit tests of the gather, the fold teacher and the checks on synthetic files; then one tiny classic series
run (BasicMotions, MiniROCKET with 2 seeds and a blended refit, beside a default logistic model) whose plans
show which jobs each lever adds and what re-runs when one changes; and dry runs of a pseudo-labelled student
on the digits competition, which show which teacher file each fold's student reads.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re

import numpy as np
import pandas as pd
import pytest
import yaml

from foldwise.classic.state import load_state
from foldwise.config import ConfigError, model_settings, validate
from foldwise.ensemble.fold_teacher import write_fold_teacher
from foldwise.errors import FoldwiseError
from foldwise.folds import save_folds
from foldwise.io import sha256_file, write_json, write_parquet
from foldwise.jobs.seeds import derive_seed
from foldwise.leaderboard import build_leaderboard
from foldwise.oof import gather_model

from .pipeline import REPO, TINY, Pipeline, copy_code, summarize

CLASSES = ["a", "b"]


# ----- the gather: seeds averaged, refits submitted -----


def _fold_files(tmp_path, folds_path, seed, probs_by_fold, rows_by_fold, y, n_test=3, shift=0.0):
    meta = {"folds_sha256": sha256_file(folds_path), "config_sha256": "c", "model": "m", "select_epoch": "last"}
    oofs, tests = [], []
    for k, (rows, p) in enumerate(zip(rows_by_fold, probs_by_fold)):
        oof = pd.DataFrame({"row": rows, "id": [f"r{r}" for r in rows], "fold": k, "label": [CLASSES[i] for i in y[rows]],
                            "prob_a": p, "prob_b": 1 - p, "last_epoch_a": p, "last_epoch_b": 1 - p})
        test = pd.DataFrame({"id": [f"t{i}" for i in range(n_test)], "prob_a": np.full(n_test, 0.2 + shift + 0.1 * k)})
        test["prob_b"] = 1 - test["prob_a"]
        oofs.append(tmp_path / f"s{seed}f{k}_oof.parquet")
        tests.append(tmp_path / f"s{seed}f{k}_test.parquet")
        write_parquet(oof, oofs[-1], meta)
        write_parquet(test, tests[-1], meta)
    return [str(p) for p in oofs], [str(p) for p in tests]


@pytest.fixture
def two_seeds(tmp_path):
    y = np.array([0, 1, 0, 1])
    rows = [np.array([0, 1]), np.array([2, 3])]
    folds_path = tmp_path / "folds.pkl"
    save_folds([(rows[1], rows[0]), (rows[0], rows[1])], folds_path)
    # seed 0 gets row 1 wrong (0.6 for class a), seed 1 gets row 2 wrong (0.3): the mean (0.5 / 0.55) fixes one
    s0 = _fold_files(tmp_path, folds_path, 0, [np.array([0.9, 0.6]), np.array([0.8, 0.1])], rows, y)
    s1 = _fold_files(tmp_path, folds_path, 1, [np.array([0.7, 0.4]), np.array([0.3, 0.2])], rows, y, shift=0.4)
    return tmp_path, str(folds_path), s0, s1


def _gather(tmp_path, folds_path, oofs, tests, **kw):
    out = {k: str(tmp_path / f"{k}.{ext}") for k, ext in (("oof", "parquet"), ("test", "parquet"), ("scores", "json"))}
    scores = gather_model("m", oofs, tests, folds_path, 4, CLASSES, "label", "accuracy", out["oof"], out["test"],
                          out["scores"], **kw)
    return scores, pd.read_parquet(out["oof"]), pd.read_parquet(out["test"])


def test_gather_averages_seeds_and_reports_their_spread(two_seeds):
    tmp_path, folds_path, (o0, t0), (o1, t1) = two_seeds
    one, _, _ = _gather(tmp_path, folds_path, o0, t0)
    assert "seeds" not in one and "cv_seed_std" not in one and "test_from" not in one  # one seed: as before
    scores, oof, test = _gather(tmp_path, folds_path, o0 + o1, t0 + t1, seeds=2)
    np.testing.assert_allclose(oof["prob_a"], [0.8, 0.5, 0.55, 0.15], rtol=1e-6)
    assert scores["cv_seeds"] == [0.75, 0.75] and scores["seeds"] == 2 and scores["cv_seed_std"] == 0.0
    assert scores["cv"] == 0.75  # row 1 at 0.5 is a tie (argmax picks class a, wrong); row 2 at 0.55 is right
    np.testing.assert_allclose(test["prob_a"], np.mean([0.2, 0.3, 0.6, 0.7]), rtol=1e-6)
    with pytest.raises(FoldwiseError, match="3 seeds"):
        _gather(tmp_path, folds_path, o0 + o1, t0 + t1, seeds=3)


@pytest.mark.parametrize("refit, want", [("full", 0.9), ("blend", (0.25 + 0.9) / 2)])
def test_gather_submits_the_refit_and_keeps_the_folds_cv(two_seeds, refit, want):
    tmp_path, folds_path, (o0, t0), _ = two_seeds
    plain, _, _ = _gather(tmp_path, folds_path, o0, t0)
    refit_test = pd.read_parquet(t0[0]).assign(prob_a=0.9, prob_b=0.1)
    write_parquet(refit_test, tmp_path / "refit.parquet", {"folds_sha256": sha256_file(folds_path), "config_sha256": "c"})
    scores, _, test = _gather(tmp_path, folds_path, o0, t0, refit=refit, refit_tests=[str(tmp_path / "refit.parquet")])
    np.testing.assert_allclose(test["prob_a"], want, rtol=1e-6)
    assert scores["cv"] == plain["cv"] and scores["folds"] == plain["folds"]
    assert scores["test_from"] == {"full": "refit", "blend": "folds+refit"}[refit]


def test_leaderboard_shows_lever_columns_only_when_used(tmp_path):
    base = {"kind": "model", "metric": "accuracy", "cv": 0.9, "folds": [0.9], "cv_honest": 0.9, "honest_by": "fixed_epochs"}
    write_json(tmp_path / "a.json", {**base, "name": "a"})
    assert not {"seeds", "cv_seed_std", "test_from", "pseudo_source"} & set(build_leaderboard([str(tmp_path / "a.json")]))
    write_json(tmp_path / "b.json", {**base, "name": "b", "seeds": 3, "cv_seed_std": 0.01, "test_from": "refit",
                                     "pseudo_source": "fold"})
    board = build_leaderboard([str(tmp_path / "a.json"), str(tmp_path / "b.json")]).set_index("name")
    assert board.loc["b", "seeds"] == 3 and board.loc["a", "seeds"] == 1 and board.loc["b", "cv_seed_std"] == 0.01
    assert board.loc["a", "test_from"] == "folds" and board.loc["b", "test_from"] == "refit"
    assert board.loc["b", "pseudo_source"] == "fold" and pd.isna(board.loc["a", "pseudo_source"])


# ----- the fold teacher -----


def test_fold_teacher_blends_the_members_fold_k_models_with_the_weights_fitted_without_fold_k(tmp_path):
    folds_path = tmp_path / "folds.pkl"
    save_folds([(np.array([1]), np.array([0])), (np.array([0]), np.array([1]))], folds_path)
    meta = {"folds_sha256": sha256_file(folds_path)}
    files = []
    for name, p in (("x", 0.9), ("y", 0.1), ("y1", 0.3)):  # y has two seeds: its fold-k mean is 0.2
        files.append(str(tmp_path / f"{name}.parquet"))
        write_parquet(pd.DataFrame({"id": ["t0", "t1"], "prob_a": [p, p], "prob_b": [1 - p, 1 - p]}), files[-1], meta)
    write_json(tmp_path / "weights.json", {"fold_weights": {"x": [0.5, 0.25], "y": [0.5, 0.75]}})
    spec = {"teacher": "duo", "kind": "ensemble", "members": ["x", "y"], "seeds": {"x": 1, "y": 2}, "task": "multiclass",
            "method": "optimize", "combiner": "mean", "power": 2.0}
    out = write_fold_teacher(spec, files, 1, str(folds_path), str(tmp_path / "fold1.parquet"), str(tmp_path / "weights.json"))
    np.testing.assert_allclose(out["prob_a"], 0.25 * 0.9 + 0.75 * 0.2, rtol=1e-6)
    model = {"teacher": "y", "kind": "model", "members": ["y"], "seeds": {"y": 2}, "task": "multiclass"}
    out = write_fold_teacher(model, files[1:], 0, str(folds_path), str(tmp_path / "y0.parquet"))
    np.testing.assert_allclose(out["prob_a"], 0.2, rtol=1e-6)


def _images_config(**student):
    stu = {"backbone": "resnet10t", "teacher": "duo", **student}
    return {"data": {"dir": "unused"}, "models": {"res": {"backbone": "resnet10t"}, "stu": stu},
            "ensembles": {"duo": {"method": "stack", "members": ["res"]}}}


def test_a_stacked_teacher_is_refused_for_fold_pseudo_labels_and_allowed_with_source_all():
    with pytest.raises(ConfigError, match=r"'models.stu.pseudo.source': fold .* method stack keeps no per-fold"):
        validate(_images_config(), files=False)
    validate(_images_config(pseudo={"source": "all"}), files=False)


def test_levers_stay_out_of_the_training_settings():
    plain = validate({"data": {"dir": "unused"}, "models": {"m": {"backbone": "resnet10t"}}}, files=False)
    levers = validate({"data": {"dir": "unused"}, "models": {"m": {"backbone": "resnet10t", "seeds": 3}}},
                      files=False)
    assert model_settings(plain, "m") == model_settings(levers, "m")  # seed 0's jobs and config hash unchanged


# ----- the DAG of a tiny classic run -----

LEVER_RUN = {
    "seed": 1,
    "data": {"kind": "timeseries", "solution": "solution.csv", "step_col": "step", "series_length": 100},
    "folds": {"n_splits": 2, "seed": 0},
    "models": {
        "rocket": {"family": "minirocket", "minirocket": {"n_kernels": 840}, "seeds": 2, "refit": "blend"},
        "lin": {"family": "logistic"},
    },
}
AFTER_ROCKET = {"gather[rocket]", "submission[rocket]", "leaderboard", "all"}
SEED1 = {"train_classic_seed[rocket,0,1]", "train_classic_seed[rocket,1,1]"}


@pytest.fixture(scope="module")
def lever_run(tmp_path_factory):
    """A finished run: rocket with 2 seeds and a blended refit per seed, lin as today."""
    from foldwise.demo import make_basicmotions_competition

    base = tmp_path_factory.mktemp("levers")
    make_basicmotions_competition(base / "comp")
    pipe = Pipeline(copy_code(base / "code"), base / "work", {**LEVER_RUN, "data": {**LEVER_RUN["data"], "dir": str(base / "comp")}})
    pipe.snakemake()
    return pipe


def _plan_with(pipe, edit) -> set[str]:
    cfg = copy.deepcopy(yaml.safe_load((pipe.work / "config.yaml").read_text()))
    edit(cfg)
    pipe.write_config(cfg, "changed.yaml")
    return summarize(pipe.plan(configfile="changed.yaml"))


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.workflow
def test_seed_and_refit_jobs_and_their_files(lever_run):
    res = lever_run.work / "results"
    for rel in ("models/rocket/fold1/seed1/oof.parquet", "models/rocket/fold1/seed1/test.parquet",
                "models/rocket/refit/test.parquet", "models/rocket/refit/seed1/test.parquet"):
        assert (res / rel).is_file(), rel
    assert not (res / "models" / "lin" / "refit").exists() and not (res / "models" / "lin" / "fold0" / "seed1").exists()
    scores = json.loads((res / "scores" / "rocket.json").read_text())
    assert scores["seeds"] == 2 and len(scores["cv_seeds"]) == 2 and scores["test_from"] == "folds+refit"
    board = pd.read_csv(res / "leaderboard.csv").set_index("name")
    assert board.loc["rocket", "seeds"] == 2 and board.loc["lin", "seeds"] == 1
    assert board.loc["lin", "test_from"] == "folds" and board.loc["rocket", "test_from"] == "folds+refit"
    seed0, seed1 = (load_state(res / "models" / "rocket" / "fold0" / rel)[1] for rel in ("best.pt", "seed1/best.pt"))
    assert seed0["seed"] == derive_seed(1, "rocket", 0) and seed1["seed"] == derive_seed(1, "rocket", 0, 1)
    refit = load_state(res / "models" / "rocket" / "refit" / "best.pt")[1]
    assert refit["seed"] == derive_seed(1, "rocket", "refit") and refit["fold"] == "refit"
    assert lever_run.plan() == []


@pytest.mark.workflow
def test_levers_change_only_their_jobs(lever_run):
    def defaults(cfg):
        cfg["models"]["rocket"].update(seeds=1, refit="none")

    assert _plan_with(lever_run, defaults) == AFTER_ROCKET  # seed 0's fold jobs are today's: nothing re-trains

    def refit_full(cfg):
        cfg["models"]["rocket"]["refit"] = "full"

    assert _plan_with(lever_run, refit_full) == AFTER_ROCKET  # full vs blend: only the gather's choice

    def lin_refit(cfg):
        cfg["models"]["lin"].update(refit="full", seeds=2)

    want = {"refit_classic[lin]", "refit_classic_seed[lin,1]", "train_classic_seed[lin,0,1]",
            "train_classic_seed[lin,1,1]", "gather[lin]", "submission[lin]", "leaderboard", "all"}
    assert _plan_with(lever_run, lin_refit) == want


@pytest.mark.workflow
def test_defaults_leave_todays_dag_as_it_was(lever_run, tmp_path):
    cfg = yaml.safe_load((lever_run.work / "config.yaml").read_text())
    bare = copy.deepcopy(cfg)
    for m in bare["models"].values():
        m.pop("seeds", None), m.pop("refit", None)
    explicit = copy.deepcopy(bare)
    for m in explicit["models"].values():
        m.update(seeds=1, refit="none")
    plans = [summarize(Pipeline(lever_run.code, tmp_path / name, c).plan()) for name, c in (("a", bare), ("b", explicit))]
    assert plans[0] == plans[1]
    assert not any(re.match(r"(train_seed|predict_seed|refit|refit_seed|train_classic_seed|refit_classic.*|fold_teacher)\[", j)
                   for j in plans[0])


@pytest.mark.workflow
def test_one_seed_of_one_fold_reruns_alone_and_byte_identically(lever_run):
    res = lever_run.work / "results"
    target = "results/models/rocket/fold1/seed1/oof.parquet"
    plan = summarize(lever_run.plan("--forcerun", target))
    assert plan == {"train_classic_seed[rocket,1,1]"} | AFTER_ROCKET
    files = [res / "models/rocket/fold1/seed1/oof.parquet", res / "models/rocket/fold1/seed1/test.parquet",
             res / "oof/rocket.parquet", res / "test/rocket.parquet", res / "submissions/rocket.csv"]
    before = [_digest(p) for p in files]
    lever_run.snakemake("--forcerun", target, "--until", "gather")
    lever_run.snakemake()
    assert [_digest(p) for p in files] == before


# ----- which teacher file a pseudo-labelled student reads -----


def _inputs_of(text: str, rule: str, wildcards: dict) -> list[str]:
    """The input files of one job in a dry run's output."""
    for block in re.split(r"\n(?=(?:local)?rule \w+:\s*\n)", "\n" + text):
        if not re.match(rf"\s*(?:local)?rule {rule}:", block):
            continue
        wc = re.search(r"^\s+wildcards: (.*)$", block, re.M)
        if wc and dict(kv.split("=", 1) for kv in wc.group(1).split(", ")) == wildcards:
            return re.search(r"^\s+input: (.*)$", block, re.M).group(1).split(", ")
    raise AssertionError(f"no job {rule} {wildcards} in the plan")


@pytest.mark.workflow
@pytest.mark.parametrize(
    "teacher, source, fold1, jobs",
    [
        ("res", "fold", "results/models/res/fold1/test.parquet", set()),
        ("res", "all", "results/test/res.parquet", set()),
        ("duo", "fold", "results/pseudo/duo/fold1.parquet", {"fold_teacher[duo,0]", "fold_teacher[duo,1]"}),
    ],
)
def test_fold_k_student_reads_the_teacher_fold_k_predictions(digits_dir, tmp_path, teacher, source, fold1, jobs):
    stu = {**TINY["models"]["res"], "teacher": teacher, "pseudo": {"source": source}}
    cfg = {**TINY, "data": {**TINY["data"], "dir": str(digits_dir)}, "models": {"res": TINY["models"]["res"], "stu": stu},
           "ensembles": {"duo": {"members": ["res"], "method": "hill_climb"}}}
    pipe = Pipeline(REPO, tmp_path / "work", cfg)  # plans only: the checkout's code
    out = pipe.snakemake("-n")
    text = out.stdout + out.stderr
    assert fold1 in _inputs_of(text, "train", {"model": "stu", "fold": "1"})
    fold0 = _inputs_of(text, "train", {"model": "stu", "fold": "0"})
    assert fold1.replace("1", "0") in fold0 if source == "fold" else fold1 in fold0
    plan = summarize(pipe.plan())
    assert {j for j in plan if j.startswith("fold_teacher")} == jobs
    if teacher == "duo":
        assert "results/ensembles/duo/weights.json" in _inputs_of(text, "fold_teacher", {"teacher": "duo", "fold": "1"})


def test_a_nets_refit_trains_for_the_folds_median_epoch():
    from foldwise.train.refit import refit_schedule
    from foldwise.train.settings import TrainConfig

    cfg = TrainConfig(model="m", backbone="resnet10t", epochs=10, select_epoch="best", patience=3)
    runs = [{"best_epoch": e, "best_weights": w} for e, w in ((4, "ema"), (7, "raw"), (6, "ema"), (9, "ema"))]
    fit, derived = refit_schedule(cfg, runs)
    assert derived == {"epochs": 7, "fold_epochs": [4, 7, 6, 9], "weights": "ema"}  # median 6.5, half up
    assert (fit.epochs, fit.select_epoch, fit.patience) == (7, "last", None)
    assert refit_schedule(TrainConfig(model="m", backbone="b", epochs=10, select_epoch="last"), runs)[0].epochs == 10
    assert refit_schedule(cfg, runs[:2])[1]["weights"] == "raw"  # a tie keeps the raw weights


@pytest.fixture(scope="module")
def net_refit_run(digits_dir, tmp_path_factory):
    """A finished tiny digits run: resnet10t, 2 folds x 2 epochs (best epoch), refit: blend."""
    base = tmp_path_factory.mktemp("net_refit")
    res = {**TINY["models"]["res"], "epochs": 2, "refit": "blend"}
    cfg = {**TINY, "data": {**TINY["data"], "dir": str(digits_dir)}, "models": {"res": res}, "ensembles": {}}
    pipe = Pipeline(copy_code(base / "code"), base / "work", cfg)
    pipe.snakemake()
    return pipe


@pytest.mark.workflow
def test_a_nets_refit_trains_on_every_row_and_blends_into_the_test_predictions(net_refit_run):
    from foldwise.jobs.seeds import job_seed

    res = net_refit_run.work / "results"
    runs = [json.loads((res / "models" / "res" / f"fold{k}" / "metrics.json").read_text()) for k in (0, 1)]
    refit = json.loads((res / "models" / "res" / "refit" / "metrics.json").read_text())
    table = pd.read_parquet(res / "data" / "train.parquet")
    assert refit["rows"] == len(table) and refit["fold_epochs"] == [r["best_epoch"] for r in runs]
    assert refit["epochs"] == refit["epochs_run"] == int(np.floor(np.median(refit["fold_epochs"]) + 0.5))
    assert refit["seed"] == job_seed(1, "res", "refit")
    refit_test = pd.read_parquet(res / "models" / "res" / "refit" / "test.parquet")
    folds = [pd.read_parquet(res / "models" / "res" / f"fold{k}" / "test.parquet") for k in (0, 1)]
    probs = [c for c in refit_test.columns if c.startswith("prob_")]
    want = (sum(f[probs].to_numpy() for f in folds) / 2 + refit_test[probs].to_numpy()) / 2
    np.testing.assert_allclose(pd.read_parquet(res / "test" / "res.parquet")[probs].to_numpy(), want, rtol=1e-5)
    assert json.loads((res / "scores" / "res.json").read_text())["test_from"] == "folds+refit"
    assert net_refit_run.plan() == []


@pytest.mark.workflow
def test_a_nets_refit_reruns_byte_identically_and_alone(net_refit_run):
    test = net_refit_run.work / "results" / "models" / "res" / "refit" / "test.parquet"
    before = _digest(test)
    plan = summarize(net_refit_run.plan("--forcerun", str(test.relative_to(net_refit_run.work))))
    assert plan == {"refit[res]", "gather[res]", "submission[res]", "leaderboard", "all"}
    net_refit_run.snakemake("--forcerun", str(test.relative_to(net_refit_run.work)))
    assert _digest(test) == before
