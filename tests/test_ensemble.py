import numpy as np
import pytest

from foldwise.ensemble import COMBINERS, EnsembleSettings, Stacker, WeightedSoftVoting, get_combiner, load_learner
from foldwise.errors import FoldwiseError
from foldwise.metrics import get_metric


def _members(rng, n=3000, k=4):
    """Three members: informative, weaker, and noise."""
    y = rng.integers(0, k, n)
    onehot = np.eye(k)[y]

    def noisy(strength):
        logits = strength * onehot + rng.normal(size=(n, k))
        e = np.exp(logits - logits.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)

    return np.stack([noisy(3.0), noisy(1.5), noisy(0.0)]), y


def test_recovers_known_weights(rng):
    # Truth is a known mixture of two "sources": the true class is drawn from
    # 0.7 * A + 0.3 * B, so the log-loss optimum is w = (0.7, 0.3).
    n, k = 40000, 3
    a = rng.dirichlet(np.ones(k) * 0.3, n)
    b = rng.dirichlet(np.ones(k) * 0.3, n)
    mix = 0.7 * a + 0.3 * b
    y = (rng.random(n)[:, None] > np.cumsum(mix, 1)).sum(1)
    for method in ("optimize", "hill_climb"):
        w = WeightedSoftVoting(method=method, hill_climb_iters=200).fit(np.stack([a, b]), y).weights_
        assert w == pytest.approx([0.7, 0.3], abs=0.03), method


@pytest.mark.parametrize("method", ["optimize", "hill_climb"])
@pytest.mark.parametrize("objective", ["log_loss", "accuracy"])
def test_never_worse_than_best_member(rng, method, objective):
    probs, y = _members(rng)
    metric = get_metric(objective)
    blend = WeightedSoftVoting(method=method, objective=objective).fit(probs, y)
    best = min(metric.loss(y, p) for p in probs)
    assert metric.loss(y, blend.predict_proba(probs)) <= best + 1e-12
    assert blend.weights_.sum() == pytest.approx(1.0)
    assert (blend.weights_ >= 0).all()
    assert blend.weights_[2] < 0.05  # the noise member is (almost) dropped


def test_given_and_equal_weights(rng):
    probs, y = _members(rng, n=100)
    given = WeightedSoftVoting(method="given", weights=[2, 1, 1]).fit(probs, y)
    assert given.weights_ == pytest.approx([0.5, 0.25, 0.25])
    np.testing.assert_allclose(given.predict_proba(probs), 0.5 * probs[0] + 0.25 * probs[1] + 0.25 * probs[2])
    assert WeightedSoftVoting(method="equal").fit(probs, y).weights_ == pytest.approx([1 / 3] * 3)


def test_fit_returns_self_and_unknown_method_lists_valid(rng):
    probs, y = _members(rng, n=50)
    blender = WeightedSoftVoting()
    assert blender.fit(probs, y) is blender
    with pytest.raises(KeyError, match="hill_climb"):
        WeightedSoftVoting(method="stacking").fit(probs, y)


def test_multilabel_blend_never_worse_than_best_member(rng):
    n, labels = 2000, 5
    y = (rng.random((n, labels)) < 0.3).astype(float)

    def member(strength):
        z = strength * (2 * y - 1) + rng.normal(size=y.shape)
        return 1 / (1 + np.exp(-z))

    probs = np.stack([member(2.0), member(1.0), member(0.0)])
    for objective in ("log_loss", "micro_f1"):
        for method in ("optimize", "hill_climb"):
            metric = get_metric(objective, "multilabel")
            blend = WeightedSoftVoting(method=method, objective=objective, task="multilabel").fit(probs, y)
            assert metric.loss(y, blend.predict_proba(probs)) <= min(metric.loss(y, p) for p in probs) + 1e-12
            assert blend.weights_[2] < 0.1


def _mixture(rng, task, n, k, w=(0.7, 0.3)):
    """Members a, b and a useless c; the truth is drawn from w[0] * a + w[1] * b.

    a and b carry independent information (where one is confident and wrong the
    other often is not), so the best blend is the interior mix ``w`` and c gets nothing.
    """
    if task == "multiclass":
        a, b, c = (rng.dirichlet(np.full(k, 0.3), n) for _ in range(3))
        y = (rng.random(n)[:, None] > np.cumsum(w[0] * a + w[1] * b, 1)).sum(1)
    else:
        a, b, c = (rng.beta(0.3, 0.3, (n, k)) for _ in range(3))
        y = (rng.random((n, k)) < w[0] * a + w[1] * b).astype(float)
    return np.stack([a, b, c]), y


