"""Plan-time checks: every config value a user can get wrong, found before any job runs.

:func:`foldwise.config.validate` runs these after the schema, and the Snakefile
runs ``validate`` while it plans the DAG, so ``snakemake -n``, ``--lint`` and
every real run report all problems at once, each naming its config key. A check
takes a :class:`Context` and yields :class:`Problem` s.

Kept cheap: nothing here imports torch or timm (backbone names come from
``foldwise/models/names.txt``, see :mod:`foldwise.models.names`) except to look up
the hub weights a ``pretrained: true`` model names (timm's or torchvision's tables,
then the hub caches on disk; never the network), and data files are read no
further than their first rows.

One module per concern: :mod:`~foldwise.checks.models`, :mod:`~foldwise.checks.references`,
:mod:`~foldwise.checks.settings` and :mod:`~foldwise.checks.files`; the shared vocabulary is in
:mod:`~foldwise.checks.base`.
"""

from __future__ import annotations

from typing import Callable, Iterable

from foldwise.checks.base import Context, Problem, problem
from foldwise.checks.files import _data_files
from foldwise.checks.levers import _pseudo_source
from foldwise.checks.models import (
    _backbones,
    _families,
    _metrics_and_losses,
    _models_defined,
    _pretrained,
    backbone_problem,
    weights_file_problem,
)
from foldwise.checks.references import REFERENCES, Reference, _references, reference_problems
from foldwise.checks.settings import (
    _ensemble_settings,
    _ensemble_weights,
    _epoch_selection,
    _kind_settings,
    _task_settings,
    _techniques,
    stacker_problem,
)

__all__ = [
    "CONFIG_CHECKS", "FILE_CHECKS", "Context", "Problem", "REFERENCES", "Reference", "backbone_problem", "problem",
    "reference_problems", "run_checks", "stacker_problem", "weights_file_problem",
]

Check = Callable[[Context], Iterable[Problem]]
CONFIG_CHECKS: tuple[Check, ...] = (
    _models_defined, _metrics_and_losses, _backbones, _families, _references, _ensemble_weights, _ensemble_settings,
    _epoch_selection, _task_settings, _kind_settings, _techniques, _pseudo_source,
)
FILE_CHECKS: tuple[Check, ...] = (_pretrained, _data_files)


def run_checks(config: dict, raw: dict, schema: dict, files: bool = True, tolerant: bool = False) -> list[Problem]:
    """Every problem of a schema-validated config, in check order.

    Args:
        config: the config with defaults filled (by :func:`foldwise.config.validate`).
        raw: the config as the user wrote it, to tell a set value from a default.
        schema: the config schema (for defaults).
        files: also check the files the config names (relative to the working directory).
        tolerant: the schema found errors: a check that trips over a malformed value is skipped,
            since the schema error already names it.
    """
    ctx, out = Context(config, raw if isinstance(raw, dict) else {}, schema), []
    for check in CONFIG_CHECKS + (FILE_CHECKS if files else ()):
        try:
            out.extend(check(ctx))
        except (KeyError, TypeError, AttributeError, ValueError):
            if not tolerant:
                raise
    return out
