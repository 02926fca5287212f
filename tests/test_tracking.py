"""Raw inputs tracked by content: hashes memoised by (size, mtime_ns, inode), digests of whole splits."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from foldwise.runtime import tracking
from foldwise.runtime.tracking import HashState, files_digest


@pytest.fixture
def files(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(5):
        (folder / f"{i}.bin").write_bytes(bytes([i]) * (100 + i))
    return folder


@pytest.fixture
def counted(monkeypatch):
    """Count the files actually read and hashed."""
    calls = []
    real = tracking._sha256

    def spy(path):
        calls.append(path)
        return real(path)

    monkeypatch.setattr(tracking, "_sha256", spy)
    return calls


def test_digest_is_the_files_sha256(files, tmp_path):
    state = HashState(str(tmp_path / "state.json"))
    path = str(files / "3.bin")
    assert state.digest(path) == hashlib.sha256(bytes([3]) * 103).hexdigest()
    assert state.digest(str(files / "missing.bin")) is None
    assert state.digest(str(files)) is None  # a folder is not a file


def test_a_second_plan_reads_no_file(files, tmp_path, counted):
    names = sorted(p.name for p in files.iterdir())
    state_path = str(tmp_path / "state.json")
    first = HashState(state_path)
    d1 = files_digest(str(files), names, first)
    first.save()
    assert len(counted) == 5
    counted.clear()
    second = HashState(state_path)  # a new process: the memo comes from disk
    assert files_digest(str(files), names, second) == d1
    assert counted == []


def test_touch_rehashes_but_keeps_the_digest(files, tmp_path, counted):
    names = sorted(p.name for p in files.iterdir())
    state = HashState(str(tmp_path / "state.json"))
    d1 = files_digest(str(files), names, state)
    counted.clear()
    later = os.stat(files / "2.bin").st_mtime + 10
    os.utime(files / "2.bin", (later, later))
    assert files_digest(str(files), names, state) == d1
    assert counted == [str(files / "2.bin")]  # only the file whose stat changed


def test_content_change_with_the_same_size_and_mtime_is_caught_by_the_inode(files, tmp_path):
    names = sorted(p.name for p in files.iterdir())
    state = HashState(str(tmp_path / "state.json"))
    d1 = files_digest(str(files), names, state)
    target = files / "1.bin"
    st = os.stat(target)
    replacement = files / "new.tmp"
    replacement.write_bytes(b"\xff" * st.st_size)  # same size, other bytes, new inode
    os.utime(replacement, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(replacement, target)
    assert files_digest(str(files), names, state) != d1


def test_digest_covers_names_order_and_missing_files(files, tmp_path):
    state = HashState(str(tmp_path / "state.json"))
    a = files_digest(str(files), ["0.bin", "1.bin"], state)
    assert files_digest(str(files), ["1.bin", "0.bin"], state) != a  # row order is part of the cache
    assert files_digest(str(files), ["0.bin", "1.bin", "9.bin"], state) != a
    with_missing = files_digest(str(files), ["0.bin", "9.bin"], state)
    (files / "9.bin").write_bytes(b"now here")
    assert files_digest(str(files), ["0.bin", "9.bin"], state) != with_missing


def test_a_corrupt_or_foreign_state_file_is_ignored(files, tmp_path):
    state_path = tmp_path / "state.json"
    state_path.write_text("{not json")
    state = HashState(str(state_path))
    assert state.digest(str(files / "0.bin")) == hashlib.sha256(bytes([0]) * 100).hexdigest()
    state.save()
    blob = json.loads(state_path.read_text())
    assert blob["version"] == 1 and blob["path"] == [str(files / "0.bin")]
    state_path.write_text(json.dumps({"version": 999, "path": ["x"]}))
    assert HashState(str(state_path))._entries == {}


def test_save_writes_only_when_something_changed(files, tmp_path):
    state_path = tmp_path / "sub" / "state.json"
    state = HashState(str(state_path))
    state.save()
    assert not state_path.exists()
    state.digest(str(files / "0.bin"))
    state.save()
    mtime = state_path.stat().st_mtime_ns
    again = HashState(str(state_path))
    again.digest(str(files / "0.bin"))
    again.save()
    assert state_path.stat().st_mtime_ns == mtime