@pytest.mark.parametrize("method", ["optimize", "hill_climb"])
@pytest.mark.parametrize(
    "task, objective, tol, noise_max",
    [("multiclass", "log_loss", 0.04, 0.02), ("multilabel", "log_loss", 0.04, 0.02),
     # Accuracy-like objectives are flat near their optimum: looser bounds, still far from (1, 0, 0) and 1/3 each.
     ("multiclass", "accuracy", 0.15, 0.2), ("multilabel", "micro_f1", 0.15, 0.2)],
)
def test_fitted_weights_find_the_interior_mix_and_drop_the_useless_member(rng, task, objective, tol, noise_max, method):
    # The "never worse than the best member" fallback alone would return (1, 0, 0) and fail here.
    n, k = (8000, 3) if task == "multiclass" else (3000, 4)
    probs, y = _mixture(rng, task, n, k)
    metric = get_metric(objective, task)
    blend = WeightedSoftVoting(method=method, objective=objective, task=task).fit(probs, y)
    w = blend.weights_
    assert w.sum() == pytest.approx(1.0) and (w >= 0).all()
    assert w[:2] == pytest.approx([0.7, 0.3], abs=tol)  # log loss is proper: its optimum is the true mix
    assert w[2] < noise_max
    assert blend.score_ == pytest.approx(metric(y, blend.predict_proba(probs)))
    best_member = min(metric.loss(y, p) for p in probs)
    gain = 0.02 if objective == "log_loss" else 0.003  # accuracy-like metrics move in steps
    assert metric.loss(y, blend.predict_proba(probs)) < best_member - gain


@pytest.mark.parametrize("task, objective", [("multiclass", "accuracy"), ("multilabel", "micro_f1")])
def test_equal_and_given_weights_are_kept_even_when_worse_than_a_member(rng, task, objective):
    probs, y = _mixture(rng, task, 2000, 3)
    metric = get_metric(objective, task)
    equal = WeightedSoftVoting(method="equal", objective=objective, task=task).fit(probs, y)
    assert equal.weights_ == pytest.approx([1 / 3] * 3)
    assert equal.score_ == pytest.approx(metric(y, probs.mean(0)))
    assert metric.better(equal.member_scores_[0], equal.score_ + (-0.03 if metric.greater_is_better else 0.03))
    given = WeightedSoftVoting(method="given", weights=[0, 1, 3], objective=objective, task=task).fit(probs, y)
    assert given.weights_ == pytest.approx([0, 0.25, 0.75])
    np.testing.assert_allclose(given.predict_proba(probs), 0.25 * probs[1] + 0.75 * probs[2])
    assert given.score_ == pytest.approx(metric(y, 0.25 * probs[1] + 0.75 * probs[2]))
    assert metric.better(given.member_scores_[0], given.score_ + (-0.1 if metric.greater_is_better else 0.1))
    with pytest.raises(ValueError, match="non-negative"):
        WeightedSoftVoting(method="given", weights=[1, -1, 1], task=task).fit(probs, y)


# ----- combiners --------------------------------------------------------------------------------------------



def test_combiners_by_hand():
    a = np.array([[0.6, 0.3, 0.1], [0.2, 0.2, 0.6]])
    b = np.array([[0.2, 0.5, 0.3], [0.1, 0.1, 0.8]])
    w = np.array([0.75, 0.25])

    def blend(name, task="multiclass", power=2.0, probs=(a, b)):
        comb = get_combiner(name, task, power)
        return comb.output(np.tensordot(w, comb.prepare(np.stack(probs)), 1))

    np.testing.assert_allclose(blend("mean"), 0.75 * a + 0.25 * b)
    geo = a**0.75 * b**0.25
    np.testing.assert_allclose(blend("geometric"), geo / geo.sum(1, keepdims=True))
    pw = np.sqrt(0.75 * a**2 + 0.25 * b**2)
    np.testing.assert_allclose(blend("power"), pw / pw.sum(1, keepdims=True))
    np.testing.assert_allclose(blend("power", power=1.0), 0.75 * a + 0.25 * b)
    np.testing.assert_allclose(blend("power", power=1e-4), blend("geometric"), atol=1e-3)  # a -> 0: geometric
    # rank: each class's ranks over the rows (1..N, ties averaged) / N, weighted, rows renormalised
    ra, rb = np.array([[1.0, 1.0, 0.5], [0.5, 0.5, 1.0]]), np.array([[1.0, 1.0, 0.5], [0.5, 0.5, 1.0]])
    np.testing.assert_allclose(blend("rank"), ra / ra.sum(1, keepdims=True))
    # multilabel: log-odds pooled through the sigmoid; ranks not renormalised
    logit = lambda p: np.log(p / (1 - p))  # noqa: E731
    np.testing.assert_allclose(blend("geometric", "multilabel"), 1 / (1 + np.exp(-(0.75 * logit(a) + 0.25 * logit(b)))))
    np.testing.assert_allclose(blend("rank", "multilabel"), 0.75 * ra + 0.25 * rb)
    with pytest.raises(KeyError, match="mean, geometric, power, rank"):
        get_combiner("median")


