"""Staged unfreezing and the optimiser's parameter groups.

For the first ``freeze.epochs`` epochs the backbone (every parameter outside the
head, or the modules ``freeze.modules`` names) gets no gradient, and its
BatchNorm layers keep their running statistics; then the whole network trains,
the backbone at ``lr * freeze.lr_mult``. ``freeze.layer_decay`` scales the
learning rate down layer by layer from the head (timm's
:func:`~timm.optim.param_groups_layer_decay`, BEiT-style).

Frozen parameters stay in the optimiser: AdamW skips a parameter without a
gradient (no moment update, no weight decay), and its state starts at the first
step after unfreezing. The head is the model's ``pretrained_cfg["classifier"]``,
as timm names it (``fc``, ``head.fc``, …; ``head`` for the 1-D nets; the
embedding and class centres of an ArcFace head).

Config (``models.<name>.freeze``): ``epochs``, ``modules``, ``lr_mult``, ``layer_decay``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from foldwise.errors import FoldwiseError


@dataclass(frozen=True)
class FreezeConfig:
    """Freezing and learning-rate settings; see the schema for each field."""

    epochs: int = 0
    modules: tuple[str, ...] | list[str] | None = None
    lr_mult: float = 1.0
    layer_decay: float | None = None


def head_prefixes(model: nn.Module) -> tuple[str, ...]:
    """Parameter-name prefixes of the model's head (``pretrained_cfg["classifier"]``)."""
    head = (getattr(model, "pretrained_cfg", None) or {}).get("classifier")
    if not head:
        raise FoldwiseError(f"{type(model).__name__} does not name its classifier (pretrained_cfg['classifier'])")
    return (head,) if isinstance(head, str) else tuple(head)


def _under(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def backbone_names(model: nn.Module, modules=None) -> list[str]:
    """Names of the parameters freezing holds: those under ``modules``, or all outside the head.

    Raises:
        FoldwiseError: a module name matches no parameter (lists the top-level modules).
    """
    names = [n for n, _ in model.named_parameters()]
    if not modules:
        head = head_prefixes(model)
        return [n for n in names if not _under(n, head)]
    for prefix in modules:
        if not any(_under(n, [prefix]) for n in names):
            raise FoldwiseError(
                f"models.<name>.freeze.modules: '{prefix}' names no module of {type(model).__name__}; "
                f"its top-level modules: {', '.join(dict.fromkeys(n.split('.')[0] for n in names))}"
            )
    return [n for n in names if _under(n, modules)]


class Freezer:
    """Holds the backbone's parameters and BatchNorm statistics during the first epochs.

    Args:
        model: the (uncompiled) model.
        cfg: the settings.
    """

    def __init__(self, model: nn.Module, cfg: FreezeConfig):
        self.cfg, self.model = cfg, model
        held = set(backbone_names(model, cfg.modules)) if cfg.epochs > 0 else set()
        self.params = [p for n, p in model.named_parameters() if n in held]
        self.norms = [
            m for n, m in model.named_modules()
            if isinstance(m, nn.modules.batchnorm._BatchNorm) and any(n + "." + k in held for k, _ in m.named_parameters())
        ]
        self.frozen = False

    def set_epoch(self, epoch: int) -> None:
        """Freeze for epochs ``1..cfg.epochs`` (1-based), unfreeze after."""
        self.frozen = bool(self.params) and epoch <= self.cfg.epochs
        for p in self.params:
            p.requires_grad_(not self.frozen)

    def train_mode(self, net: nn.Module) -> None:
        """``net.train()``, with the frozen BatchNorm layers in eval mode."""
        net.train()
        if self.frozen:
            for m in self.norms:
                m.eval()


def create_optimizer(model: nn.Module, lr: float, weight_decay: float, cfg: FreezeConfig) -> torch.optim.Optimizer:
    """timm's AdamW, with the backbone at ``lr * lr_mult`` and optional layer-wise decay.

    Without ``lr_mult`` or ``layer_decay`` this is exactly ``create_optimizer_v2(model, "adamw", ...)``.
    Each group's ``lr`` is its scaled rate, which the fold's LambdaLR schedule multiplies.
    """
    from timm.optim import create_optimizer_v2, param_groups_layer_decay, param_groups_weight_decay

    if cfg.lr_mult == 1.0 and cfg.layer_decay is None:
        return create_optimizer_v2(model, "adamw", lr=lr, weight_decay=weight_decay)
    body = getattr(model, "backbone", None) if hasattr(model, "embed") else None  # an ArcFace net: decay its body
    target, prefix = (body, "backbone.") if body is not None else (model, "")
    if cfg.layer_decay is not None:
        groups = param_groups_layer_decay(target, weight_decay, layer_decay=cfg.layer_decay)
    else:
        groups = param_groups_weight_decay(target, weight_decay)
    if body is not None:  # the ArcFace head's parameters: the last layer, scale 1
        rest = [(n, p) for n, p in model.named_parameters() if not n.startswith(prefix)]
        groups = list(groups) + [
            {"params": [p for _, p in rest if p.ndim > 1], "weight_decay": weight_decay},
            {"params": [p for _, p in rest if p.ndim <= 1], "weight_decay": 0.0},
        ]
    held = {id(p) for n, p in model.named_parameters() if n in set(backbone_names(model, cfg.modules))}
    out = []
    for group in groups:
        scale = group.pop("lr_scale", 1.0)
        for in_backbone in (True, False):
            params = [p for p in group["params"] if (id(p) in held) == in_backbone]
            if params:
                mult = cfg.lr_mult if in_backbone else 1.0
                out.append({**group, "params": params, "lr": lr * scale * mult})
    return create_optimizer_v2(out, "adamw", lr=lr, weight_decay=weight_decay)
