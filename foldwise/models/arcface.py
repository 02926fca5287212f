"""ArcFace head: an additive angular margin on a normalised embedding (Deng et al., 2019).

Training: the network maps an input to a unit-length embedding and scores it by
``scale * cos(angle to each class centre)``; :func:`arc_margin_logits` adds the
margin to the target classes' angles before the cross-entropy. Prediction: class
probabilities from cosine similarity to the training fold's embeddings,
``softmax(scale * s_c)`` where ``s_c`` is the mean similarity to the ``k``
nearest training embeddings of class ``c`` (:func:`knn_proba`), so an ArcFace
model's OOF and test files have the same form as any model's and blend like one.

Config (``models.<name>.head``): ``kind: arcface``, ``embedding_size`` (512),
``scale`` (30), ``margin`` (0.3 radians), ``neighbours`` (5).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass(frozen=True)
class HeadConfig:
    """The classifier head: ``linear`` (the backbone's own) or ``arcface``; see the schema for each field."""

    kind: str = "linear"
    embedding_size: int = 512
    scale: float = 30.0
    margin: float = 0.3
    neighbours: int = 5

    @property
    def arcface(self) -> bool:
        return self.kind == "arcface"


class ArcFaceNet(nn.Module):
    """A backbone without its classifier, an embedding layer and cosine class centres.

    Args:
        backbone: returns pooled features ``(B, num_features)`` (a timm model with ``num_classes=0``).
        num_features: the backbone's feature size.
        num_classes: number of class centres.
        embedding_size: size of the embedding.
        scale: the logits are ``scale * cos``.

    Shape:
        ``forward(x)`` -> ``(B, num_classes)`` logits ``scale * cos``; ``embed(x)`` -> ``(B, embedding_size)``, unit rows.
    """

    def __init__(self, backbone: nn.Module, num_features: int, num_classes: int, embedding_size: int = 512,
                 scale: float = 30.0):
        super().__init__()
        self.backbone = backbone
        self.embedding = nn.Sequential(nn.Linear(num_features, embedding_size), nn.BatchNorm1d(embedding_size))
        self.arc = nn.Linear(embedding_size, num_classes, bias=False)  # rows are the class centres
        nn.init.xavier_uniform_(self.arc.weight)
        self.scale = scale
        # Mean/std of the backbone for the input pipeline; the head, for freezing and layer-wise decay.
        self.pretrained_cfg = {**(getattr(backbone, "pretrained_cfg", None) or {}), "classifier": ("embedding", "arc")}

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.embedding(self.backbone(x)).float(), dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        emb = self.embed(x)
        with torch.autocast(emb.device.type, enabled=False):  # cosines in float32, also under bf16 autocast
            return self.scale * emb @ F.normalize(self.arc.weight.float(), dim=1).T


def arc_margin_logits(logits: torch.Tensor, target: torch.Tensor, scale: float, margin: float) -> torch.Tensor:
    """Add the angular margin to the target classes: ``scale * cos(angle + margin)`` there.

    Soft or mixed targets (MixUp, CutMix, soft pseudo-labels) get the margin in
    proportion to their weight: ``scale * (t * cos(angle + m) + (1 - t) * cos(angle))``.
    Past ``angle + m > pi`` the usual linear fallback keeps the logit decreasing.

    Args:
        logits: ``scale * cos`` from :class:`ArcFaceNet`.
        target: ``(B,)`` class indices or ``(B, K)`` class weights.
        scale, margin: the head's settings (margin in radians).

    Shape:
        logits ``(B, K)`` -> ``(B, K)``.
    """
    cos = (logits.float() / scale).clamp(-1 + 1e-7, 1 - 1e-7)
    sin = torch.sqrt(1.0 - cos * cos)
    phi = cos * math.cos(margin) - sin * math.sin(margin)
    phi = torch.where(cos > math.cos(math.pi - margin), phi, cos - math.sin(math.pi - margin) * margin)
    weight = F.one_hot(target, cos.shape[1]).to(cos.dtype) if target.ndim == 1 else target.to(cos.dtype)
    return scale * (weight * phi + (1 - weight) * cos)


def knn_proba(query: torch.Tensor, reference: torch.Tensor, labels: torch.Tensor, n_classes: int, k: int,
              scale: float) -> torch.Tensor:
    """Class probabilities from cosine similarity to labelled embeddings.

    The similarity of a query to class ``c`` is the mean cosine similarity to its
    ``k`` nearest reference embeddings of class ``c`` (all of them when fewer); a
    class without references scores -1. Probabilities: softmax of ``scale`` times these.

    Args:
        query: unit embeddings to classify.
        reference: unit embeddings of the training fold.
        labels: the reference rows' classes.
        n_classes: number of classes K.
        k: neighbours per class.
        scale: softmax temperature (the head's scale).

    Shape:
        query ``(B, E)``, reference ``(R, E)``, labels ``(R,)`` -> ``(B, K)`` float32.
    """
    with torch.autocast(query.device.type, enabled=False):
        sims = query.float() @ reference.float().T
    out = torch.full((len(query), n_classes), -1.0, device=query.device)
    for c in range(n_classes):
        own = sims[:, labels == c]
        if own.shape[1]:
            out[:, c] = own.topk(min(k, own.shape[1]), dim=1).values.mean(1)
    return torch.softmax(scale * out, dim=1)
