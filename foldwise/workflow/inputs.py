"""Raw inputs as the plan sees them: content digests of a split's files and the tabular column layout.

Both are read while the DAG is planned, so they are memoised: the digests on disk
by file stat (:mod:`foldwise.runtime.tracking`: a plan re-hashes only files whose
size, mtime or inode changed), the layout per data section.
"""

from __future__ import annotations

from foldwise.data.tables import DataConfig, split_image_paths, split_table
from foldwise.errors import FoldwiseError
from foldwise.runtime.tracking import HashState, default_state, file_checksum, files_digest


def split_inputs_digest(data: dict, split: str, state: HashState | None = None) -> str | None:
    """Content digest of every raw input of one split: each image or clip, the series CSV, or the table.

    Args:
        data: the validated ``data`` section.
        split: ``train`` or ``test``.
        state: the stat memo to read and update (default: the working directory's; saved after use).

    Returns:
        A hex digest, or None when the split's table cannot be read (the tables rules
        report that with a clear message) or tabular data has no such table.
    """
    d = DataConfig.from_dict(data)
    if d.kind == "timeseries":
        return file_checksum(d.path(getattr(d, f"{split}_series")))
    if d.kind == "tabular":  # the split's table holds the features
        name = d.train_csv if split == "train" else d.test_csv
        return file_checksum(d.path(name)) if name else None
    try:
        names = split_image_paths(d, split, split_table(d, split)[0])
    except FoldwiseError:
        return None
    if d.kind == "video":  # a clip is a file or a folder of frames
        from foldwise.data.video import clip_files

        names = clip_files(d.dir, names)
    own_state = state is None
    state = default_state() if own_state else state
    digest = files_digest(d.dir, names, state)
    if own_state:
        state.save()
    return digest


def tabular_layout(data: dict) -> dict:
    """``data.kind: tabular``: the feature columns and the categorical ones, read from ``train_csv``.

    Raises:
        FoldwiseError: the table cannot be read or a named column is missing.
    """
    from foldwise.data.tabular import tabular_layout as layout

    return layout(DataConfig.from_dict(data), data["feature_cols"], data["categorical_cols"])


def raw_checksums(data: dict, keys: tuple[str, ...]) -> dict[str, str | None]:
    """Content hashes of the competition files named by ``data.<key>`` (None for an unset key)."""
    return {key: file_checksum(f"{data['dir']}/{data[key]}") if data[key] else None for key in keys}
