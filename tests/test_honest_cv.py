"""Honest CV beside the optimistic one: the ensemble rule's files, ensembles of ensembles, the leaderboard's
columns, ``submissions: best`` and the plan-time checks of the new options."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest

from foldwise.config import ConfigError, load_schema, submission_names, validate, wants_best_submission
from foldwise.ensemble import EnsemblePaths, EnsembleSettings, make_blender, run_ensemble
from foldwise.errors import FoldwiseError
from foldwise.io import write_json, write_parquet
from foldwise.leaderboard import build_leaderboard, pick_best
from foldwise.metrics import get_metric
from foldwise.oof import fold_scores

CLASSES = ["a", "b", "c"]


def ensemble_settings(members: list[str], seed: int = 0, **settings) -> EnsembleSettings:
    """An ensemble's settings as validation would fill them: the schema's defaults, overridden by ``settings``."""
    defaults = {k: copy.deepcopy(v["default"]) for k, v in load_schema()["$defs"]["ensemble"]["properties"].items()}
    return EnsembleSettings.from_params({**defaults, **settings, "members": members, "seed": seed})


def _member_files(tmp_path, name, probs, y, folds, sha="f" * 64, test=None):
    """A gathered model's OOF and test files."""
    oof = pd.DataFrame({"id": [f"r{i}" for i in range(len(y))], "fold": folds, "label": np.array(CLASSES)[y]})
    oof[[f"prob_{c}" for c in CLASSES]] = probs.astype(np.float32)
    test_probs = probs[:10] if test is None else test
    tst = pd.DataFrame({"id": [f"t{i}" for i in range(len(test_probs))]})
    tst[[f"prob_{c}" for c in CLASSES]] = test_probs.astype(np.float32)
    meta = {"folds_sha256": sha, "config_sha256": name}
    write_parquet(oof, tmp_path / f"{name}_oof.parquet", meta)
    write_parquet(tst, tmp_path / f"{name}_test.parquet", meta)
    return str(tmp_path / f"{name}_oof.parquet"), str(tmp_path / f"{name}_test.parquet")


def _members(rng, n=400, m=6):
    """Members of falling strength on few rows: the blend helps, and fitted weights overfit a little."""
    y = rng.integers(0, 3, n)

    def member(strength):
        logits = strength * np.eye(3)[y] + rng.normal(size=(n, 3))
        e = np.exp(logits)
        return e / e.sum(1, keepdims=True)

    return [member(s) for s in np.linspace(1.5, 0.3, m)], y


def _ensemble(tmp_path, name, members, files, settings, metric="accuracy"):
    out = tmp_path / name
    settings = ensemble_settings(members, 0, **{"hill_climb_iters": 50, **settings})
    paths = EnsemblePaths(**{k: str(out / f"{k}.{'json' if k in ('weights', 'scores') else 'parquet'}")
                             for k in ("oof", "oof_nested", "test", "weights", "scores")})
    weights = run_ensemble(name, settings, [f[0] for f in files], [f[1] for f in files], CLASSES, paths,
                           target_col="label", metric=metric, task="multiclass")
    return weights, json.loads((out / "scores.json").read_text()), out


@pytest.mark.parametrize("method", ["optimize", "hill_climb", "stack"])
def test_ensemble_files_carry_the_nested_cv_beside_the_in_sample_one(tmp_path, rng, method):
    probs, y = _members(rng)
    folds = np.arange(len(y)) % 4
    names = [f"m{i}" for i in range(len(probs))]
    files = [_member_files(tmp_path, n, p, y, folds) for n, p in zip(names, probs)]
    weights, scores, out = _ensemble(tmp_path, "e", names, files, {"method": method})
    oof, nested = pd.read_parquet(out / "oof.parquet"), pd.read_parquet(out / "oof_nested.parquet")
    assert list(nested.columns) == list(oof.columns) == ["id", "fold", "label", "prob_a", "prob_b", "prob_c"]
    assert (nested["id"] == oof["id"]).all() and (nested["fold"] == oof["fold"]).all()
    assert scores["cv"] == pytest.approx(fold_scores(oof, "label", CLASSES, "accuracy")["cv"])
    assert scores["cv_nested"] == scores["cv_honest"] == pytest.approx(fold_scores(nested, "label", CLASSES, "accuracy")["cv"])
    assert len(scores["folds_nested"]) == 4 and scores["honest_by"] == "nested"
    # the nested OOF is really each fold predicted by the blender fitted without it
    probs_all = np.stack([p.astype(np.float32) for p in probs]).astype(np.float64)
    settings = ensemble_settings(names, 0, method=method, hill_climb_iters=50)
    part = make_blender(settings, "multiclass").fit(probs_all[:, folds != 2], y[folds != 2])
    np.testing.assert_allclose(nested[folds == 2][["prob_a", "prob_b", "prob_c"]], part.predict_proba(probs_all[:, folds == 2]),
                               rtol=1e-5, atol=1e-6)
    assert set(weights["fold_weights"]) == set(names) and all(len(v) == 4 for v in weights["fold_weights"].values())
    for name in names:
        fw = weights["fold_weights"][name]
        assert weights["fold_weights_std"][name] == pytest.approx(np.std(fw))
        assert weights["fold_weights_range"][name] == pytest.approx(max(fw) - min(fw))
    assert weights["oof_objective"] < weights["nested_oof_objective"]  # log loss: in-sample is optimistic
    assert sum(weights["weights"].values()) == pytest.approx(1)
    assert ("stacker" in weights) == (method == "stack") and ("combiner" in weights) == (method != "stack")


