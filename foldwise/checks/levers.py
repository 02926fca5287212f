"""Checks of the DAG's levers: seeds, refits and where a student's pseudo-labels come from (``pseudo.source``)."""

from __future__ import annotations

from typing import Iterator

from foldwise.checks.base import Context, Problem, problem
from foldwise.config import ensemble_members

FOLD_METHODS = ("equal", "given", "optimize", "hill_climb")  # = foldwise.ensemble.fold_teacher.FOLD_METHODS


def _pseudo_source(ctx: Context) -> Iterator[Problem]:
    """``pseudo.source: fold`` needs a teacher whose fold-k predictions can be rebuilt without fold k."""
    cfg = ctx.config
    for name, model in cfg["models"].items():
        teacher = model["teacher"]
        if not teacher or teacher not in cfg["ensembles"] or model["pseudo"]["source"] != "fold":
            continue
        key, ens = f"models.{name}.pseudo.source", cfg["ensembles"][teacher]
        if ens["method"] not in FOLD_METHODS:
            yield problem(key, f"fold (the default) needs the fold-k blend of teacher '{teacher}', but its method "
                               f"{ens['method']} keeps no per-fold learner; use a model or a blended "
                               f"({', '.join(FOLD_METHODS)}) ensemble as teacher, or set pseudo.source: all "
                               "(the student's CV then reads optimistic)")
            continue
        nested = [m for m in ensemble_members(cfg, teacher) if m not in cfg["models"]]
        if nested:
            yield problem(key, f"fold (the default) blends the fold-k models of teacher '{teacher}', but its "
                               f"members {', '.join(nested)} are ensembles; name the models as its members, "
                               "or set pseudo.source: all (the student's CV then reads optimistic)")

