"""Raw inputs tracked by content, as DVC does: a SHA-256 per file, memoised by its stat.

Snakemake decides what to re-run from modification times; a competition's raw
files (CSVs, series CSVs, every image) are instead tracked by content: the
rules that read them carry a digest of their contents in their ``params``, so
``touch`` re-runs nothing, and replacing one image re-runs that split's cache.

Hashing 50,000 images on every plan would be slow, so each file's hash is
memoised in a small state file under ``.snakemake/`` keyed by
``(path, size, mtime_ns, inode)``: a plan re-hashes only files whose stat
changed. Nothing here imports torch; the Snakefile calls it while planning.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable

STATE_PATH = os.path.join(".snakemake", "foldwise", "content-hashes.json")
_VERSION = 1


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class HashState:
    """Content hashes of files, memoised on disk by ``(size, mtime_ns, inode)``.

    Args:
        path: the state file (JSON); missing or unreadable means empty.

    The state is a cache: losing it costs one re-hash, never a wrong answer
    (an entry is used only when the file's size, mtime and inode all match).
    """

    def __init__(self, path: str = STATE_PATH):
        self.path = path
        self._entries: dict[str, tuple[int, int, int, str]] = {}
        self._dirty = False
        try:
            with open(path) as fh:
                blob = json.load(fh)
            if blob.get("version") == _VERSION:
                self._entries = {
                    p: (s, m, i, h)
                    for p, s, m, i, h in zip(blob["path"], blob["size"], blob["mtime_ns"], blob["inode"], blob["sha256"])
                }
        except (OSError, ValueError, KeyError, TypeError):
            pass

    def digest(self, path: str) -> str | None:
        """SHA-256 of ``path``'s content, or None when it is not a file."""
        try:
            st = os.stat(path)
        except OSError:
            return None
        key = (st.st_size, st.st_mtime_ns, st.st_ino)
        entry = self._entries.get(path)
        if entry is not None and entry[:3] == key:
            return entry[3]
        if not os.path.isfile(path):
            return None
        h = _sha256(path)
        self._entries[path] = (*key, h)
        self._dirty = True
        return h

    def save(self) -> None:
        """Write the state atomically when it changed (a lost race only costs a re-hash later)."""
        if not self._dirty:
            return
        items = sorted(self._entries.items())
        blob = {
            "version": _VERSION,
            "path": [p for p, _ in items],
            "size": [e[0] for _, e in items],
            "mtime_ns": [e[1] for _, e in items],
            "inode": [e[2] for _, e in items],
            "sha256": [e[3] for _, e in items],
        }
        folder = os.path.dirname(self.path) or "."
        try:
            os.makedirs(folder, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".content-hashes.", dir=folder)
            with os.fdopen(fd, "w") as fh:
                json.dump(blob, fh, separators=(",", ":"))
            os.replace(tmp, self.path)
            self._dirty = False
        except OSError:  # a read-only working directory: hash again next time
            pass


def files_digest(root: str, names: Iterable[str], state: HashState) -> str:
    """One SHA-256 over the names and content hashes of files under ``root`` (in the given order).

    Args:
        root: the folder the names are relative to (not part of the digest).
        names: relative paths.
        state: the memo of content hashes.

    A missing file counts as ``missing``, so creating it later changes the digest.
    """
    h = hashlib.sha256()
    prefix = os.path.join(root, "")
    for name in names:
        h.update(name.encode("utf-8", "surrogateescape"))
        h.update(b"\0")
        h.update((state.digest(prefix + name) or "missing").encode())
        h.update(b"\n")
    return h.hexdigest()


_DEFAULT: HashState | None = None


def default_state() -> HashState:
    """The working directory's state, loaded once per process."""
    global _DEFAULT
    if _DEFAULT is None or _DEFAULT.path != STATE_PATH:
        _DEFAULT = HashState(STATE_PATH)
    return _DEFAULT


def file_checksum(path: str | os.PathLike) -> str | None:
    """SHA-256 of one file's content (memoised in the working directory's state), or None if absent."""
    state = default_state()
    digest = state.digest(os.fspath(path))
    state.save()
    return digest