@pytest.mark.parametrize("name", ["mean", "geometric", "power"])
@pytest.mark.parametrize("task", ["multiclass", "multilabel"])
def test_combiner_log_loss_gradients_match_finite_differences(rng, name, task):
    n, k = 50, 4
    probs = rng.dirichlet(np.ones(k), (3, n)) if task == "multiclass" else rng.uniform(0.05, 0.95, (3, n, k))
    y = rng.integers(0, k, n) if task == "multiclass" else (rng.random((n, k)) < 0.4).astype(float)
    comb, metric = get_combiner(name, task, 1.7), get_metric("log_loss", task)
    z = comb.prepare(probs)
    w = np.array([0.5, 0.3, 0.2])
    grad = np.tensordot(z, comb.log_loss_grad(np.tensordot(w, z, 1), y), 2)
    h = 1e-6
    numeric = [(metric(y, comb.output(np.tensordot(w + h * e, z, 1))) - metric(y, comb.output(np.tensordot(w - h * e, z, 1))))
               / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-7)


def _pooled_truth(rng, task, combiner, n, k, w=(0.7, 0.3)):
    """Members a, b and a useless c; the truth is the ``combiner`` pool of a and b with weights ``w``.

    Log loss is proper: the pool's optimum over (a, b, c) is then exactly ``(w, 0)``.
    """
    if task == "multiclass":
        a, b, c = (rng.dirichlet(np.full(k, 0.5), n) for _ in range(3))
    else:
        a, b, c = (rng.beta(0.5, 0.5, (n, k)) for _ in range(3))
    comb = get_combiner(combiner, task, 2.0)
    p = comb.output(np.tensordot(np.array(w), comb.prepare(np.stack([a, b])), 1))
    if task == "multiclass":
        y = np.minimum((rng.random(n)[:, None] > np.cumsum(p, 1)).sum(1), k - 1)
    else:
        y = (rng.random((n, k)) < p).astype(float)
    return np.stack([a, b, c]), y


@pytest.mark.parametrize("method", ["optimize", "hill_climb"])
@pytest.mark.parametrize("combiner", ["geometric", "power"])
@pytest.mark.parametrize("task", ["multiclass", "multilabel"])
def test_each_combiner_finds_the_weights_its_pool_was_drawn_with(rng, task, combiner, method):
    n, k = (8000, 3) if task == "multiclass" else (3000, 4)
    probs, y = _pooled_truth(rng, task, combiner, n, k)
    blend = WeightedSoftVoting(method=method, combiner=combiner, task=task).fit(probs, y)
    assert blend.weights_ == pytest.approx([0.7, 0.3, 0.0], abs=0.04)
    metric = get_metric("log_loss", task)
    assert blend.score_ == pytest.approx(metric(y, blend.predict_proba(probs)))
    assert blend.score_ < blend.member_scores_.min() - 0.05
    # the arithmetic mean cannot express this truth as well as the right pool (power 2 is close to it)
    assert WeightedSoftVoting(method=method, task=task).fit(probs, y).score_ > blend.score_ + 0.001


