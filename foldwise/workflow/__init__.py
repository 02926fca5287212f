"""What the Snakefile decides while it plans, as tested functions: ``rules/common.smk`` only wires them.

:class:`~foldwise.workflow.plan.Plan` reads a validated config once and answers
every question the rules ask (which models, folds, seeds and refits; each job's
params; which teacher file a student reads); :mod:`~foldwise.workflow.inputs`
hashes raw inputs by content and reads the tabular layout. Nothing here imports
torch, and no workflow script imports this package, so editing it re-runs
nothing by itself: only a changed param does.
"""

from foldwise.workflow.plan import Plan

__all__ = ["Plan"]
