"""Networks by name: the modules of foldwise's own nets register their builders here.

As timm's ``@register_model``: a module decorates each builder with the name it
answers to and the data kind it reads; :func:`foldwise.models.factory.create_model`
looks a backbone up here first and falls back to timm. Importing
:mod:`foldwise.models._builtin` imports (so registers) every module with builders.

A builder's calling convention is its kind's:

* ``timeseries``: ``builder(in_chans, num_classes, **kwargs) -> nn.Module``; ``num_classes=0``
  returns the pooled features (as timm), ``num_features`` gives their size.
* ``video``: ``builder(num_classes, in_chans=3, pretrained=False, **kwargs) -> ClipModel``;
  it loads its own weights file (see :mod:`foldwise.models.video`).

Nothing here imports torch, nor timm but to list its names in an error, nor any
module that registers builders, so registering makes no import cycle.
"""

from __future__ import annotations

import difflib
from typing import Callable, TypeVar

KINDS = ("timeseries", "video")  # the data kinds foldwise has nets of its own for; images: timm's
_MODELS: dict[str, dict[str, Callable]] = {kind: {} for kind in KINDS}

F = TypeVar("F", bound=Callable)


def register_model(name: str | None = None, *, kind: str) -> Callable[[F], F]:
    """Decorator: register a builder (a function or an ``nn.Module`` class) under ``name``.

    Args:
        name: the backbone name; the builder's ``__name__`` when None.
        kind: the data kind it reads, one of :data:`KINDS` (sets the calling convention).

    Returns:
        The decorator; it returns the builder unchanged.

    Raises:
        KeyError: an unknown kind.
        ValueError: a name registered already (for either kind).
    """
    if kind not in _MODELS:
        raise KeyError(f"unknown model kind '{kind}'; valid: {', '.join(KINDS)}")

    def decorate(builder: F) -> F:
        key = name or builder.__name__
        if model_kind(key) is not None:
            raise ValueError(f"model '{key}' is registered already (as a {model_kind(key)} net)")
        _MODELS[kind][key] = builder
        return builder

    return decorate


def model_family(kind: str) -> dict[str, Callable]:
    """The registered builders of one kind, name -> builder, in registration order.

    The registry's own dict, not a copy: a test may add a net with ``monkeypatch.setitem``.
    """
    try:
        return _MODELS[kind]
    except KeyError:
        raise KeyError(f"unknown model kind '{kind}'; valid: {', '.join(KINDS)}") from None


def list_models(kind: str | None = None) -> list[str]:
    """Registered names of one kind (all kinds when None), in registration order."""
    return list(model_family(kind)) if kind else [n for family in _MODELS.values() for n in family]


def model_kind(name: str) -> str | None:
    """The kind a registered name reads, or None (a timm name, or unknown)."""
    return next((kind for kind, family in _MODELS.items() if name in family), None)


def model_entrypoint(name: str, kind: str | None = None) -> Callable:
    """The builder registered as ``name`` (of ``kind`` when given).

    Raises:
        KeyError: not registered; lists the valid names.
    """
    found = model_kind(name)
    if found is None or (kind and found != kind):
        valid = list_models(kind)
        close = difflib.get_close_matches(name, valid, n=3, cutoff=0.6)
        raise KeyError(
            f"unknown {kind + ' ' if kind else ''}backbone '{name}'; valid: {', '.join(valid)}"
            + (f" (did you mean {', '.join(close)}?)" if close else "")
        )
    return _MODELS[found][name]


def check_timm_name(name: str, role: str = "backbone") -> None:
    """Raise unless timm has ``name`` (imports timm).

    Args:
        name: a timm model name (a pretrained tag such as ``resnet50.a1_in1k`` allowed).
        role: what the name is for, in the message (``backbone``; ``encoder`` of a frame net).

    Raises:
        KeyError: not a timm model; lists foldwise's own nets (for a backbone) and close matches.
    """
    import timm

    if timm.is_model(name):
        return
    own = list_models() if role == "backbone" else []
    close = difflib.get_close_matches(name, [*own, *timm.list_models()], n=5, cutoff=0.6)
    where = f"not one of foldwise's nets ({', '.join(own)}) nor a timm model" if own else "not a timm model"
    raise KeyError(
        f"unknown {role} '{name}': {where}"
        + (f"; close matches: {', '.join(close)}" if close else "; see timm.list_models()")
    )
