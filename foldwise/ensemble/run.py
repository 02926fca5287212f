"""The ``ensemble`` rule: fit a blender on its members' OOF predictions and write its files.

Files in ``results/ensembles/{name}/``: ``oof.parquet`` (the final blend of the
OOF predictions: in-sample for fitted methods), ``oof_nested.parquet`` (each
row predicted by the blend fitted without its fold: the honest OOF),
``test.parquet``, ``weights.json`` and ``scores.json`` (CV in-sample and
nested). Members may be models or other ensembles; an ensemble member enters
with its nested OOF, which plays the part a model's OOF plays.
"""

from __future__ import annotations

import logging
from typing import Callable

import numpy as np
import pandas as pd

from foldwise.ensemble.nested import weight_spread
from foldwise.ensemble.settings import EnsemblePaths, EnsembleSettings
from foldwise.ensemble.stacking import Stacker
from foldwise.ensemble.weights import FITTED, WeightedSoftVoting
from foldwise.errors import FoldwiseError
from foldwise.io import read_parquet_metadata, sha256_json, write_json, write_parquet
from foldwise.oof import fold_scores, prob_columns
from foldwise.tasks import get_task

log = logging.getLogger(__name__)


def _weighted(settings: EnsembleSettings, task: str) -> WeightedSoftVoting:
    given = settings.weights if settings.method == "given" else None
    return WeightedSoftVoting(
        method=settings.method,
        weights=[given[m] for m in settings.members] if given else None,
        objective=settings.objective,
        hill_climb_iters=settings.hill_climb_iters,
        task=task,
        combiner=settings.combiner,
        power=settings.power,
    )


def _stacked(settings: EnsembleSettings, task: str) -> Stacker:
    return Stacker(settings.stacker, settings.stacker_params, objective=settings.objective, task=task,
                   seed=settings.seed)


# method -> factory(settings, task) of an unfitted blender
BLENDERS: dict[str, Callable] = {"optimize": _weighted, "hill_climb": _weighted, "equal": _weighted,
                                 "given": _weighted, "stack": _stacked}
FITTING = (*FITTED, "stack")  # methods that learn from the labels: their in-sample CV is optimistic


def make_blender(settings: EnsembleSettings, task: str):
    """An unfitted blender for an ensemble's settings.

    Raises:
        KeyError: an unknown method, listing the valid ones.
    """
    if settings.method not in BLENDERS:
        raise KeyError(f"unknown ensemble method '{settings.method}'; valid: {', '.join(BLENDERS)}")
    return BLENDERS[settings.method](settings, task)


def _load_members(members: list[str], oof_paths: list[str], test_paths: list[str]):
    oofs = [pd.read_parquet(p) for p in oof_paths]
    tests = [pd.read_parquet(p) for p in test_paths]
    metas = {name: read_parquet_metadata(p) for name, p in zip(members, oof_paths)}
    splits = {name: m.get("folds_sha256") for name, m in metas.items()}
    if len(set(splits.values())) != 1:
        detail = ", ".join(f"{n}: {str(s)[:12]}" for n, s in splits.items())
        raise FoldwiseError(f"ensemble members were trained on different fold splits ({detail}); re-run them")
    for name, o, t in zip(members, oofs, tests):
        if not o["id"].equals(oofs[0]["id"]) or not t["id"].equals(tests[0]["id"]):
            raise FoldwiseError(f"ensemble member '{name}' predicts other ids than '{members[0]}'")
        if prob_columns(o) != prob_columns(oofs[0]):
            raise FoldwiseError(f"ensemble member '{name}' has other classes than '{members[0]}'")
        if not o["fold"].equals(oofs[0]["fold"]):
            raise FoldwiseError(f"ensemble member '{name}' puts rows in other folds than '{members[0]}'")
    return oofs, tests, splits[members[0]], {n: m.get("config_sha256") for n, m in metas.items()}


def _per_member(members: list[str], values) -> dict[str, float]:
    return dict(zip(members, map(float, values)))


def run_ensemble(
    name: str,
    settings: EnsembleSettings,
    oof_paths: list[str],
    test_paths: list[str],
    classes: list[str],
    paths: EnsemblePaths,
    *,
    target_col: str,
    metric: str,
    task: str,
) -> dict:
    """Fit an ensemble on its members' OOF predictions (on all rows, and nested) and write its files.

    Args:
        settings: the ensemble's validated settings (``EnsembleSettings.from_params(params.settings)``).
        oof_paths, test_paths: each member's OOF and test file, in ``settings.members`` order (a model's
            ``results/oof/{m}.parquet``, an ensemble's ``oof_nested.parquet``).
        paths: where its files go.

    Returns:
        The contents of ``weights.json``.
    """
    members = list(settings.members)
    oofs, tests, folds_sha, member_configs = _load_members(members, oof_paths, test_paths)
    # the hash of the params dict the rule passed (as_params gives it back key for key, value for value)
    config_sha = sha256_json({"settings": settings.as_params(), "members": member_configs})
    cols = prob_columns(oofs[0])
    y = get_task(task).encode(oofs[0][target_col], classes)
    folds = oofs[0]["fold"].to_numpy()
    blender = make_blender(settings, task)
    blender.fit(np.stack([o[cols].to_numpy() for o in oofs]), y, folds=folds)

    def table(source, probs):
        out = source.copy()
        out[cols] = probs.astype(np.float32)
        return out

    oof = table(oofs[0][["id", "fold", target_col]], blender.predict_proba(np.stack([o[cols].to_numpy() for o in oofs])))
    nested = table(oofs[0][["id", "fold", target_col]], blender.nested_proba_)
    test = table(tests[0][["id"]], blender.predict_proba(np.stack([t[cols].to_numpy() for t in tests])))
    meta = {"folds_sha256": folds_sha, "config_sha256": config_sha, "ensemble": name}
    write_parquet(oof, paths.oof, meta)
    write_parquet(nested, paths.oof_nested, {**meta, "nested": "true"})
    write_parquet(test, paths.test, meta)
    spread = weight_spread(blender.fold_weights_)
    weights = {
        "method": settings.method,
        "objective": settings.objective,
        "weights": _per_member(members, blender.weights_),
        "oof_objective": float(blender.score_),
        "nested_oof_objective": float(blender.nested_score_),
        "member_oof_objective": _per_member(members, blender.member_scores_),
        "fold_weights": {m: [float(v) for v in blender.fold_weights_[:, i]] for i, m in enumerate(members)},
        "fold_weights_std": _per_member(members, spread["std"]),
        "fold_weights_range": _per_member(members, spread["range"]),
        "folds_sha256": folds_sha,
    }
    if settings.method == "stack":
        weights["stacker"] = {"learner": settings.stacker, "params": settings.stacker_params}
    else:
        weights["combiner"] = settings.combiner
        if settings.combiner == "power":
            weights["power"] = settings.power
    write_json(paths.weights, weights)
    in_sample = fold_scores(oof, target_col, classes, metric, task)
    honest = fold_scores(nested, target_col, classes, metric, task)
    scores = {
        "name": name, "kind": "ensemble", **in_sample,
        "cv_nested": honest["cv"], "folds_nested": honest["folds"], "cv_honest": honest["cv"],
        "honest_by": "nested" if settings.method in FITTING else "no_fitting", **meta,
    }
    write_json(paths.scores, scores)
    log.info("%s: weights %s (spread over folds: %s); CV %s %.5f in-sample, %.5f nested", name,
             weights["weights"], weights["fold_weights_std"], metric, scores["cv"], scores["cv_nested"])
    return weights