def test_equal_weights_report_the_same_cv_twice(tmp_path, rng):
    probs, y = _members(rng, m=3)
    folds = np.arange(len(y)) % 4
    files = [_member_files(tmp_path, f"m{i}", p, y, folds) for i, p in enumerate(probs)]
    weights, scores, _ = _ensemble(tmp_path, "e", ["m0", "m1", "m2"], files, {"method": "equal", "combiner": "geometric"})
    assert scores["cv"] == scores["cv_nested"] and scores["folds"] == scores["folds_nested"]
    assert scores["honest_by"] == "no_fitting" and weights["oof_objective"] == weights["nested_oof_objective"]
    assert set(weights["fold_weights_std"].values()) == {0.0} and weights["combiner"] == "geometric"


def test_an_ensemble_of_ensembles_takes_the_member_ensembles_nested_oof(tmp_path, rng):
    probs, y = _members(rng, m=4)
    folds = np.arange(len(y)) % 4
    files = [_member_files(tmp_path, f"m{i}", p, y, folds) for i, p in enumerate(probs)]
    _, inner_scores, inner = _ensemble(tmp_path, "inner", ["m1", "m2", "m3"], files[1:], {"method": "optimize"})
    inner_files = (str(inner / "oof_nested.parquet"), str(inner / "test.parquet"))
    weights, scores, out = _ensemble(tmp_path, "outer", ["inner", "m0"], [inner_files, files[0]],
                                     {"method": "hill_climb"})
    assert set(weights["weights"]) == {"inner", "m0"} and scores["honest_by"] == "nested"
    # the inner ensemble enters with its honest OOF, so the outer weighs it by its honest score
    inner_nested = pd.read_parquet(inner / "oof_nested.parquet")
    ll = get_metric("log_loss")
    y_enc = np.array([CLASSES.index(v) for v in inner_nested["label"]])
    assert weights["member_oof_objective"]["inner"] == pytest.approx(ll(y_enc, inner_nested.filter(like="prob_").to_numpy()))
    assert len(pd.read_parquet(out / "test.parquet")) == 10
    # members must share the split: hash and fold assignment
    other = _member_files(tmp_path, "x", probs[0], y, (folds + 1) % 4)
    with pytest.raises(FoldwiseError, match="other folds"):
        _ensemble(tmp_path, "bad", ["inner", "x"], [inner_files, other], {"method": "optimize"})
    other = _member_files(tmp_path, "z", probs[0], y, folds, sha="0" * 64)
    with pytest.raises(FoldwiseError, match="different fold splits"):
        _ensemble(tmp_path, "bad", ["inner", "z"], [inner_files, other], {"method": "optimize"})


def test_make_blender_lists_the_methods():
    with pytest.raises(KeyError, match="optimize, hill_climb, equal, given, stack"):
        make_blender(ensemble_settings(["a"], 0, method="blend"), "multiclass")


# ----- leaderboard and submissions: best ---------------------------------------------------------------------


def _scores(tmp_path, name, kind, cv, honest, how, last=None):
    s = {"name": name, "kind": kind, "metric": "accuracy", "task": "multiclass", "cv": cv, "folds": [cv, cv],
         "cv_honest": honest, "honest_by": how, "folds_sha256": "f" * 64, "config_sha256": name * 12}
    if last is not None:
        s["cv_last_epoch"] = last
    write_json(tmp_path / f"{name}.json", s)
    return str(tmp_path / f"{name}.json")