@pytest.mark.parametrize("task", ["multiclass", "multilabel"])
def test_rank_mean_fits_auc_and_drops_the_useless_member(rng, task):
    n, k = (3000, 3) if task == "multiclass" else (1500, 4)
    probs, y = _pooled_truth(rng, task, "mean", n, k)
    metric = get_metric("roc_auc", task)
    for method in ("optimize", "hill_climb"):
        blend = WeightedSoftVoting(method=method, combiner="rank", objective="roc_auc", task=task,
                                   hill_climb_iters=30).fit(probs, y)
        assert blend.weights_[2] < 0.05 and blend.weights_[0] > blend.weights_[1] > 0.15, method
        assert blend.score_ > blend.member_scores_.max() + 0.01
        out = blend.predict_proba(probs)
        assert blend.score_ == pytest.approx(metric(y, out))
        if task == "multiclass":
            np.testing.assert_allclose(out.sum(1), 1)
    with pytest.raises(ValueError, match="AUC-type"):
        WeightedSoftVoting(combiner="rank", objective="log_loss", task=task).fit(probs, y)


# ----- nested (honest) CV ---------------------------------------------------------------------------------


def _noise_members(rng, n=80, k=3, m=40, temp=0.7):
    """One weakly informative member and m - 1 that are pure noise, on few rows: in-sample fits overfit."""
    y = rng.integers(0, k, n)

    def member(strength):
        logits = strength * np.eye(k)[y] + temp * rng.normal(size=(n, k))
        e = np.exp(logits)
        return e / e.sum(1, keepdims=True)

    return np.stack([member(0.7)] + [member(0.0) for _ in range(m - 1)]), y


@pytest.mark.parametrize(
    "blender, in_gain, nested_loss",
    [
        (WeightedSoftVoting(method="optimize"), 0.005, 0.01),
        (WeightedSoftVoting(method="hill_climb"), 0.005, 0.01),
        (WeightedSoftVoting(method="hill_climb", objective="accuracy"), 0.1, 0.0),
        (Stacker(), 0.5, 0.3),
    ],
    ids=["optimize", "hill_climb", "hill_climb-accuracy", "stack"],
)
def test_nested_cv_exposes_weights_that_overfit_their_oof_rows(rng, blender, in_gain, nested_loss):
    # 80 rows, 40 members, 39 of them noise: in-sample, the blend "beats" the best member; nested, it does not.
    probs, y = _noise_members(rng)
    folds = np.arange(len(y)) % 5
    fitted = blender.fit(probs, y, folds=folds)
    metric = get_metric(blender.objective)
    sign = -1 if metric.greater_is_better else 1  # losses
    best = min(sign * s for s in fitted.member_scores_)
    in_sample, nested = sign * fitted.score_, sign * fitted.nested_score_
    assert in_sample < best - in_gain  # what every in-sample tool reports: the blend helps
    assert nested >= best + nested_loss  # the honest number: it does not
    assert nested > in_sample + in_gain + nested_loss
    assert fitted.nested_score_ == pytest.approx(metric(y, fitted.nested_proba_))
    assert fitted.fold_weights_.shape == (5, 40)
    np.testing.assert_allclose(fitted.fold_weights_.sum(1), 1)


def test_nested_cv_agrees_with_in_sample_when_weights_are_well_determined(rng):
    probs, y = _mixture(rng, "multiclass", 8000, 3)
    folds = np.arange(len(y)) % 5
    for blender in (WeightedSoftVoting(method="optimize"), WeightedSoftVoting(method="hill_climb"), Stacker()):
        fitted = blender.fit(probs, y, folds=folds)
        assert fitted.nested_score_ == pytest.approx(fitted.score_, abs=0.01)
    spread = WeightedSoftVoting().fit(probs, y, folds).fold_weights_.std(0)
    assert spread.max() < 0.02  # the same weights in every fold


@pytest.mark.parametrize("task", ["multiclass", "multilabel"])
@pytest.mark.parametrize("combiner", ["mean", "geometric", "rank"])
def test_equal_and_given_weights_have_the_same_nested_and_in_sample_cv(rng, task, combiner):
    probs, y = _mixture(rng, task, 600, 3)
    folds = rng.integers(0, 4, len(y))
    objective = "roc_auc" if combiner == "rank" else "log_loss"
    for kw in ({"method": "equal"}, {"method": "given", "weights": [3, 1, 0]}):
        fitted = WeightedSoftVoting(**kw, combiner=combiner, objective=objective, task=task).fit(probs, y, folds)
        np.testing.assert_array_equal(fitted.nested_proba_, fitted.predict_proba(probs))
        assert fitted.nested_score_ == fitted.score_  # row by row the same blend: the same number
        np.testing.assert_allclose(fitted.fold_weights_, np.tile(fitted.weights_, (4, 1)))


