import pickle

import numpy as np
import pytest

from foldwise.errors import FoldwiseError
from foldwise.folds import fold_of_rows, load_folds, make_folds, save_folds


def _check_partition(folds, n):
    owner = fold_of_rows(folds, n)  # raises unless every row is validated exactly once
    for k, (tr, va) in enumerate(folds):
        assert len(np.intersect1d(tr, va)) == 0
        assert len(tr) + len(va) == n
        assert (owner[va] == k).all()


@pytest.mark.parametrize("scheme", ["kfold", "stratified", "group", "stratified_group"])
def test_every_scheme_partitions_rows(scheme, rng):
    y = rng.integers(0, 3, 120)
    groups = rng.integers(0, 30, 120)
    folds = make_folds(y, scheme, 5, seed=1, groups=groups)
    assert len(folds) == 5
    _check_partition(folds, 120)


def test_stratification_holds(rng):
    y = np.repeat([0, 1, 2], [200, 50, 10])
    for tr, va in make_folds(y, "stratified", 5, seed=3):
        counts = np.bincount(y[va], minlength=3)
        assert np.all(np.abs(counts - np.array([40, 10, 2])) <= 1)


@pytest.mark.parametrize("scheme", ["group", "stratified_group"])
def test_groups_never_split(scheme, rng):
    y = rng.integers(0, 2, 300)
    groups = rng.integers(0, 40, 300)
    for tr, va in make_folds(y, scheme, 4, seed=0, groups=groups):
        assert not set(groups[tr]) & set(groups[va])


def test_same_seed_same_bytes_and_other_seed_differs(tmp_path, rng):
    y = rng.integers(0, 4, 200)
    a, b, c = tmp_path / "a.pkl", tmp_path / "b.pkl", tmp_path / "c.pkl"
    save_folds(make_folds(y, "stratified", 5, seed=7), a)
    save_folds(make_folds(y, "stratified", 5, seed=7), b)
    save_folds(make_folds(y, "stratified", 5, seed=8), c)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    loaded = load_folds(a)
    assert all(isinstance(t, tuple) and t[0].dtype == np.int64 for t in loaded)


def test_more_folds_than_rarest_class_is_refused():
    y = np.array([0] * 20 + [1] * 3)
    with pytest.raises(FoldwiseError, match="only 3 rows"):
        make_folds(y, "stratified", 5, seed=0)
    with pytest.raises(FoldwiseError, match="class 'Sea Lion' has only 3 rows"):
        make_folds(y, "stratified", 5, seed=0, classes=["cat", "Sea Lion"])


def test_group_scheme_without_groups_is_refused():
    with pytest.raises(FoldwiseError, match="group_col"):
        make_folds(np.zeros(10, int), "group", 2, seed=0)


def test_unknown_scheme_lists_valid_names():
    with pytest.raises(KeyError, match="stratified_group"):
        make_folds(np.zeros(10, int), "leave_one_out", 2, seed=0)


class _Payload:
    def __reduce__(self):
        import os

        return (os.system, ("touch pwned",))


def test_crafted_pickle_is_refused_and_nothing_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "folds.pkl"
    path.write_bytes(pickle.dumps([_Payload()]))
    with pytest.raises(FoldwiseError, match="not a foldwise folds file"):
        load_folds(path)
    assert not (tmp_path / "pwned").exists()


def test_pickle_of_wrong_shape_is_refused(tmp_path):
    path = tmp_path / "folds.pkl"
    path.write_bytes(pickle.dumps([(np.arange(3.0), np.arange(2))]))
    with pytest.raises(FoldwiseError, match="integer arrays"):
        load_folds(path)


def test_multilabel_targets_use_iterative_stratification(rng):
    y = (rng.random((400, 6)) < [0.5, 0.3, 0.1, 0.05, 0.2, 0.4]).astype(np.float32)
    folds = make_folds(y, "stratified", 4, seed=0)
    _check_partition(folds, 400)
    for _, va in folds:
        np.testing.assert_allclose(y[va].sum(0), y.sum(0) / 4, atol=2)
