"""Test-time augmentation: the views a model predicts and averages, per data kind.

The same views serve the validation rows (the OOF predictions) and the test
rows, so the CV measures what the submission gets. A view works on the raw
batch an ``Inputs`` pipeline loads (images: ``(B, C, H, W)`` in ``[0, 1]``
before normalisation; video: ``(B, C, T, H, W)`` likewise, so an image view moves
every frame of a clip alike; series: standardised ``(B, C, T)``); the identity view
always comes first, so view 0 is the plain prediction.

Config (``models.<name>``): ``tta: [hflip, vflip, shift]`` for images,
``tta: [roll]`` for series; ``tta_shift`` and ``tta_roll`` set the sizes.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

from foldwise.kinds import KINDS

# torch is imported where a view runs: the plan-time checks read the view names without it.
VIEWS_BY_KIND = {name: kind.tta_views for name, kind in KINDS.items() if kind.tta_views}  # foldwise.kinds


class View(NamedTuple):
    """One test-time view: a name for logs and a function of the raw batch (a tensor)."""

    name: str
    fn: Callable


def _identity(x):
    return x


def translate(x: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """Shift an image batch by whole pixels, filling with 0 (black, as the training shifts do).

    Shape:
        x: ``(B, C, H, W)``; returns the same shape. ``dy``/``dx`` > 0 move the content down/right.
    """
    import torch.nn.functional as F

    h, w = x.shape[-2:]
    padded = F.pad(x, (max(dx, 0), max(-dx, 0), max(dy, 0), max(-dy, 0)))
    top, left = max(-dy, 0), max(-dx, 0)
    return padded[..., top : top + h, left : left + w]


def tta_views(names: list[str] | tuple[str, ...], kind: str, shift: float = 0.0625, roll: float = 0.05) -> list[View]:
    """The views to average: the identity, then one or more per name, in order.

    Args:
        names: view names (``hflip``, ``vflip``, ``shift`` for images; ``roll`` for series).
        kind: the data kind, ``images`` or ``timeseries``.
        shift: ``shift`` moves the image by this fraction of its side (at least one pixel),
            in 4 views: left, right, up, down.
        roll: ``roll`` shifts a series circularly by this fraction of its length (at least
            one step), in 2 views: back and forth.

    Returns:
        ``[View("identity", ...), ...]``; the spatial sizes are resolved per batch.

    Raises:
        ValueError: a name unknown for the kind (plan-time checks catch it first).
    """
    valid = VIEWS_BY_KIND[kind]
    views = [View("identity", _identity)]
    for name in names:
        if name not in valid:
            raise ValueError(f"unknown test-time view '{name}' for {kind}; valid: {', '.join(valid)}")
        if name == "hflip":
            views.append(View("hflip", lambda x: x.flip(-1)))
        elif name == "vflip":
            views.append(View("vflip", lambda x: x.flip(-2)))
        elif name == "shift":
            for sy, sx, label in ((0, -1, "left"), (0, 1, "right"), (-1, 0, "up"), (1, 0, "down")):
                views.append(View(f"shift_{label}", _shifter(sy, sx, shift)))
        elif name == "roll":
            for sign, label in ((-1, "back"), (1, "forth")):
                views.append(View(f"roll_{label}", _roller(sign, roll)))
    return views


def _pixels(fraction: float, size: int) -> int:
    return max(1, int(round(fraction * size)))


def _shifter(sy: int, sx: int, fraction: float):
    def fn(x):
        h, w = x.shape[-2:]
        return translate(x, sy * _pixels(fraction, h), sx * _pixels(fraction, w))

    return fn


def _roller(sign: int, fraction: float):
    def fn(x):
        import torch

        return torch.roll(x, sign * _pixels(fraction, x.shape[-1]), dims=-1)

    return fn
