"""The benchmark scripts import and run on tiny sizes. No timing is asserted here."""

import importlib

import pytest

from benchmarks.__main__ import BENCHMARKS, render


@pytest.mark.parametrize("name", BENCHMARKS)
def test_benchmark_modules_import(name):
    mod = importlib.import_module(f"benchmarks.bench_{name}")
    assert callable(mod.run)


@pytest.mark.parametrize("name", ["ensemble", "timeseries"])
def test_quick_run_gives_a_table_row(name, tmp_path, monkeypatch):
    mod = importlib.import_module(f"benchmarks.bench_{name}")
    if hasattr(mod, "SCRATCH"):
        monkeypatch.setattr(mod, "SCRATCH", tmp_path)
    result = mod.run(quick=True).to_json()
    assert result["key"] == name and result["measured"] and result["passed"] in (True, False)
    table = render({name: {**result, "machine": "test", "date": "today"}})
    assert f"**{result['measured']}**" in table


@pytest.mark.parametrize("name", ["digits", "gunpoint"])
def test_technique_benchmark_configs_are_valid(name, tmp_path):
    """Each model of `python -m benchmarks.techniques` passes the plan-time checks."""
    from benchmarks.techniques import config

    from foldwise.config import validate

    cfg = validate(config(name, tmp_path, seed=42), files=False)
    assert {"baseline", "pseudo", "tta", "mix", "ema", "freeze", "arcface", "all"} <= set(cfg["models"])
    assert cfg["models"]["all"]["teacher"] == "baseline"
