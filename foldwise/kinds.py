"""The data kinds (``data.kind``) by name: one object per kind that the rules, the checks and the jobs ask.

A :class:`DataKind` says everything that differs between images, time series,
tables and video clips: which workflow script builds a split's cache and which
``data.*`` keys that cache depends on, which keys name a split's raw inputs, the
cache a model reads, the settings and augmentations only this kind reads, its
test-time views, the classic features ``auto`` stands for, and where the
torch-side input pipeline and the table's input-column check live.

Plan-time metadata: nothing here imports numpy, pandas or torch. The two code
references (``inputs``, ``columns``) are ``"module:attribute"`` strings loaded
on demand by :meth:`DataKind.load`, so the Snakefile can read this registry
without importing the jobs' code.

Adding a kind: one :func:`register_kind` entry here, its cache script in
``workflow_scripts/`` with the ``foldwise.data`` module it calls, an input
pipeline class in :mod:`foldwise.train.inputs` (nets) or a feature transform
(classic families), a columns check in :mod:`foldwise.data.tables`, and the
schema's ``data.kind`` enum (``tests/test_kinds.py`` checks that it lists the
registry's names).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

IMAGE_AUGMENT = ("hflip", "vflip", "shift", "rotate", "cutout", "blur", "blur_sigma", "jpeg", "jpeg_quality",
                 "brightness", "contrast")
IMAGE_VIEWS = ("hflip", "vflip", "shift")
SERIES_VIEWS = ("roll",)


@dataclass(frozen=True)
class DataKind:
    """One data kind.

    Attributes:
        name: the ``data.kind`` value.
        cache_script: the workflow script (``workflow_scripts/<name>.py``) that builds a split's cache.
        input_key: the ``data.*`` key naming a split's raw inputs, with ``{split}`` in it
            (``{split}_images``); None when the inputs are the table's own columns (tabular).
        cache_keys: the ``data.*`` keys a split's cache depends on (``{split}`` formatted per split).
        data_keys: ``data.*`` settings only this kind reads (the checks refuse them for other kinds).
        augment: ``augment.*`` settings only this kind reads.
        tta_views: the test-time views a net on this kind may ask for.
        nets: whether torch nets read this kind.
        auto_features: the classic feature transform ``features: auto`` resolves to, or None.
        inputs: ``"module:Class"`` of the nets' input pipeline, or None when nets do not read it.
        columns: ``"module:function"`` checking each table row's inputs and returning the cache's columns.
    """

    name: str
    cache_script: str
    input_key: str | None
    cache_keys: tuple[str, ...]
    data_keys: tuple[str, ...]
    augment: tuple[str, ...] = ()
    tta_views: tuple[str, ...] = ()
    nets: bool = True
    auto_features: str | None = None
    inputs: str | None = None
    columns: str = ""

    def input_keys(self, split: str) -> list[str]:
        """The ``data.*`` keys naming one split's raw inputs (``[]`` for tabular)."""
        return [self.input_key.format(split=split)] if self.input_key else []

    def split_cache_keys(self, split: str) -> list[str]:
        """The ``data.*`` keys one split's cache depends on."""
        return [key.format(split=split) for key in self.cache_keys]

    def cache_size(self, data: dict, model: dict) -> int | str:
        """The cache a model reads, as it appears in the cache's path.

        Args:
            data: the validated ``data`` section.
            model: the model's validated settings.

        Returns:
            The image size (images), the series length (timeseries), 0 (tabular) or
            ``"<frames>x<size>"`` (video).
        """
        if self.name == "tabular":
            return 0
        if self.name == "timeseries":
            return data["series_length"]
        if self.name == "video":
            return f"{data['frames']}x{model['img_size']}"
        return model["img_size"]

    def load(self, attribute: str):
        """Import and return one of the kind's code references (``inputs`` or ``columns``).

        Raises:
            KeyError: the kind has no such reference (``inputs`` of tabular: nets do not read tables).
        """
        ref = getattr(self, attribute)
        if not ref:
            raise KeyError(f"data kind '{self.name}' has no {attribute}")
        module, _, name = ref.partition(":")
        return getattr(importlib.import_module(module), name)


KINDS: dict[str, DataKind] = {}


def register_kind(kind: DataKind) -> DataKind:
    """Add a kind to the registry (its name must be new)."""
    if kind.name in KINDS:
        raise ValueError(f"data kind '{kind.name}' is registered twice")
    KINDS[kind.name] = kind
    return kind


def get_kind(name: str) -> DataKind:
    """The registered kind called ``name``.

    Raises:
        KeyError: an unknown name; the message lists the valid ones.
    """
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(f"unknown data kind '{name}'; valid: {', '.join(KINDS)}") from None


def net_kinds() -> tuple[str, ...]:
    """The kinds torch nets read."""
    return tuple(name for name, kind in KINDS.items() if kind.nets)


register_kind(DataKind(
    name="images", cache_script="cache_images", input_key="{split}_images",
    cache_keys=("dir", "channels"),  # the size is in the cache's path
    data_keys=("train_images", "test_images", "channels"),
    augment=IMAGE_AUGMENT, tta_views=IMAGE_VIEWS, auto_features="pixels",
    inputs="foldwise.train.inputs:ImageInputs", columns="foldwise.data.tables:_image_columns",
))
register_kind(DataKind(
    name="timeseries", cache_script="cache_series", input_key="{split}_series",
    cache_keys=("dir", "{split}_series", "id_col", "step_col", "series_channels", "derived_channels"),
    data_keys=("train_series", "test_series", "step_col", "series_channels", "series_length", "derived_channels"),
    augment=("roll",), tta_views=SERIES_VIEWS, auto_features="summary",
    inputs="foldwise.train.inputs:SeriesInputs", columns="foldwise.data.tables:_series_columns",
))
register_kind(DataKind(
    name="tabular", cache_script="cache_tabular", input_key=None,
    # the column layout (read from train_csv) is added by the Snakefile
    cache_keys=("dir", "train_csv", "test_csv", "sample_submission", "id_col"),
    data_keys=("feature_cols", "categorical_cols"),
    nets=False, auto_features="columns", columns="foldwise.data.tables:_tabular_columns",
))
register_kind(DataKind(
    name="video", cache_script="cache_video", input_key="{split}_videos",
    cache_keys=("dir", "channels"),  # frames and size are in the cache's path
    data_keys=("train_videos", "test_videos", "frames", "channels"),
    augment=IMAGE_AUGMENT,  # frames are augmented as images, the same for every frame of a clip
    tta_views=IMAGE_VIEWS,  # every frame alike
    inputs="foldwise.train.inputs:VideoInputs", columns="foldwise.data.tables:_video_columns",
))
