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
