"""Real competition formats, end to end: each folder of ``tests/zoo.py`` through the real Snakefile.

Every run writes a submission that is checked against the folder's sample
submission: the same header, field for field; the ids byte for byte and in the
sample's order; values from the class set, or probabilities in [0, 1] (summing
to 1 for multiclass), or 0/1 decisions. Each test then checks what its format
puts at risk (ids kept apart, class columns mapped right, images decoded,
series steps ordered). Runs are tiny: one model, 16x16 images, 1 epoch, 2 folds.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from . import zoo
from .pipeline import Pipeline, copy_code

pytestmark = pytest.mark.workflow

IMAGE_MODELS = {"res": {"backbone": "resnet10t", "img_size": 16, "epochs": 1, "batch_size": 16, "lr": 0.003}}
SERIES_MODELS = {"r1d": {"backbone": "resnet1d", "epochs": 1, "batch_size": 16, "model_kwargs": {"width": 8}}}


@pytest.fixture(scope="module")
def code(tmp_path_factory) -> Path:
    """One private copy of the workflow code for the whole zoo."""
    return copy_code(tmp_path_factory.mktemp("zoo") / "code")


@pytest.fixture(scope="module")
def formats_comp(tmp_path_factory) -> zoo.Competition:
    """The mixed image formats folder, shared by the 3-channel and 1-channel runs."""
    return zoo.image_formats(tmp_path_factory.mktemp("formats"))


@pytest.fixture(scope="module")
def odd_comp(tmp_path_factory) -> zoo.Competition:
    """The odd class names folder, shared by the 2-fold run and the 3-fold refusal."""
    return zoo.odd_classes(tmp_path_factory.mktemp("odd"))


@pytest.fixture(scope="module")
def empty_comp(tmp_path_factory) -> zoo.Competition:
    """The empty label folder, shared by the multilabel run and the multiclass refusal."""
    return zoo.empty_label(tmp_path_factory.mktemp("empty"))


def run(code: Path, work: Path, comp: zoo.Competition, *, check: bool = True, data: dict | None = None, **config):
    """Run the pipeline on ``comp`` with a tiny config.

    Args:
        code: the workflow code copy.
        work: the working directory (created).
        comp: the competition.
        check: raise when snakemake fails.
        data: keys to add to the competition's ``data`` section.
        config: top-level config keys to add or replace (e.g. ``ensembles``).

    Returns:
        ``(pipeline, completed process)``.
    """
    models = SERIES_MODELS if comp.data.get("kind") == "timeseries" else IMAGE_MODELS
    cfg = {"seed": 1, "task": comp.task, "data": {**comp.data, **(data or {})},
           "folds": {"scheme": "stratified", "n_splits": 2, "seed": 0}, "models": models, **config}
    pipe = Pipeline(code, work, cfg)
    return pipe, pipe.snakemake(check=check)


def check_submission(path: Path, comp: zoo.Competition, fmt: str) -> pd.DataFrame:
    """Assert that a written submission fits the competition's sample submission.

    Args:
        path: the written submission.
        comp: the competition (its sample, classes and task).
        fmt: what the values must be: ``label`` (class names; multilabel: space-separated
            label names), ``proba`` (probabilities) or ``binary`` (0/1).

    Returns:
        The submission's value columns as text, indexed by id.
    """
    sample_path = comp.dir / comp.data.get("sample_submission", "sample_submission.csv")
    sub, sample = zoo.csv_fields(path), zoo.csv_fields(sample_path)
    assert sub[0] == sample[0], "header differs from the sample's"
    assert len(sub) == len(sample)
    assert zoo.raw_first_fields(path) == zoo.raw_first_fields(sample_path), "ids differ from the sample's bytes"
    assert all(len(row) == len(sample[0]) for row in sub)
    values = [row[1:] for row in sub[1:]]
    if fmt == "label":
        for (value,) in values:
            tokens = value.split() if comp.task == "multilabel" else [value]
            assert set(tokens) <= set(comp.classes), f"unknown label {value!r}"
    elif fmt == "binary":
        assert {v for row in values for v in row} <= {"0", "1"}
    else:
        p = np.array(values, dtype=np.float64)
        assert ((p >= 0) & (p <= 1)).all()
        if comp.task == "multiclass":
            np.testing.assert_allclose(p.sum(1), 1, atol=1e-4)
    return pd.DataFrame(values, columns=sub[0][1:], index=[row[0] for row in sub[1:]])


def foldwise_errors(proc) -> set[str]:
    """The distinct ``foldwise error:`` lines of a run's output."""
    return {line for line in (proc.stdout + proc.stderr).splitlines() if line.startswith("foldwise error:")}


