import numpy as np
import pandas as pd
import pytest

from foldwise.data.series import long_csv_to_array


def _write(tmp_path, df, name="long.csv"):
    path = tmp_path / name
    df.to_csv(path, index=False)
    return path


def _expected(df, ids, channels, length, pad):
    out = np.full((len(ids), length, len(channels)), pad, np.float32)
    for i, key in enumerate(ids):
        seq = df[df["sid"] == key].sort_values("t")[channels].to_numpy(np.float32)[:length]
        out[i, : len(seq)] = seq
    return out


@pytest.mark.parametrize("shuffle", [False, True])
def test_equal_lengths_sorted_or_shuffled(tmp_path, rng, shuffle):
    n, t = 7, 5
    df = pd.DataFrame({
        "sid": np.repeat([f"s{i}" for i in range(n)], t),
        "t": np.tile(np.arange(t), n),
        "a": rng.normal(size=n * t),
        "b": rng.normal(size=n * t),
    })
    if shuffle:
        df = df.sample(frac=1, random_state=0)
    ids, arr = long_csv_to_array(_write(tmp_path, df), "sid", "t", ["b", "a"], t)
    assert list(ids) == sorted(f"s{i}" for i in range(n))
    assert arr.dtype == np.float32 and arr.shape == (n, t, 2)
    np.testing.assert_array_equal(arr, _expected(df, ids, ["b", "a"], t, 0.0))


def test_unequal_lengths_pad_and_crop(tmp_path, rng):
    lengths = {"x": 2, "y": 6, "z": 4, "w": 1}
    rows = [(k, s) for k, n in lengths.items() for s in range(10, 10 + n)]
    df = pd.DataFrame(rows, columns=["sid", "t"]).sample(frac=1, random_state=1)
    df["v"] = rng.normal(size=len(df)).astype(np.float32)
    ids, arr = long_csv_to_array(_write(tmp_path, df), "sid", "t", ["v"], 4, pad_value=-1.0)
    assert list(ids) == ["w", "x", "y", "z"]
    assert arr.shape == (4, 4, 1)
    np.testing.assert_array_equal(arr, _expected(df, ids, ["v"], 4, -1.0))
    assert (arr[0, 1:] == -1).all() and (arr[1, 2:] == -1).all()  # padded at the end
    y_first4 = df[df["sid"] == "y"].sort_values("t")["v"].to_numpy()[:4]
    np.testing.assert_array_equal(arr[2, :, 0], y_first4)  # cropped to the first steps


def test_ids_are_text_exactly_as_written(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("sid,t,v\n10,1,1\n10,0,0\n9,0,2\n9,1,3\n007,0,4\n7,0,5\n")
    ids, arr = long_csv_to_array(path, "sid", "t", ["v"], 2)
    assert list(ids) == ["007", "10", "7", "9"]  # text, sorted as text; 007 and 7 are different ids
    np.testing.assert_array_equal(arr[:, :, 0], [[4, 0], [0, 1], [5, 0], [2, 3]])


def test_errors(tmp_path):
    path = _write(tmp_path, pd.DataFrame({"sid": ["a", "a"], "t": [0, 0], "v": [1.0, 2.0]}))
    with pytest.raises(ValueError, match="step 0 twice"):
        long_csv_to_array(path, "sid", "t", ["v"], 3)
    with pytest.raises(KeyError, match="nope"):
        long_csv_to_array(path, "sid", "t", ["nope"], 3)
    with pytest.raises(ValueError, match="length"):
        long_csv_to_array(path, "sid", "t", ["v"], -1)


def test_length_zero_takes_the_longest_and_no_step_column_keeps_file_order(tmp_path):
    df = pd.DataFrame({"sid": ["b", "a", "b", "a", "a"], "v": [1.0, 2.0, 3.0, 4.0, 5.0], "w": 0.0})
    ids, arr = long_csv_to_array(_write(tmp_path, df), "sid", None, None, 0)
    assert list(ids) == ["a", "b"] and arr.shape == (2, 3, 2)
    np.testing.assert_array_equal(arr[:, :, 0], [[2, 4, 5], [1, 3, 0]])
