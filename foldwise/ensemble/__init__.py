"""Ensembles of model (and ensemble) predictions, fitted on OOF predictions, with their honest CV.

- :mod:`~foldwise.ensemble.combiners`: how members are pooled (mean, geometric, power, rank).
- :mod:`~foldwise.ensemble.weights`: :class:`WeightedSoftVoting`, weights given or fitted
  (optimize, hill_climb, equal, given) for any combiner.
- :mod:`~foldwise.ensemble.stacking`: :class:`Stacker`, a level-2 learner.
- :mod:`~foldwise.ensemble.nested`: nested cross-validation of any of them (the honest CV).
- :mod:`~foldwise.ensemble.settings`: :class:`EnsembleSettings` (an ensemble's validated settings, typed) and
  :class:`EnsemblePaths` (its files).
- :mod:`~foldwise.ensemble.run`: the ``ensemble`` rule's files.
"""

from foldwise.ensemble.combiners import COMBINERS, get_combiner
from foldwise.ensemble.nested import weight_spread
from foldwise.ensemble.run import BLENDERS, make_blender, run_ensemble
from foldwise.ensemble.settings import EnsemblePaths, EnsembleSettings
from foldwise.ensemble.stacking import Stacker, load_learner
from foldwise.ensemble.weights import METHODS, WeightedSoftVoting

__all__ = [
    "BLENDERS", "COMBINERS", "METHODS", "EnsemblePaths", "EnsembleSettings", "Stacker", "WeightedSoftVoting",
    "get_combiner", "load_learner", "make_blender", "run_ensemble", "weight_spread",
]