def test_dacon_integer_ids_series(code, tmp_path):
    """Cases 1, 4, 7: integer ids 0..N-1 in a long CSV, integer labels, labels in train_labels.csv, no test CSV."""
    comp = zoo.dacon_sensor(tmp_path / "comp")
    pipe, _ = run(code, tmp_path / "work", comp)
    res = pipe.work / "results"
    check_submission(res / "submissions" / "r1d.csv", comp, "proba")
    assert json.loads((res / "data" / "classes.json").read_text())["classes"] == ["0", "1", "2", "3"]
    for split in ("train", "test"):
        ids = pd.read_parquet(res / "data" / f"{split}.parquet")["id"]
        assert list(ids) == [str(i) for i in range(40)]  # file order, as text
        np.testing.assert_allclose(np.load(res / "cache" / "0" / f"{split}.npy"), comp.truth[split], atol=1e-6)
    test = pd.read_parquet(res / "test" / "r1d.parquet")
    assert list(test.columns) == ["id", "prob_0", "prob_1", "prob_2", "prob_3"]


def test_unsorted_unequal_series_with_bom_and_crlf(code, tmp_path):
    """Cases 11, 12: shuffled steps, unequal lengths; BOM and CRLF in every CSV, the features files included."""
    comp = zoo.messy_sensor(tmp_path / "comp")
    pipe, _ = run(code, tmp_path / "work", comp)
    res = pipe.work / "results"
    check_submission(res / "submissions" / "r1d.csv", comp, "label")
    train = pd.read_parquet(res / "data" / "train.parquet")
    assert train["id"].iloc[0] == "train_000" and set(train["label"]) == {"Gun", "Point"}
    for split in ("train", "test"):
        np.testing.assert_allclose(np.load(res / "cache" / "0" / f"{split}.npy"), comp.truth[split], atol=1e-6)


def test_ids_kept_as_written(code, tmp_path):
    """Cases 2, 3, 10 (grayscale into 3 channels): 7, 007, 7.0, 'id 7', id.7, id-7 are six rows."""
    import cv2

    comp = zoo.text_ids(tmp_path / "comp")
    pipe, _ = run(code, tmp_path / "work", comp)
    res = pipe.work / "results"
    check_submission(res / "submissions" / "res.csv", comp, "label")
    oof = pd.read_parquet(res / "oof" / "res.parquet")
    assert list(oof["id"]) == comp.truth["train_ids"]
    assert {"7", "007", "7.0", "id 7", "id.7", "id-7"} <= set(comp.truth["test_ids"])
    assert list(pd.read_parquet(res / "test" / "res.parquet")["id"]) == comp.truth["test_ids"]
    cache = np.load(res / "cache" / "16" / "train.npy")
    assert cache.shape == (60, 16, 16, 3)
    for i, name in enumerate(comp.truth["train_ids"]):  # each row holds its own image, in all three channels
        own = cv2.resize(cv2.imread(str(comp.dir / "train_images" / f"{name}.png"), cv2.IMREAD_GRAYSCALE), (16, 16))
        for c in range(3):
            np.testing.assert_array_equal(cache[i, :, :, c], own, err_msg=name)


def test_odd_class_names_and_sample_column_order(code, tmp_path, odd_comp):
    """Cases 5, 6, 7, 14: 'Sea Lion', 'a/b', 'Ünïcode', 'bird, other' and a 2-row class; unsorted sample columns."""
    ensembles = {"blend": {"method": "equal"}}
    pipe, _ = run(code, tmp_path / "work", odd_comp, ensembles=ensembles)
    res = pipe.work / "results"
    assert sorted(json.loads((res / "data" / "classes.json").read_text())["classes"]) == sorted(zoo.ODD_CLASSES)
    oof = pd.read_parquet(res / "oof" / "res.parquet")
    assert oof.loc[oof["label"] == "rare", "fold"].tolist() in ([0, 1], [1, 0])  # one row of the rare class per fold
    for name, test_file in (("res", res / "test" / "res.parquet"), ("blend", res / "ensembles" / "blend" / "test.parquet")):
        sub = check_submission(res / "submissions" / f"{name}.csv", odd_comp, "proba")
        assert list(sub.columns) == odd_comp.truth["sample_columns"]
        probs = pd.read_parquet(test_file).set_index("id")
        for cls in zoo.ODD_CLASSES:  # each column holds its own class's probabilities
            np.testing.assert_allclose(sub[cls].astype(float), probs.loc[sub.index, f"prob_{cls}"], rtol=1e-6)


def test_fewer_rows_than_folds_is_refused_clearly(code, tmp_path, odd_comp):
    """Case 14: 3 stratified folds but class 'rare' has 2 rows: the folds rule names the class and stops."""
    pipe, proc = run(code, tmp_path / "work", odd_comp, check=False,
                     folds={"scheme": "stratified", "n_splits": 3, "seed": 0})
    assert proc.returncode != 0
    errors = foldwise_errors(proc)
    assert len(errors) == 1, errors
    assert "class 'rare' has only 2 rows" in errors.pop()
    assert not (pipe.work / "results" / "folds").exists() or not any((pipe.work / "results" / "folds").iterdir())
    assert not (pipe.work / "results" / "models").exists()


