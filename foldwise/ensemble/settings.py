"""An ensemble's settings and output files, typed: built once, inside the ``ensemble`` job.

The rule's params stay the plain dict :meth:`foldwise.workflow.Plan.ensemble_params` gives (the validated
``ensembles.<name>`` entry, its members resolved, and the global seed), so that a run planned before these
classes existed re-runs nothing; :meth:`EnsembleSettings.from_params` turns that dict into a typed value.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

from foldwise.errors import FoldwiseError


@dataclass(frozen=True)
class EnsembleSettings:
    """One validated ``ensembles.<name>`` entry, with its members resolved and the seed.

    No field has a default of its own: ``$defs.ensemble`` of ``foldwise/schemas/config.schema.yaml`` holds
    each one, and :func:`foldwise.config.validate` fills them before this is built. Values keep the types
    the config gave them (``power: 2`` stays an int), so :meth:`as_params` gives back the very dict, whose
    hash is the ensemble's ``config_sha256``.
    """

    members: tuple[str, ...]  # the models and ensembles combined, in config order (null: every model)
    method: str  # optimize | hill_climb | equal | given | stack
    combiner: str  # how weighted members are pooled: mean | geometric | power | rank (not with stack)
    power: float  # combiner power: the exponent
    weights: dict[str, float] | None  # method given: the weight per member (normalised); otherwise None
    objective: str  # the metric the weights are fitted to on the OOF predictions (stack: scores the learner)
    hill_climb_iters: int  # method hill_climb: the steps
    stacker: str  # method stack: logistic, or the import path of a scikit-learn classifier
    stacker_params: dict[str, Any]  # method stack: the learner's keyword arguments
    seed: int  # the config's global seed: a stacker's random_state

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> EnsembleSettings:
        """The settings from the ensemble rule's ``params.settings`` (``Plan.ensemble_params``).

        Raises:
            FoldwiseError: a key is missing (the config was not validated) or unknown.
        """
        names = [f.name for f in dataclasses.fields(cls)]
        missing, unknown = [k for k in names if k not in params], [k for k in params if k not in names]
        if missing or unknown:
            raise FoldwiseError(f"ensemble settings: missing {missing or 'none'}, unknown {unknown or 'none'}; "
                                "build them from a config that foldwise.config.validate filled")
        return cls(**{**params, "members": tuple(params["members"])})

    def as_params(self) -> dict[str, Any]:
        """The dict :meth:`from_params` read (members as a list)."""
        return {**dataclasses.asdict(self), "members": list(self.members)}


@dataclass(frozen=True)
class EnsemblePaths:
    """The files the ``ensemble`` rule writes (``results/ensembles/{name}/``)."""

    oof: str  # the blend of the members' OOF predictions: in-sample for fitted methods
    oof_nested: str  # each row predicted by the blend fitted without its fold: the honest OOF
    test: str  # the blend of the members' test predictions
    weights: str  # weights.json: the weights, per fold too, and the members' objectives
    scores: str  # scores.json: CV in-sample and nested
