"""A classic model's fitted state as plain arrays: saved without pickle, loaded without running code.

The ``train`` rule's ``best.pt`` of a classic model is a NumPy ``.npz`` archive
(a zip of ``.npy`` arrays) holding every fitted parameter — channel statistics,
ROCKET kernels' dilations and biases, feature scaling, ridge or logistic
coefficients, a LightGBM model in its own text format — plus a JSON header
naming the format, the family and the settings. It is read with
``np.load(allow_pickle=False)``: an archive holding an object array, or any
file that is not such an archive, is refused, so a crafted file cannot run
code (a torch file is refused the same way, and the nets' loader,
``torch.load(weights_only=True)``, refuses these archives).
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np

from foldwise.errors import FoldwiseError
from foldwise.io import atomic_path

FORMAT = "foldwise-classic/1"
_HEADER = "__header__"


def save_state(path: str | Path, arrays: dict[str, np.ndarray], header: dict) -> None:
    """Write ``arrays`` and a JSON ``header`` atomically as one ``.npz`` archive at ``path``."""
    bad = [k for k, v in arrays.items() if np.asarray(v).dtype == object]
    if bad:
        raise TypeError(f"object arrays cannot be stored without pickle: {bad}")
    blob = np.frombuffer(json.dumps({"format": FORMAT, **header}, sort_keys=True).encode(), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **{_HEADER: blob}, **{k: np.asarray(v) for k, v in arrays.items()})
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(buf.getvalue())


def load_state(path: str | Path) -> tuple[dict[str, np.ndarray], dict]:
    """The arrays and header saved by :func:`save_state`.

    Raises:
        FoldwiseError: the file is not a classic-model archive (e.g. a torch checkpoint), or holds pickled objects.
    """
    path = Path(path)
    if not zipfile.is_zipfile(path):
        raise FoldwiseError(f"{path} is not a fitted classic model (not an .npz archive)")
    try:
        with np.load(path, allow_pickle=False) as npz:
            if _HEADER not in npz.files:
                raise FoldwiseError(f"{path} is not a fitted classic model (no {_HEADER}: a torch checkpoint?)")
            header = json.loads(npz[_HEADER].tobytes().decode())
            arrays = {k: npz[k] for k in npz.files if k != _HEADER}
    except ValueError as exc:  # numpy refuses object arrays without allow_pickle
        raise FoldwiseError(f"{path}: refused, it holds pickled objects ({exc})") from None
    if header.get("format") != FORMAT:
        raise FoldwiseError(f"{path}: unknown format {header.get('format')!r}; expected {FORMAT}")
    return arrays, header


def text_array(text: str) -> np.ndarray:
    """A string as a uint8 array (for text model formats such as LightGBM's)."""
    return np.frombuffer(text.encode(), dtype=np.uint8)


def array_text(array: np.ndarray) -> str:
    """The string stored by :func:`text_array`."""
    return np.asarray(array, dtype=np.uint8).tobytes().decode()
