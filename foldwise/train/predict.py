"""Batched inference from a cache through an ``Inputs`` pipeline (see :mod:`foldwise.train.inputs`).

Shared by validation (the OOF predictions) and the ``predict`` rule (the test
predictions), so both go through the same test-time views
(:mod:`foldwise.train.tta`) and, for an ArcFace head, the same nearest-neighbour
probabilities (:mod:`foldwise.models.arcface`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from foldwise.models.arcface import knn_proba
from foldwise.train.tta import View, tta_views


def select_device() -> torch.device:
    """CUDA when present, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


ACTIVATIONS = {"softmax": lambda z: z.softmax(1), "sigmoid": torch.sigmoid}


class Reference(NamedTuple):
    """Labelled embeddings that an ArcFace model's predictions are measured against.

    Shape:
        embeddings ``(R, E)`` unit rows on the device; labels ``(R,)`` long on the device.
    """

    embeddings: torch.Tensor
    labels: torch.Tensor
    n_classes: int
    neighbours: int
    scale: float


def _rows(inputs, indices) -> np.ndarray:
    return np.arange(len(inputs.data)) if indices is None else np.asarray(indices)


@torch.no_grad()
def build_reference(model, inputs, indices: np.ndarray, y: np.ndarray, n_classes: int, neighbours: int,
                    scale: float, batch_size: int = 256, autocast: bool = False) -> Reference:
    """Embed labelled rows (no test-time views) for :func:`predict_views`.

    Args:
        model: an :class:`~foldwise.models.arcface.ArcFaceNet` (put in eval mode here).
        inputs: the pipeline over the cache the rows index.
        indices: the rows (the fold's labelled training rows).
        y: ``(len(indices),)`` their classes.
        n_classes, neighbours, scale: the number of classes and the head's ``neighbours`` and ``scale``.
    """
    model.eval()
    rows, out = _rows(inputs, indices), []
    for start in range(0, len(rows), batch_size):
        x = inputs.batch(rows[start : start + batch_size])
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=autocast):
            out.append(model.embed(x).float())
    device = inputs.device
    labels = torch.as_tensor(np.asarray(y), dtype=torch.long, device=device)
    return Reference(torch.cat(out), labels, int(n_classes), int(neighbours), float(scale))


@torch.no_grad()
def predict_views(
    model: torch.nn.Module,
    inputs,
    indices: np.ndarray | None,
    batch_size: int = 256,
    views: list[View] | None = None,
    autocast: bool = False,
    activation: str = "softmax",
    reference: Reference | None = None,
) -> np.ndarray:
    """Probabilities of every test-time view, for rows of a cache.

    Args:
        model: the classifier (put in eval mode here).
        inputs: an ``Inputs`` object over the cache (``ImageInputs``/``SeriesInputs``).
        indices: rows to predict, or None for all.
        batch_size: rows per forward pass.
        views: test-time views (:func:`foldwise.train.tta.tta_views`); None = the identity only.
        autocast: bf16 autocast (CUDA).
        activation: ``softmax`` (one class per row) or ``sigmoid`` (independent labels).
        reference: for an ArcFace head, the training fold's embeddings; probabilities then
            come from :func:`foldwise.models.arcface.knn_proba`.

    Returns:
        ``(V, len(indices), K)`` float32; view 0 is the identity (the plain prediction).
    """
    act = ACTIVATIONS[activation]
    views = views or [View("identity", lambda x: x)]
    model.eval()
    rows = _rows(inputs, indices)
    out: list[list[np.ndarray]] = [[] for _ in views]
    for start in range(0, len(rows), batch_size):
        raw = inputs.load(rows[start : start + batch_size])
        for v, view in enumerate(views):
            x = inputs.finish(view.fn(raw))
            with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=autocast):
                if reference is None:
                    probs = act(model(x).float())
                else:
                    r = reference
                    probs = knn_proba(model.embed(x), r.embeddings, r.labels, r.n_classes, r.neighbours, r.scale)
            out[v].append(probs.float().cpu().numpy())
    if not len(rows):
        return np.zeros((len(views), 0, 0), dtype=np.float32)
    return np.stack([np.concatenate(o) for o in out]).astype(np.float32)


def predict_proba(
    model: torch.nn.Module,
    inputs,
    indices: np.ndarray | None,
    batch_size: int = 256,
    tta: list[str] | tuple[str, ...] = (),
    autocast: bool = False,
    activation: str = "softmax",
    kind: str = "images",
    reference: Reference | None = None,
) -> np.ndarray:
    """Class (or label) probabilities for rows of a cache, averaged over the test-time views.

    Args:
        tta: view names (``hflip``, ``vflip``, ``shift``; series ``roll``), default sizes.
        kind: the data kind the views are for.
        Others: as :func:`predict_views`.

    Returns:
        ``(len(indices), K)`` float32 probabilities.
    """
    views = tta_views(list(tta), kind) if tta else None
    return predict_views(model, inputs, indices, batch_size, views, autocast, activation, reference).mean(0)
