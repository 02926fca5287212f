import numpy as np
import pandas as pd
import pytest

from foldwise.errors import FoldwiseError
from foldwise.data.series import cache_series, read_long_csv as long_csv_to_array


def _long(path, lengths, shuffle=True, rng=None):
    rows = []
    for i, n in enumerate(lengths):
        for t in range(n):
            rows.append({"id": f"s{i}", "t": t, "a": 100 * i + t, "b": -t})
    df = pd.DataFrame(rows)
    if shuffle:
        df = df.sample(frac=1, random_state=0)
    df.to_csv(path, index=False)
    return df


def test_unequal_lengths_are_cropped_and_padded(tmp_path):
    path = tmp_path / "x.csv"
    _long(path, [5, 3, 7])
    ids, arr = long_csv_to_array(str(path), "id", "t", ["a", "b"], length=5)
    order = {k: i for i, k in enumerate(ids)}
    assert arr.shape == (3, 5, 2) and arr.dtype == np.float32
    np.testing.assert_array_equal(arr[order["s0"], :, 0], [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(arr[order["s1"], :, 0], [100, 101, 102, 0, 0])  # padded at the end
    np.testing.assert_array_equal(arr[order["s2"], :, 1], [0, -1, -2, -3, -4])  # cropped to the first steps
    _, longest = long_csv_to_array(str(path), "id", "t", None, length=0)
    assert longest.shape == (3, 7, 2)


def test_cache_follows_table_order_and_adds_derived_channels(tmp_path):
    path = tmp_path / "x.csv"
    _long(path, [4, 4])
    table = tmp_path / "t.parquet"
    pd.DataFrame({"id": ["s1", "s0"]}).to_parquet(table)
    out = tmp_path / "c.npy"
    cache_series(str(path), str(table), "id", "t", ["a"], 4, ["diff", "cumsum"], str(out))
    arr = np.load(out)
    np.testing.assert_array_equal(arr[0, :, 0], [100, 101, 102, 103])
    np.testing.assert_array_equal(arr[0, :, 1], [0, 1, 1, 1])
    np.testing.assert_array_equal(arr[0, :, 2], [100, 201, 303, 406])


def test_missing_ids_and_bad_columns_are_refused(tmp_path):
    path = tmp_path / "x.csv"
    _long(path, [3])
    table = tmp_path / "t.parquet"
    pd.DataFrame({"id": ["s0", "ghost"]}).to_parquet(table)
    with pytest.raises(FoldwiseError, match="no rows for 1 id"):
        cache_series(str(path), str(table), "id", "t", None, 3, [], str(tmp_path / "c.npy"))
    assert not (tmp_path / "c.npy").exists()
    with pytest.raises(FoldwiseError, match="gyro"):
        long_csv_to_array(str(path), "id", "t", ["gyro"], 3)