@pytest.fixture
def boards(tmp_path):
    return [
        _scores(tmp_path, "picky", "model", 0.95, 0.90, "last_epoch", last=0.90),  # best epoch on its validation rows
        _scores(tmp_path, "fixed", "model", 0.92, 0.92, "fixed_epochs", last=0.92),
        _scores(tmp_path, "fitted", "ensemble", 0.97, 0.91, "nested"),  # the in-sample favourite
        _scores(tmp_path, "equal", "ensemble", 0.93, 0.93, "no_fitting"),
    ]


def test_leaderboard_ranks_by_honest_cv_and_shows_the_optimism(boards):
    board = build_leaderboard(boards)
    assert list(board["name"]) == ["equal", "fixed", "fitted", "picky"]
    assert list(board.columns[:9]) == ["name", "kind", "metric", "cv", "cv_no_tta", "cv_is", "cv_honest", "honest_by", "optimism"]
    row = board.set_index("name")
    assert row.loc["fitted", "cv_is"] == "in_sample" and row.loc["picky", "cv_is"] == "selected_epoch"
    assert row.loc["equal", "cv_is"] == row.loc["fixed", "cv_is"] == "honest"
    assert row.loc["fitted", "optimism"] == pytest.approx(0.06) and row.loc["picky", "optimism"] == pytest.approx(0.05)
    assert row.loc["picky", "cv_last_epoch"] == 0.90 and np.isnan(row.loc["fitted", "cv_last_epoch"])
    assert "selected" not in board and "holdout" not in board


def test_best_submission_is_picked_by_honest_cv_never_in_sample(boards, tmp_path):
    pick = pick_best(boards)
    assert pick["picked"] == "equal" and pick["by"] == "cv_honest" and pick["cv_honest"] == 0.93
    # by the cv column it would have been the fitted ensemble (0.97), then the epoch-picked model (0.95)
    assert build_leaderboard(boards).sort_values("cv", ascending=False)["name"].iloc[0] == "fitted"
    write_json(tmp_path / "best_report.json", {"name": "best", "holdout": 0.9, **pick})
    write_json(tmp_path / "fixed_report.json", {"name": "fixed", "holdout": 0.88})
    board = build_leaderboard(boards, {"fixed": str(tmp_path / "fixed_report.json"),
                                       "best": str(tmp_path / "best_report.json")}).set_index("name")
    assert board["selected"].to_dict() == {"equal": True, "fixed": False, "fitted": False, "picky": False}
    assert board.loc["equal", "holdout"] == 0.9 and board.loc["fixed", "holdout"] == 0.88
    assert board["holdout"].isna().sum() == 2


def test_log_loss_optimism_is_positive_when_the_in_sample_loss_is_lower(tmp_path):
    s = {"name": "e", "kind": "ensemble", "metric": "log_loss", "task": "multiclass", "cv": 0.30, "folds": [0.3],
         "cv_honest": 0.35, "honest_by": "nested"}
    write_json(tmp_path / "e.json", s)
    write_json(tmp_path / "m.json", {**s, "name": "m", "cv": 0.33, "cv_honest": 0.33, "honest_by": "fixed_epochs"})
    board = build_leaderboard([str(tmp_path / "e.json"), str(tmp_path / "m.json")])
    assert list(board["name"]) == ["m", "e"] and board["optimism"].tolist() == pytest.approx([0.0, 0.05])
    assert pick_best([str(tmp_path / "e.json"), str(tmp_path / "m.json")])["picked"] == "m"


# ----- config: the new options and their plan-time checks ----------------------------------------------------

BASE = {"models": {"m": {"backbone": "resnet10t"}, "n": {"backbone": "resnet10t"}},
        "ensembles": {"e": {"members": ["m", "n"]}}}


def _problems(**over) -> list[str]:
    cfg = copy.deepcopy({**BASE, **over})
    try:
        validate(cfg)
    except ConfigError as exc:
        return exc.problems
    return []


def test_new_options_have_defaults():
    cfg = validate(copy.deepcopy(BASE))
    assert cfg["models"]["m"]["select_epoch"] == "best" and cfg["models"]["m"]["inner_fraction"] == 0.2
    ens = cfg["ensembles"]["e"]
    assert (ens["combiner"], ens["power"], ens["stacker"], ens["stacker_params"]) == ("mean", 2, "logistic", {})


