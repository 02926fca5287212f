import numpy as np
import pytest

from foldwise.ensemble import WeightedSoftVoting
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
