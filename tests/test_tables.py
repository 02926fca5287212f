"""The tables rule refuses bad competition files with one clear message and no output."""

import shutil

import pandas as pd
import pytest

from foldwise.config import validate
from foldwise.data.tables import DataConfig, prepare_tables
from foldwise.errors import FoldwiseError


@pytest.fixture
def comp(digits_dir, tmp_path):
    dst = tmp_path / "comp"
    shutil.copytree(digits_dir, dst)
    return dst


def _dcfg(comp, **over):
    cfg = validate({"data": {"dir": str(comp), **over}, "models": {"m": {"backbone": "resnet10t"}}})
    return DataConfig.from_dict(cfg["data"])


def _run(comp, tmp_path, **over):
    out = tmp_path / "out"
    prepare_tables(_dcfg(comp, **over), out / "train.parquet", out / "test.parquet", out / "classes.json")
    return out


def test_good_folder(comp, tmp_path):
    out = _run(comp, tmp_path)
    train = pd.read_parquet(out / "train.parquet")
    assert list(train.columns) == ["row", "id", "label", "path"]
    assert sorted(train["label"].unique(), key=int) == [str(i) for i in range(10)]
    assert len(pd.read_parquet(out / "test.parquet")) == 90


def _edit(path, fn):
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    fn(df).to_csv(path, index=False)


@pytest.mark.parametrize(
    "mutate, over, message",
    [
        (lambda c: _edit(c / "train.csv", lambda d: d.drop(columns="label")), {}, r"train.csv: no column 'label' \(config key data.target_col\)"),
        (lambda c: None, {"id_col": "image_id"}, r"no column 'image_id' \(config key data.id_col\)"),
        (lambda c: _edit(c / "train.csv", lambda d: d.assign(label=[""] + list(d.label[1:]))), {}, r"empty or NaN label .* line\(s\) \[2\]"),
        (lambda c: _edit(c / "train.csv", lambda d: d.assign(label=["NaN"] + list(d.label[1:]))), {}, r"empty or NaN label"),
        (lambda c: _edit(c / "train.csv", lambda d: d.assign(id=[d.id[1]] + list(d.id[1:]))), {}, r"duplicate ids .*lines \[2, 3\]"),
        (lambda c: _edit(c / "sample_submission.csv", lambda d: d.iloc[1:]), {}, r"test ids differ"),
        (lambda c: None, {"train_images": "images/{id}.jpg"}, r"data.train_images: template 'images/\{id\}.jpg' matches none"),
        (lambda c: next((c / "test_images").iterdir()).unlink(), {}, r"1 image\(s\) missing for data.test_images"),
        (lambda c: None, {"group_col": "person"}, r"no column 'person' \(config key data.group_col\)"),
        (lambda c: (c / "train.csv").unlink(), {}, r"training table \(data.train_csv\) not found"),
    ],
)
def test_bad_input_is_refused(comp, tmp_path, mutate, over, message):
    mutate(comp)
    with pytest.raises(FoldwiseError, match=message):
        _run(comp, tmp_path, **over)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_templates_name_any_column_exactly():
    from foldwise.data.tables import resolve_template

    table = pd.DataFrame({"image_id": ["007", "7"], "id": ["x", "y"], "img.path": ["./a b/1.png", "./c/2.png"],
                          "label": ["Sea Lion", "a/b"]})
    assert resolve_template("{img.path}", table, "image_id", "k") == ["./a b/1.png", "./c/2.png"]
    assert resolve_template("train/{label}/{id}.jpg", table, "image_id", "k") == ["train/Sea Lion/007.jpg", "train/a/b/7.jpg"]
    assert resolve_template("all.png", table, "image_id", "k") == ["all.png", "all.png"]
    for bad, message in [("{}", "empty or unbalanced"), ("x/{id", "empty or unbalanced"), ("{nope}.png", "names '{nope}'")]:
        with pytest.raises(FoldwiseError, match=message):
            resolve_template(bad, table, "image_id", "data.train_images")
