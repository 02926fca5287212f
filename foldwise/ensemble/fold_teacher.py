"""A teacher's fold-k test predictions, for the leak-free pseudo-labels of fold k's student (``pseudo.source: fold``).

The teacher's final test predictions average fold models that were trained on
every fold's validation rows; pseudo-labels from them carry fold k's labels into
fold k's student, whose CV then reads optimistic. Fold k's student instead reads
predictions none of whose models saw fold k's validation rows:

- a model teacher: its fold-k model's test predictions (the mean over its seeds
  when it has several);
- an ensemble teacher (members are models): its members' fold-k predictions
  blended with the ensemble's combiner and the weights of its nested fit
  without fold k (``fold_weights`` of ``weights.json``: fitted on the other
  folds' OOF rows; equal and given weights are the same for every fold).
  Stacked ensembles and ensembles of ensembles are refused at plan time
  (:mod:`foldwise.checks.levers`): their fold-k blend is not on disk.

The file written has a model's test columns (``id, prob_<class>...``), so the
student reads it as it reads any teacher file (:func:`foldwise.train.pseudo.read_teacher`).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from foldwise.errors import FoldwiseError
from foldwise.io import read_json, read_parquet_metadata, sha256_file, write_parquet
from foldwise.oof import prob_columns

log = logging.getLogger(__name__)

# ensemble methods whose fold-k blend can be rebuilt from weights.json
FOLD_METHODS = ("equal", "given", "optimize", "hill_climb")


def mean_over_seeds(paths: list[str]) -> pd.DataFrame:
    """The mean of one member's fold-k test files (one per seed), ``id, prob_<class>...``.

    Raises:
        FoldwiseError: the files list different ids or classes.
    """
    tables = [pd.read_parquet(p) for p in paths]
    cols = prob_columns(tables[0])
    for path, t in zip(paths[1:], tables[1:]):
        if prob_columns(t) != cols or not t["id"].equals(tables[0]["id"]):
            raise FoldwiseError(f"{path} lists other ids or classes than {paths[0]}; re-run its predict job")
    out = tables[0][["id"]].copy()
    out[cols] = np.mean([t[cols].to_numpy(dtype=np.float64) for t in tables], axis=0)
    return out


def fold_weights(weights_json: dict, members: list[str], fold: int) -> np.ndarray:
    """The ensemble's member weights ``(M,)`` fitted without fold ``fold`` (from its ``weights.json``)."""
    per_fold = weights_json.get("fold_weights") or {}
    if set(per_fold) != set(members):
        raise FoldwiseError(f"weights.json names members {sorted(per_fold)}, not {sorted(members)}; re-run the ensemble")
    w = np.array([per_fold[m][fold] for m in members], dtype=np.float64)
    return w / w.sum()


def write_fold_teacher(
    spec: dict, member_tests: list[str], fold: int, folds_path: str, out: str, weights_path: str | None = None
) -> pd.DataFrame:
    """Write a teacher's fold-``fold`` test predictions (see the module docstring).

    Args:
        spec: ``{"teacher", "kind": model|ensemble, "members": [...], "seeds": {member: n}}``; an ensemble
            also ``method``, ``combiner``, ``power``.
        member_tests: each member's fold-k test files, member-major then seed (``seeds[m]`` files per member).
        fold: k.
        folds_path: ``folds.pkl`` (its hash goes into the file's metadata).
        out: the output parquet.
        weights_path: the ensemble's ``weights.json`` (ensemble teachers).

    Returns:
        The written table ``(N_test, 1 + K)``.
    """
    members, seeds = spec["members"], spec["seeds"]
    if len(member_tests) != sum(seeds[m] for m in members):
        raise FoldwiseError(f"teacher '{spec['teacher']}': {len(member_tests)} fold files for members {members}")
    folds_sha = sha256_file(folds_path)
    for path in member_tests:
        if read_parquet_metadata(path).get("folds_sha256") != folds_sha:
            raise FoldwiseError(f"{path} was predicted on a different folds.pkl; re-run its jobs")
    tables, start = [], 0
    for m in members:
        tables.append(mean_over_seeds(member_tests[start : start + seeds[m]]))
        start += seeds[m]
    cols = prob_columns(tables[0])
    if spec["kind"] == "model":
        out_table = tables[0]
    else:
        from foldwise.ensemble.weights import WeightedSoftVoting

        for m, t in zip(members, tables):
            if prob_columns(t) != cols or not t["id"].equals(tables[0]["id"]):
                raise FoldwiseError(f"ensemble member '{m}' predicts other ids or classes than '{members[0]}'")
        blender = WeightedSoftVoting(method=spec["method"], task=spec["task"], combiner=spec["combiner"],
                                     power=spec["power"])
        blender.weights_ = fold_weights(read_json(weights_path), members, fold)
        out_table = tables[0][["id"]].copy()
        out_table[cols] = blender.predict_proba(np.stack([t[cols].to_numpy() for t in tables]))
        log.info("teacher %s fold %d: members %s with the weights fitted without the fold %s", spec["teacher"],
                 fold, members, np.round(blender.weights_, 4).tolist())
    out_table[cols] = out_table[cols].to_numpy().astype(np.float32)
    write_parquet(out_table, out, {"folds_sha256": folds_sha, "teacher": spec["teacher"], "fold": str(fold)})
    return out_table
