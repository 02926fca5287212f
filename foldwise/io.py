"""Files: atomic writes, text-exact CSV reads, hashing and the cache's memmap.

An interrupted write never leaves a file that looks complete.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

import pandas as pd


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only on success.

    Args:
        path: the final destination.
        suffix: extension for the temporary file (some writers need ``.npy``).

    Returns:
        A context manager yielding the temporary :class:`Path`. On an exception
        the temporary file is removed and ``path`` is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix + ".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600: give the file the mode open() would
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as indented, key-sorted JSON atomically (stable bytes for equal content)."""
    write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=_jsonable) + "\n")


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file."""
    with open(path) as fh:
        return json.load(fh)


def load_classes(path: str | os.PathLike) -> list[str]:
    """The class labels of ``results/data/classes.json``, in probability-column order."""
    return list(read_json(path)["classes"])


def read_csv(path: str | os.PathLike, what: str) -> pd.DataFrame:
    """Read a competition CSV with every column as text, exactly as written.

    ``007`` stays ``007`` and ``7`` stays ``7`` (no number parsing); a UTF-8 byte
    order mark and CRLF line endings are accepted; only an empty cell is missing
    (``NA`` or ``null`` are kept as text).

    Args:
        path: the file.
        what: what the file is, with its config key, for messages.

    Raises:
        FoldwiseError: the file is missing or cannot be read as CSV.
    """
    from foldwise.errors import FoldwiseError

    path = Path(path)
    if not path.is_file():
        raise FoldwiseError(f"{what} not found: {path} (check data.dir and the file name in the config)")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise FoldwiseError(f"{what} {path} cannot be read as CSV: {exc}") from None
    df.columns = [str(c).strip() for c in df.columns]
    return df


def open_cache(path: str | os.PathLike):
    """Open a cache read-only as a memmap.

    Shape:
        ``(N, H, W, C)`` uint8 for images, ``(N, T, C)`` float32 for series.
    """
    import numpy as np

    return np.load(path, mmap_mode="r")


def write_csv(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write a CSV without the index, atomically."""
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)


def write_parquet(df: pd.DataFrame, path: str | os.PathLike, metadata: dict[str, str] | None = None) -> None:
    """Write ``df`` as parquet atomically, with optional key/value schema metadata.

    Args:
        df: the table; its index is dropped.
        path: destination.
        metadata: string pairs stored in the parquet schema (e.g. ``folds_sha256``).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    if metadata:
        merged = dict(table.schema.metadata or {})
        merged.update({k.encode(): str(v).encode() for k, v in metadata.items()})
        table = table.replace_schema_metadata(merged)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def read_parquet_metadata(path: str | os.PathLike) -> dict[str, str]:
    """Return the foldwise key/value metadata of a parquet file (pandas' own key dropped)."""
    import pyarrow.parquet as pq

    meta = pq.read_schema(path).metadata or {}
    return {k.decode(): v.decode() for k, v in meta.items() if k != b"pandas"}


def sha256_file(path: str | os.PathLike) -> str:
    """SHA-256 hex digest of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_json(obj: Any) -> str:
    """SHA-256 of the canonical JSON form of ``obj`` (key order does not matter)."""
    blob = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_jsonable)
    return hashlib.sha256(blob.encode()).hexdigest()


def _jsonable(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
