import numpy as np
import pandas as pd
import pytest

from foldwise.errors import FoldwiseError
from foldwise.submission import build_submission, score_submission, validate_submission

CLASSES = ["cat", "dog", "eel"]


def _test_probs(ids, rng):
    p = rng.dirichlet(np.ones(3), len(ids))
    df = pd.DataFrame(p, columns=[f"prob_{c}" for c in CLASSES])
    df.insert(0, "id", ids)
    return df


def test_label_format_follows_sample_order(rng):
    test = _test_probs(["a", "b", "c"], rng)
    sample = pd.DataFrame({"id": ["c", "a", "b"], "label": ["cat"] * 3})
    sub = build_submission(test, sample, "id", CLASSES)
    assert list(sub.columns) == ["id", "label"]
    assert list(sub["id"]) == ["c", "a", "b"]
    want = np.array(CLASSES)[test.set_index("id").loc[["c", "a", "b"]].to_numpy().argmax(1)]
    assert list(sub["label"]) == list(want)
    validate_submission(sub, sample, "id", CLASSES)


def test_probability_format_keeps_sample_column_order(rng):
    test = _test_probs(["a", "b"], rng)
    sample = pd.DataFrame({"id": ["b", "a"], "eel": 0, "cat": 0, "dog": 0})
    sub = build_submission(test, sample, "id", CLASSES)
    assert list(sub.columns) == ["id", "eel", "cat", "dog"]
    assert sub.loc[0, "eel"] == pytest.approx(test.loc[1, "prob_eel"])
    validate_submission(sub, sample, "id", CLASSES)


def test_wrong_ids_order_and_columns_are_refused(rng):
    sample = pd.DataFrame({"id": ["a", "b", "c"], "label": "cat"})
    good = pd.DataFrame({"id": ["a", "b", "c"], "label": ["cat", "dog", "eel"]})
    validate_submission(good, sample, "id", CLASSES)
    with pytest.raises(FoldwiseError, match="id order"):
        validate_submission(good.iloc[[1, 0, 2]].reset_index(drop=True), sample, "id", CLASSES)
    with pytest.raises(FoldwiseError, match="id order"):
        validate_submission(good.assign(id=["a", "b", "x"]), sample, "id", CLASSES)
    with pytest.raises(FoldwiseError, match="columns"):
        validate_submission(good.rename(columns={"label": "target"}), sample, "id", CLASSES)
    with pytest.raises(FoldwiseError, match="rows"):
        validate_submission(good.iloc[:2], sample, "id", CLASSES)
    with pytest.raises(FoldwiseError, match="unknown labels"):
        validate_submission(good.assign(label=["cat", "dog", "cow"]), sample, "id", CLASSES)
    with pytest.raises(FoldwiseError, match="no prediction"):
        build_submission(_test_probs(["a", "b"], rng), sample, "id", CLASSES)


def test_unrecognised_sample_format_is_refused(rng):
    sample = pd.DataFrame({"id": ["a"], "x": 0, "y": 0})
    with pytest.raises(FoldwiseError, match="cannot tell the submission format"):
        build_submission(_test_probs(["a"], rng), sample, "id", CLASSES)


def test_score_against_solution(tmp_path):
    sub = pd.DataFrame({"id": ["a", "b", "c", "d"], "label": ["cat", "dog", "eel", "cat"]})
    sol = tmp_path / "solution.csv"
    pd.DataFrame({"id": ["d", "c", "b", "a"], "label": ["cat", "eel", "cat", "cat"]}).to_csv(sol, index=False)
    assert score_submission(sub, sol, "id", "label", CLASSES, "accuracy") == pytest.approx(0.75)


LABELS = ["x", "y", "z"]


def test_multilabel_formats(rng):
    test = pd.DataFrame({"id": ["a", "b"], "prob_x": [0.9, 0.1], "prob_y": [0.6, 0.2], "prob_z": [0.1, 0.8]})
    thr = np.array([0.5, 0.7, 0.5])
    one_col = pd.DataFrame({"id": ["b", "a"], "tags": ""})
    sub = build_submission(test, one_col, "id", LABELS, "multilabel", thr)
    assert list(sub["tags"]) == ["z", "x"]  # y at 0.6 stays under its 0.7 threshold
    per_label = pd.DataFrame({"id": ["a", "b"], "z": 0, "x": 0, "y": 0})
    binary = build_submission(test, per_label, "id", LABELS, "multilabel", thr, per_column="binary")
    assert binary.to_dict("list") == {"id": ["a", "b"], "z": [0, 1], "x": [1, 0], "y": [0, 0]}
    validate_submission(binary, per_label, "id", LABELS, "multilabel", "binary")
    proba = build_submission(test, per_label, "id", LABELS, "multilabel", thr, per_column="proba")
    assert proba["y"].tolist() == pytest.approx([0.6, 0.2])
    with pytest.raises(FoldwiseError, match="0 or 1"):
        validate_submission(proba, per_label, "id", LABELS, "multilabel", "binary")
    with pytest.raises(FoldwiseError, match="unknown labels"):
        validate_submission(pd.DataFrame({"id": ["b", "a"], "tags": ["z w", "x"]}), one_col, "id", LABELS, "multilabel")


def test_thresholds_tuned_on_oof_beat_a_fixed_half(rng):
    from foldwise.metrics import get_metric, tune_thresholds

    y = (rng.random((3000, 4)) < 0.2).astype(float)
    p = 0.2 * y + rng.random(y.shape) * 0.4  # negatives in 0..0.4, positives in 0.2..0.6: 0.5 misses most
    f1 = get_metric("micro_f1", "multilabel")
    for mode in ("global", "per_label"):
        thr = tune_thresholds(y, p, mode)
        assert thr.shape == (4,)
        assert f1(y, (p >= thr).astype(float)) > f1(y, p) + 0.05
