"""``foldwise init``: infer a config from a competition folder (tables, target, task, data kind, shapes) and
size a preset to a time budget. See :mod:`foldwise.init.cli`."""

from .infer import Inference, infer
from .notes import InitError, Notes
from .presets import PRESETS, Plan, size_plan

__all__ = ["Inference", "InitError", "Notes", "PRESETS", "Plan", "infer", "size_plan"]
