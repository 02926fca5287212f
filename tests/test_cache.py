import cv2
import numpy as np
import pandas as pd
import pytest

from foldwise.data.images import build_image_cache, cache_images
from foldwise.io import open_cache
from foldwise.errors import FoldwiseError


def _write_images(folder, n, rng, size=(20, 30)):
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        img = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
        p = folder / f"im{i}.png"
        cv2.imwrite(str(p), img)
        paths.append(p)
    return paths


@pytest.mark.parametrize("threads", [1, 2])
def test_round_trip_matches_direct_decode(tmp_path, rng, threads):
    paths = _write_images(tmp_path / "img", 13, rng)
    out = tmp_path / "cache.npy"
    build_image_cache(paths, 16, 3, str(out), threads=threads)
    arr = open_cache(str(out))
    assert isinstance(arr, np.memmap) and arr.dtype == np.uint8 and arr.shape == (13, 16, 16, 3)
    for i, p in enumerate(paths):
        want = cv2.cvtColor(cv2.resize(cv2.imread(str(p)), (16, 16), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
        np.testing.assert_array_equal(arr[i], want)


def test_grayscale_cache_in_table_order(tmp_path, rng):
    paths = _write_images(tmp_path / "train_images", 5, rng)
    table = tmp_path / "t.parquet"
    order = [3, 1, 4, 0, 2]
    pd.DataFrame({"id": [f"im{i}" for i in order], "path": [f"train_images/im{i}.png" for i in order]}).to_parquet(table)
    out = tmp_path / "c.npy"
    cache_images(str(tmp_path), 1, str(table), 8, str(out), 1)
    arr = np.load(out)
    assert arr.shape == (5, 8, 8, 1)
    want = cv2.resize(cv2.imread(str(paths[3]), cv2.IMREAD_GRAYSCALE), (8, 8), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(arr[0, :, :, 0], want)


def test_corrupt_image_fails_and_leaves_no_output(tmp_path, rng):
    paths = _write_images(tmp_path / "img", 4, rng)
    paths[2].write_bytes(paths[2].read_bytes()[:40])  # truncated PNG
    out = tmp_path / "cache.npy"
    with pytest.raises(FoldwiseError, match="im2.png"):
        build_image_cache(paths, 8, 3, str(out), threads=2)
    assert not out.exists()
    assert not list(tmp_path.glob(".cache.npy*"))
