"""The fold-split contract: prediction files carry their split's hash, and mixing splits is refused."""

import numpy as np
import pandas as pd
import pytest

from foldwise.ensemble import EnsemblePaths, run_ensemble
from foldwise.errors import FoldwiseError
from foldwise.folds import make_folds, save_folds
from foldwise.io import read_parquet_metadata, sha256_file, write_parquet
from foldwise.oof import gather_model

from .test_honest_cv import ensemble_settings

CLASSES = ["a", "b"]


def _fold_files(tmp_path, folds, folds_sha, rng, skip_row=None, sha_override=None):
    oofs, tests = [], []
    for k, (_, va) in enumerate(folds):
        va = va[va != skip_row] if skip_row is not None else va
        p = rng.dirichlet([1, 1], len(va))
        oof = pd.DataFrame({"row": va, "id": [f"r{i}" for i in va], "fold": k, "label": np.array(CLASSES)[va % 2],
                            "prob_a": p[:, 0], "prob_b": p[:, 1]})
        test = pd.DataFrame({"id": ["t0", "t1"], "prob_a": [0.2, 0.9], "prob_b": [0.8, 0.1]})
        meta = {"folds_sha256": sha_override if (sha_override and k == 0) else folds_sha, "config_sha256": "c"}
        oofs.append(tmp_path / f"oof{k}.parquet")
        tests.append(tmp_path / f"test{k}.parquet")
        write_parquet(oof, oofs[-1], meta)
        write_parquet(test, tests[-1], meta)
    return [str(p) for p in oofs], [str(p) for p in tests]


def _folds(tmp_path):
    folds = make_folds(np.arange(20) % 2, "stratified", 2, seed=0)
    path = tmp_path / "folds.pkl"
    save_folds(folds, path)
    return folds, str(path), sha256_file(path)


def _gather(tmp_path, oofs, tests, folds_path, name="m"):
    out = tmp_path / name
    return gather_model(name, oofs, tests, folds_path, 20, CLASSES, "label", "accuracy",
                        str(out / "oof.parquet"), str(out / "test.parquet"), str(out / "scores.json"))


def test_gathered_files_record_the_split(tmp_path, rng):
    folds, path, sha = _folds(tmp_path)
    oofs, tests = _fold_files(tmp_path, folds, sha, rng)
    scores = _gather(tmp_path, oofs, tests, path)
    assert scores["folds_sha256"] == sha and len(scores["folds"]) == 2
    assert read_parquet_metadata(tmp_path / "m" / "oof.parquet")["folds_sha256"] == sha
    test = pd.read_parquet(tmp_path / "m" / "test.parquet")
    assert test["prob_a"].tolist() == pytest.approx([0.2, 0.9])


def test_gather_refuses_a_fold_file_from_another_split(tmp_path, rng):
    folds, path, sha = _folds(tmp_path)
    oofs, tests = _fold_files(tmp_path, folds, sha, rng, sha_override="0" * 64)
    with pytest.raises(FoldwiseError, match="different folds.pkl"):
        _gather(tmp_path, oofs, tests, path)


def test_gather_refuses_rows_predicted_never(tmp_path, rng):
    folds, path, sha = _folds(tmp_path)
    oofs, tests = _fold_files(tmp_path, folds, sha, rng, skip_row=3)
    with pytest.raises(FoldwiseError, match="1 training row"):
        _gather(tmp_path, oofs, tests, path)


def test_ensemble_refuses_members_from_different_splits(tmp_path, rng):
    folds, path, sha = _folds(tmp_path)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _gather(tmp_path / "a", *_fold_files(tmp_path / "a", folds, sha, rng), path, name="m1")
    other = make_folds(np.arange(20) % 2, "stratified", 2, seed=1)
    other_path = tmp_path / "other.pkl"
    save_folds(other, other_path)
    _gather(tmp_path / "b", *_fold_files(tmp_path / "b", other, sha256_file(other_path), rng), str(other_path), name="m2")
    members = {"m1": tmp_path / "a" / "m1", "m2": tmp_path / "b" / "m2"}
    settings = ensemble_settings(list(members), 0, hill_climb_iters=10)
    out = tmp_path / "ens"
    paths = EnsemblePaths(str(out / "oof.parquet"), str(out / "oof_nested.parquet"), str(out / "test.parquet"),
                          str(out / "weights.json"), str(out / "scores.json"))
    with pytest.raises(FoldwiseError, match="different fold splits"):
        run_ensemble("e", settings, [str(p / "oof.parquet") for p in members.values()],
                     [str(p / "test.parquet") for p in members.values()], CLASSES, paths,
                     target_col="label", metric="accuracy", task="multiclass")
    assert not out.exists()


def test_outputs_get_the_mode_open_would_give(tmp_path):
    import os
    import stat

    from foldwise.io import write_text

    old = os.umask(0o027)
    try:
        write_text(tmp_path / "a.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o640  # not mkstemp's 0600