def _check_decoded(cache: np.ndarray, comp: zoo.Competition, split: str) -> None:
    """Each cached image is its own source digit, whatever format and size it was stored in."""
    import cv2

    truth = comp.truth[split]
    assert cache.shape[:3] == (len(truth["digits"]), 16, 16)
    for i, (digit, fmt) in enumerate(zip(truth["digits"], truth["formats"])):
        want = cv2.resize(digit, (16, 16), interpolation=cv2.INTER_LINEAR).astype(np.float64).ravel()
        got = cache[i].astype(np.float64).mean(-1).ravel()
        assert np.corrcoef(want, got)[0, 1] > 0.9, f"row {i} ({fmt}) is not its digit"
        assert got.max() > 100, f"row {i} ({fmt}) is too dark: {got.max()}"


def test_image_formats_in_nested_folders(code, tmp_path, formats_comp):
    """Case 9: JPEG, RGB, RGBA, palette and 16-bit PNG, mixed sizes, nested folders, a '{img_path}' column."""
    pipe, _ = run(code, tmp_path / "work", formats_comp)
    res = pipe.work / "results"
    check_submission(res / "submissions" / "res.csv", formats_comp, "label")
    for split in ("train", "test"):
        cache = np.load(res / "cache" / "16" / f"{split}.npy")
        assert cache.shape[-1] == 3
        _check_decoded(cache, formats_comp, split)
        for i, fmt in enumerate(formats_comp.truth[split]["formats"]):
            strokes = cache[i].astype(int)
            if fmt.startswith("gray"):
                assert (strokes[..., 0] == strokes[..., 2]).all(), f"row {i} ({fmt}) is not gray"
            elif fmt != "palette":  # tinted orange: red above blue, so channels are in RGB order
                assert strokes[..., 0].sum() > 2 * strokes[..., 2].sum(), f"row {i} ({fmt}) is not RGB"


def test_rgb_images_read_as_one_channel(code, tmp_path, formats_comp):
    """Case 10: the same colour, RGBA, palette and 16-bit images with data.channels 1."""
    pipe, _ = run(code, tmp_path / "work", formats_comp, data={"channels": 1})
    res = pipe.work / "results"
    check_submission(res / "submissions" / "res.csv", formats_comp, "label")
    for split in ("train", "test"):
        cache = np.load(res / "cache" / "16" / f"{split}.npy")
        assert cache.shape[-1] == 1
        _check_decoded(cache, formats_comp, split)


def test_multilabel_label_columns_with_spaces(code, tmp_path):
    """Case 8 (and 13): one 0/1 column per label, names with spaces; rows with no label at all."""
    comp = zoo.label_columns(tmp_path / "comp")
    pipe, _ = run(code, tmp_path / "work", comp)
    res = pipe.work / "results"
    sub = check_submission(res / "submissions" / "res.csv", comp, "binary")
    assert list(sub.columns) == comp.truth["sample_columns"]
    assert json.loads((res / "data" / "classes.json").read_text())["classes"] == list(zoo.LABEL_COLUMNS)
    oof = pd.read_parquet(res / "oof" / "res.parquet")
    names = np.array(list(zoo.LABEL_COLUMNS), dtype=object)
    assert list(oof["label"]) == ["\t".join(names[row == 1]) for row in comp.truth["labels"]]
    assert (oof["label"] == "").sum() == 6  # the six images of digit 1
    assert set(oof.columns) >= {f"prob_{n}" for n in names}
    thresholds = json.loads((res / "submissions" / "res.json").read_text())["thresholds"]
    assert set(thresholds) == set(names)
    probs = pd.read_parquet(res / "test" / "res.parquet").set_index("id")
    for name in names:  # each column holds its own label's decisions
        want = (probs.loc[sub.index, f"prob_{name}"].to_numpy(np.float64) >= thresholds[name]).astype(int)
        np.testing.assert_array_equal(sub[name].astype(int), want, err_msg=name)


def test_empty_label_multilabel_means_no_labels(code, tmp_path, empty_comp):
    """Case 13, multilabel: an empty label cell is a row without labels, and the run succeeds."""
    pipe, _ = run(code, tmp_path / "work", empty_comp)
    res = pipe.work / "results"
    check_submission(res / "submissions" / "res.csv", empty_comp, "label")
    train = pd.read_parquet(res / "data" / "train.parquet")
    empty_rows = [line - 2 for line in empty_comp.truth["empty_lines"]]
    assert (train["label"].iloc[empty_rows] == "").all()
    assert (train["label"].drop(index=empty_rows) != "").all()


def test_empty_label_multiclass_is_refused(code, tmp_path, empty_comp):
    """Case 13, multiclass: one clear error naming the file, column and lines; no training table."""
    pipe, proc = run(code, tmp_path / "work", empty_comp, check=False, task="multiclass")
    assert proc.returncode != 0
    errors = foldwise_errors(proc)
    assert len(errors) == 1, errors
    message = errors.pop()
    assert str(empty_comp.dir / "train.csv") in message and "column 'label'" in message
    assert str(empty_comp.truth["empty_lines"]) in message
    data = pipe.work / "results" / "data"
    assert not (data / "train.parquet").exists() and not (data / "classes.json").exists()
    assert not list(pipe.work.glob("results/**/.*.tmp"))
    assert not (pipe.work / "results" / "submissions").exists()
