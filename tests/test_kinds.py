"""The data-kind registry (foldwise.kinds): one object per kind, and every consumer reads it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from foldwise.config import load_schema
from foldwise.kinds import KINDS, DataKind, get_kind, net_kinds, register_kind


def test_schema_lists_the_registry_kinds():
    enum = load_schema()["properties"]["data"]["properties"]["kind"]["enum"]
    assert enum == list(KINDS)


def test_unknown_kind_names_the_valid_ones():
    with pytest.raises(KeyError, match="unknown data kind 'audio'; valid: images, timeseries, tabular, video"):
        get_kind("audio")


def test_a_kind_is_registered_once():
    with pytest.raises(ValueError, match="registered twice"):
        register_kind(DataKind(name="images", cache_script="x", input_key=None, cache_keys=(), data_keys=()))


def test_every_cache_script_and_code_reference_exists():
    from foldwise.runtime.provenance import PACKAGE_DIR

    for kind in KINDS.values():
        assert (PACKAGE_DIR.parent / "workflow_scripts" / f"{kind.cache_script}.py").is_file(), kind.name
        assert callable(kind.load("columns"))
        if kind.nets:
            assert kind.load("inputs").__name__.endswith("Inputs")
        else:
            with pytest.raises(KeyError, match="has no inputs"):
                kind.load("inputs")


def test_the_nets_input_pipelines_are_the_registry_s():
    from foldwise.train.inputs import INPUTS

    assert set(INPUTS) == set(net_kinds())
    assert all(INPUTS[name] is KINDS[name].load("inputs") for name in INPUTS)


def test_consumers_read_the_registry():
    from foldwise.checks.settings import KIND_ONLY
    from foldwise.classic.families import TORCH_KINDS, features_of
    from foldwise.train.tta import VIEWS_BY_KIND

    assert list(KIND_ONLY) == list(KINDS)
    assert KIND_ONLY["timeseries"]["augment"] == ("roll",)
    assert VIEWS_BY_KIND == {"images": ("hflip", "vflip", "shift"), "timeseries": ("roll",),
                             "video": ("hflip", "vflip", "shift")}
    assert TORCH_KINDS == ("images", "timeseries", "video")
    assert [features_of({"family": "logistic"}, k) for k in ("images", "timeseries", "tabular")] == [
        "pixels", "summary", "columns"]


@pytest.mark.parametrize("kind,size", [("images", 64), ("timeseries", 427), ("tabular", 0), ("video", "8x64")])
def test_cache_size_per_kind(kind, size):
    data = {"series_length": 427, "frames": 8}
    assert get_kind(kind).cache_size(data, {"img_size": 64}) == size


def test_input_and_cache_keys_per_split():
    assert get_kind("images").input_keys("test") == ["test_images"]
    assert get_kind("tabular").input_keys("train") == []
    assert get_kind("timeseries").split_cache_keys("test")[1] == "test_series"


def test_the_registry_imports_nothing_heavy():
    code = "import sys, foldwise.kinds; print(sorted(m for m in ('numpy', 'pandas', 'torch') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