# ----- stacking ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("task", ["multiclass", "multilabel"])
def test_stacker_learns_from_the_informative_members(rng, task):
    n, k = (3000, 3) if task == "multiclass" else (1500, 4)
    probs, y = _mixture(rng, task, n, k)
    stack = Stacker(task=task)
    assert stack.fit(probs, y, folds=np.arange(n) % 4) is stack
    metric = get_metric("log_loss", task)
    out = stack.predict_proba(probs)
    assert out.shape == (n, k) and stack.score_ == pytest.approx(metric(y, out))
    assert stack.nested_score_ < stack.member_scores_.min() - 0.05  # honest, and better than any member
    assert stack.weights_.sum() == pytest.approx(1) and stack.weights_[2] < 0.1  # the useless member: no weight
    assert len(stack.models_) == (1 if task == "multiclass" else k)
    if task == "multiclass":
        np.testing.assert_allclose(out.sum(1), 1)


def test_stacker_takes_any_sklearn_classifier_by_import_path(rng):
    probs, y = _mixture(rng, "multiclass", 600, 3)
    stack = Stacker("sklearn.tree.DecisionTreeClassifier", {"max_depth": 3}, seed=7).fit(probs, y, np.arange(600) % 3)
    assert stack.models_[0].max_depth == 3 and stack.models_[0].random_state == 7
    assert stack.weights_[2] < 0.1 and stack.nested_score_ > stack.score_
    for path, message in [("sklearn.tree.NoSuchTree", "has no 'NoSuchTree'"), ("nosuchpkg.Model", "cannot import"),
                          ("sklearn.metrics.accuracy_score", "not a classifier class"), ("tree", "not an import path")]:
        with pytest.raises(ValueError, match=message):
            load_learner(path)


def test_multilabel_stacker_predicts_a_label_missing_from_its_training_rows_by_its_rate(rng):
    probs, y = _mixture(rng, "multilabel", 400, 3)
    y[:, 1] = 0
    stack = Stacker(task="multilabel").fit(probs, y, np.arange(400) % 4)
    assert (stack.predict_proba(probs)[:, 1] == 0).all() and (stack.nested_proba_[:, 1] == 0).all()


def test_blenders_follow_sklearn_conventions(rng):
    from sklearn.base import clone

    probs, y = _members(rng, n=60)
    for blender in (WeightedSoftVoting(method="hill_climb", combiner="geometric"), Stacker(params={"C": 0.5})):
        assert clone(blender).get_params() == blender.get_params()
        assert not [k for k in vars(blender) if k.endswith("_")]  # nothing learned before fit
        blender.fit(probs, y)
        learned = [k for k in vars(blender) if k not in blender.get_params()]
        assert learned and all(k.endswith("_") for k in learned)
        assert not hasattr(blender, "nested_score_")  # nested only when folds are given
    assert set(COMBINERS) == {"mean", "geometric", "power", "rank"}


def test_ensemble_settings_give_back_the_rules_params_and_their_hash():
    """The rule's params stay Plan.ensemble_params' dict (no run re-runs); the settings built from it in the job
    give it back key for key and type for type, so the ensemble's config_sha256 is unchanged."""
    from foldwise.config import validate
    from foldwise.io import sha256_json
    from foldwise.workflow.plan import Plan

    cfg = validate({"models": {"m": {"backbone": "resnet10t"}, "n": {"backbone": "resnet10t"}},
                    "ensembles": {"e": {"combiner": "power"}, "s": {"members": ["e", "m"], "method": "stack"}}})
    plan = Plan(cfg)
    for name in ("e", "s"):
        params = plan.ensemble_params(name)
        settings = EnsembleSettings.from_params(params)
        assert settings.as_params() == params and sha256_json(settings.as_params()) == sha256_json(params)
        assert settings.seed == cfg["seed"] and list(settings.members) == plan.ensemble_members(name)
    assert type(EnsembleSettings.from_params(plan.ensemble_params("e")).power) is int  # 2 as written: same JSON
    with pytest.raises(FoldwiseError, match=r"missing \['combiner'\], unknown \['combiners'\]"):
        params = plan.ensemble_params("e")
        params["combiners"] = params.pop("combiner")
        EnsembleSettings.from_params(params)