def test_ensembles_of_ensembles_and_their_cycles():
    ok = {"e": {"members": ["m", "n"]}, "f": {"members": ["e", "m"], "method": "stack"}}
    assert _problems(ensembles=ok) == []
    assert _problems(ensembles={"e": {"members": ["f", "m"]}, "f": {"members": ["e"]}}) == [
        "config key 'ensembles.f.members': reference cycle: e -> f -> e"]
    assert _problems(ensembles={"e": {"members": ["m", "ee"]}}) == [
        "config key 'ensembles.e.members': 'ee' is not a model or an ensemble (did you mean 'e'?); names: m, n, e"]


@pytest.mark.parametrize(
    "over, message",
    [
        ({"models": {**BASE["models"], "m": {"backbone": "resnet10t", "select_epoch": "last", "patience": 3}}},
         "config key 'models.m.patience': early stopping watches the validation rows, which select_epoch: last "
         "keeps out of every choice; use select_epoch: inner (early stopping on an inner split) or remove it"),
        ({"models": {**BASE["models"], "m": {"backbone": "resnet10t", "inner_fraction": 0.3}}},
         "config key 'models.m.inner_fraction': used only by select_epoch: inner (it is 'best'); set it or remove this key"),
        ({"ensembles": {"e": {"power": 3}}},
         "config key 'ensembles.e.power': used only by combiner: power (it is 'mean'); set it or remove this key"),
        ({"ensembles": {"e": {"stacker_params": {"C": 2}}}},
         "config key 'ensembles.e.stacker_params': used only by method: stack (it is 'optimize'); set it or remove this key"),
        ({"ensembles": {"e": {"method": "stack", "combiner": "geometric"}}},
         "config key 'ensembles.e.combiner': not used by method 'stack' (its learner combines the members); "
         "remove it or choose another method"),
        ({"ensembles": {"e": {"combiner": "rank"}}},
         "config key 'ensembles.e.objective': log_loss cannot score ranks (ensemble 'e' has combiner: rank); "
         "use an order-based metric such as roc_auc"),
        ({"metric": "log_loss", "ensembles": {"e": {"combiner": "rank", "objective": "roc_auc"}}},
         "config key 'metric': log_loss cannot score ranks (ensemble 'e' has combiner: rank)"),
        ({"ensembles": {"e": {"method": "stack", "stacker": "sklearn.linear_model.LogistikRegression"}}},
         "config key 'ensembles.e.stacker': module sklearn.linear_model has no 'LogistikRegression'"),
        ({"ensembles": {"e": {"method": "stack", "stacker_params": {"c": 2}}}},
         "config key 'ensembles.e.stacker_params': logistic has no parameter 'c' (did you mean 'C'?); valid: C, "),
        ({"submissions": ["best", "gone"]}, "config key 'submissions': 'gone' is not a model or an ensemble"),
        ({"models": {"best": {"backbone": "resnet10t"}, "n": {"backbone": "resnet10t"}},
          "ensembles": {"e": {"members": ["best", "n"]}}, "submissions": "best"},
         "config key 'submissions': 'best' is ambiguous: a model has that name; rename models.best"),
    ],
)
def test_contradictory_or_unknown_new_settings_stop_the_plan(over, message):
    problems = _problems(**over)
    assert len(problems) == 1 and problems[0].startswith(message), problems


def test_submissions_best_alone_or_in_a_list():
    cfg = validate(copy.deepcopy({**BASE, "submissions": "best"}))
    assert submission_names(cfg) == [] and wants_best_submission(cfg)
    cfg = validate(copy.deepcopy({**BASE, "submissions": ["e", "best"]}))
    assert submission_names(cfg) == ["e"] and wants_best_submission(cfg)
    cfg = validate(copy.deepcopy({**BASE, "models": {"best": {"backbone": "resnet10t"}}, "ensembles": {}}))
    assert submission_names(cfg) == ["best"] and not wants_best_submission(cfg)  # null: a model named best is fine


def test_the_demo_report_names_the_best_by_honest_cv(boards, tmp_path):
    from foldwise.demo import report

    board = build_leaderboard(boards)
    board.insert(8, "holdout", [0.9, 0.88, 0.87, 0.86])
    (tmp_path / "results").mkdir()
    board.to_csv(tmp_path / "results" / "leaderboard.csv", index=False)
    assert report(tmp_path / "results").endswith(
        "best by honest CV: equal (ensemble, no_fitting); held-back solution accuracy: 0.9000")
