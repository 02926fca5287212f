"""User mistakes stop the pipeline with one clear message, a non-zero exit and no partial output."""

from __future__ import annotations

import shutil

import pytest

from .pipeline import TINY, Pipeline

pytestmark = pytest.mark.workflow


def _pipe(tiny_run, tmp_path, data_dir, **models):
    cfg = {**TINY, "data": {**TINY["data"], "dir": str(data_dir)}, "ensembles": {}}
    cfg["models"] = models or {"res": TINY["models"]["res"]}
    return Pipeline(tiny_run.code, tmp_path / "work", cfg)


def test_config_typo_stops_before_any_job(tiny_run, tmp_path, digits_dir):
    pipe = _pipe(tiny_run, tmp_path, digits_dir, res={**TINY["models"]["res"], "epochz": 2})
    proc = pipe.snakemake(check=False)
    assert proc.returncode != 0
    assert "config key 'models.res': unknown key 'epochz' (did you mean 'epochs'?)" in proc.stderr
    assert not (pipe.work / "results").exists()


def test_corrupt_image_fails_the_cache_rule_cleanly(tiny_run, tmp_path, digits_dir):
    data = tmp_path / "comp"
    shutil.copytree(digits_dir, data)
    victim = sorted((data / "train_images").iterdir())[5]
    victim.write_bytes(victim.read_bytes()[:30])
    pipe = _pipe(tiny_run, tmp_path, data)
    proc = pipe.snakemake(check=False)
    assert proc.returncode != 0
    log = (pipe.work / "logs" / "cache" / "16" / "train.log").read_text()
    assert victim.name in log and "not decodable" in log
    assert not (pipe.work / "results" / "cache" / "16" / "train.npy").exists()
    assert not list((pipe.work / "results" / "cache" / "16").glob(".train.npy*"))
    assert not (pipe.work / "results" / "models").exists()


def test_missing_column_fails_the_tables_rule(tiny_run, tmp_path, digits_dir):
    data = tmp_path / "comp"
    shutil.copytree(digits_dir, data)
    text = (data / "train.csv").read_text().replace("id,label", "image,label", 1)
    (data / "train.csv").write_text(text)
    pipe = _pipe(tiny_run, tmp_path, data)
    proc = pipe.snakemake(check=False)
    assert proc.returncode != 0
    assert "train.csv: no column 'id' (config key data.id_col)" in proc.stdout + proc.stderr
    assert not (pipe.work / "results" / "data" / "train.parquet").exists()
