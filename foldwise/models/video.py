"""Video classifiers: per-frame 2D backbones, torchvision 3D CNNs and a small SlowFast.

Every net here reads a clip as ``(N, C, T, H, W)`` float and returns
``(N, num_classes)`` logits. :func:`create_video_model` wraps it in a
:class:`ClipModel`, which carries the clip settings the input pipeline reads
(``clip_frames``, ``temporal_jitter``, normalisation) and averages the logits
over ``tta_offsets`` temporal windows at prediction time.

Families (``backbone`` names, each registered as a ``video`` net of
:mod:`foldwise.models.registry` by the builder of the same name at the end of this module):
    ``frame_mean``: a timm 2D ``encoder`` applied to every frame, features averaged
    over time (the per-frame baseline: it cannot see motion).
    ``frame_tconv``: the same with a temporal 1D convolution over the frame
    features before pooling (cheap motion).
    ``frame_tshift``: the same with a temporal shift inside the encoder (TSM).
    ``r3d_18``, ``r2plus1d_18``, ``mc3_18``: torchvision's video ResNets, with a
    ``width`` (64 = torchvision's, whose weights files load).
    ``slowfast``: two pathways (see :class:`SlowFast`).
"""

from __future__ import annotations

import torch
import torch.nn as nn

from foldwise.models.names import FRAME_ENCODER
from foldwise.models.registry import check_timm_name, model_entrypoint, model_family, register_model
from foldwise.models.state_dict import load_pretrained

KINETICS_MEAN, KINETICS_STD = (0.43216, 0.394666, 0.37645), (0.22803, 0.22145, 0.216989)


class ClipModel(nn.Module):
    """A video net plus its clip settings.

    Args:
        net: ``(N, C, L, H, W)`` -> ``(N, K)`` logits.
        clip_frames: ``L``, frames the net sees; 0 = every cached frame.
        temporal_jitter: training only (read by the input pipeline): each sampled frame index
            moves by a random integer in ``[-temporal_jitter, temporal_jitter]`` (order kept).
        tta_offsets: prediction: logits averaged over this many windows of ``L`` frames at evenly
            spaced offsets of the cached ``T`` (1 = the centre window; needs ``T > L`` to differ).
        mean, std: per-channel normalisation the input pipeline applies.

    Shape:
        x: ``(N, C, T, H, W)``; returns ``(N, K)``.
    """

    def __init__(self, net: nn.Module, clip_frames: int = 0, temporal_jitter: int = 0, tta_offsets: int = 1,
                 mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5)):
        super().__init__()
        self.net, self.clip_frames = net, int(clip_frames)
        self.temporal_jitter, self.tta_offsets = int(temporal_jitter), max(1, int(tta_offsets))
        self.pretrained_cfg = {"mean": tuple(mean), "std": tuple(std)}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t, length = x.shape[2], self.clip_frames or x.shape[2]
        if t <= length:
            return self.net(x)
        k = 1 if self.training else self.tta_offsets
        starts = torch.linspace(0, t - length, k + 2)[1:-1] if k == 1 else torch.linspace(0, t - length, k)
        return torch.stack([self.net(x[:, :, int(s) : int(s) + length]) for s in starts.round()]).mean(0)


def temporal_shift(x: torch.Tensor, t: int, fold_div: int = 8) -> torch.Tensor:
    """Shift 1/fold_div of the channels one frame back and 1/fold_div one frame forward (TSM, Lin et al., 2019).

    Shape:
        x: ``(N * T, C, H, W)``, frames of a clip consecutive; returns the same shape.
    """
    nt, c, h, w = x.shape
    x = x.view(nt // t, t, c, h, w)
    f = max(1, c // fold_div)
    out = torch.zeros_like(x)
    out[:, :-1, :f] = x[:, 1:, :f]  # the next frame's channels
    out[:, 1:, f : 2 * f] = x[:, :-1, f : 2 * f]  # the previous frame's
    out[:, :, 2 * f :] = x[:, :, 2 * f :]
    return out.view(nt, c, h, w)


class FrameNet(nn.Module):
    """A timm 2D backbone per frame; mean over time, or a temporal 1D convolution first.

    Args:
        encoder: timm model name (features: ``num_classes=0``).
        in_chans, num_classes: input channels and outputs.
        temporal: ``mean`` (per-frame baseline), ``conv`` (residual Conv1d over time, kernel 3, on the
            frame features) or ``shift`` (temporal shift of 1/4 of the channels before every spatial
            convolution of the encoder but the stem, then the mean: TSM).
        temporal_layers: stacked temporal convolutions (``conv`` only).
        spatial_pool: 1 averages each frame's feature map globally; ``k > 1`` pools it to ``k x k``
            cells and projects them to ``proj_dim`` features, keeping where things are in the frame
            (translations then show in the features; pair with timm's ``output_stride`` on small frames).
        proj_dim: feature size after the projection (``spatial_pool > 1``).
        drop_rate: dropout before the classifier.
        **encoder_kwargs: for :func:`timm.create_model`.
    """

    def __init__(self, encoder: str, in_chans: int, num_classes: int, temporal: str = "mean",
                 temporal_layers: int = 2, spatial_pool: int = 1, proj_dim: int = 256, drop_rate: float = 0.0,
                 **encoder_kwargs):
        super().__init__()
        import timm

        check_timm_name(encoder, "encoder")
        self.encoder = timm.create_model(encoder, pretrained=False, num_classes=0, in_chans=in_chans,
                                         global_pool="" if spatial_pool > 1 else "avg", **encoder_kwargs)
        dim, self._t = self.encoder.num_features, 1
        if temporal == "shift":
            convs = [m for m in self.encoder.modules() if isinstance(m, nn.Conv2d) and max(m.kernel_size) > 1]
            for conv in convs[1:]:
                conv.register_forward_pre_hook(lambda m, args: (temporal_shift(args[0], self._t),))
        self.pool = nn.Identity()
        if spatial_pool > 1:
            self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(spatial_pool), nn.Flatten(),
                                      nn.Linear(dim * spatial_pool**2, proj_dim), nn.ReLU(inplace=True))
            dim = proj_dim
        self.temporal = nn.ModuleList(
            nn.Sequential(nn.Conv1d(dim, dim, 3, padding=1, bias=False), nn.BatchNorm1d(dim), nn.ReLU(inplace=True))
            for _ in range(temporal_layers if temporal == "conv" else 0)
        )
        self.head = nn.Sequential(nn.Dropout(drop_rate), nn.Linear(dim, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, t, h, w = x.shape
        self._t = t
        z = self.pool(self.encoder(x.transpose(1, 2).reshape(n * t, c, h, w)))
        z = z.view(n, t, -1).transpose(1, 2)  # (N, F, T)
        for layer in self.temporal:
            z = z + layer(z)
        return self.head(z.mean(2))


def _video_resnet(arch: str, in_chans: int, num_classes: int, width: int = 64) -> nn.Module:
    """torchvision's ``r3d_18`` / ``r2plus1d_18`` / ``mc3_18`` with stage widths ``width * (1, 2, 4, 8)``."""
    from torchvision.models.video import resnet as tv

    conv_makers = {
        "r3d_18": [tv.Conv3DSimple] * 4,
        "mc3_18": [tv.Conv3DSimple] + [tv.Conv3DNoTemporal] * 3,
        "r2plus1d_18": [tv.Conv2Plus1D] * 4,
    }[arch]
    if arch == "r2plus1d_18":
        mid = width * 45 // 64
        stem = nn.Sequential(
            nn.Conv3d(in_chans, mid, (1, 7, 7), (1, 2, 2), (0, 3, 3), bias=False), nn.BatchNorm3d(mid), nn.ReLU(True),
            nn.Conv3d(mid, width, (3, 1, 1), 1, (1, 0, 0), bias=False), nn.BatchNorm3d(width), nn.ReLU(True),
        )
    else:
        stem = nn.Sequential(
            nn.Conv3d(in_chans, width, (3, 7, 7), (1, 2, 2), (1, 3, 3), bias=False), nn.BatchNorm3d(width), nn.ReLU(True)
        )
    net = tv.VideoResNet(tv.BasicBlock, conv_makers, [2, 2, 2, 2], lambda: nn.Identity(), num_classes)
    # Rebuild at the asked width (VideoResNet hard-codes 64..512); names stay torchvision's.
    net.inplanes, net.stem = width, stem
    for i, planes in enumerate((width, 2 * width, 4 * width, 8 * width)):
        setattr(net, f"layer{i + 1}", net._make_layer(tv.BasicBlock, conv_makers[i], planes, 2, stride=1 if i == 0 else 2))
    net.fc = nn.Linear(8 * width, num_classes)
    for m in net.modules():
        if isinstance(m, nn.Conv3d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
    return net


def _conv_bn(c_in: int, c_out: int, kernel, stride=1) -> nn.Sequential:
    pad = tuple(k // 2 for k in kernel)
    return nn.Sequential(nn.Conv3d(c_in, c_out, kernel, stride, pad, bias=False), nn.BatchNorm3d(c_out), nn.ReLU(True))


class SlowFast(nn.Module):
    """A small SlowFast network (Feichtenhofer et al., 2019).

    The slow pathway sees every ``alpha``-th frame with ``width`` channels (x2 per
    stage); the fast pathway sees all frames with ``beta`` times as many channels.
    After the stem and each stage but the last, a lateral connection (a
    time-strided ``5x1x1`` convolution, stride ``alpha``, ``2 * beta * width``
    channels) carries the fast features into the slow pathway, where they are
    concatenated. Both pathways are pooled globally and concatenated for the head.
    The slow pathway has no temporal kernel in its stem and first stage (the paper: none before res4).

    Args:
        in_chans, num_classes: input channels and outputs.
        alpha: frame-rate ratio (slow sees ``T / alpha`` frames); paper: 8 (4 at 32 frames).
        beta: channel ratio of the fast pathway; paper: 1/8.
        width: slow channels of the stem (stages: x1, x2, x4, x8).
        stages: residual-free conv stages after the stem (2-4).
        drop_rate: dropout before the classifier.

    Shape:
        x: ``(N, C, T, H, W)``; returns ``(N, num_classes)``.
    """

    def __init__(self, in_chans: int, num_classes: int, alpha: int = 4, beta: float = 0.125, width: int = 64,
                 stages: int = 3, drop_rate: float = 0.0):
        super().__init__()
        self.alpha, self.beta = int(alpha), float(beta)
        slow = [width * 2**i for i in range(stages + 1)]
        fast = [max(1, round(c * beta)) for c in slow]
        self.slow_stem = _conv_bn(in_chans, slow[0], (1, 5, 5), (1, 2, 2))
        self.fast_stem = _conv_bn(in_chans, fast[0], (5, 5, 5), (1, 2, 2))
        self.lateral = nn.ModuleList(
            nn.Conv3d(fast[i], 2 * fast[i], (5, 1, 1), (self.alpha, 1, 1), (2, 0, 0), bias=False) for i in range(stages)
        )
        self.slow_stages = nn.ModuleList(
            _conv_bn(slow[i] + 2 * fast[i], slow[i + 1], (3 if i >= 1 else 1, 3, 3), (1, 2, 2)) for i in range(stages)
        )
        self.fast_stages = nn.ModuleList(_conv_bn(fast[i], fast[i + 1], (3, 3, 3), (1, 2, 2)) for i in range(stages))
        self.head = nn.Sequential(nn.Dropout(drop_rate), nn.Linear(slow[-1] + fast[-1], num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s, f = self.slow_stem(x[:, :, :: self.alpha]), self.fast_stem(x)
        for lateral, slow_stage, fast_stage in zip(self.lateral, self.slow_stages, self.fast_stages):
            s = slow_stage(torch.cat([s, lateral(f)], 1))
            f = fast_stage(f)
        return self.head(torch.cat([s.mean((2, 3, 4)), f.mean((2, 3, 4))], 1))


CLIP_KEYS = ("clip_frames", "temporal_jitter", "tta_offsets")


def create_video_model(backbone: str, num_classes: int, in_chans: int = 3, pretrained: bool | str = False,
                       **kwargs) -> ClipModel:
    """Build a video classifier by name, wrapped in a :class:`ClipModel`.

    Args:
        backbone: one of :data:`VIDEO_MODELS`.
        num_classes: outputs.
        in_chans: 1 or 3.
        pretrained: ``False`` or a local weights file: for ``frame_*`` the timm encoder's, for the
            video ResNets torchvision's (``width`` 64), for ``slowfast`` this class's own.
        **kwargs: ``clip_frames``, ``temporal_jitter``, ``tta_offsets`` (see :class:`ClipModel`);
            the rest go to the net (``encoder`` and timm kwargs; ``width``; ``alpha``, ``beta``...).

    Raises:
        KeyError: an unknown name, listing the valid ones.
    """
    return model_entrypoint(backbone, kind="video")(num_classes, in_chans, pretrained, **kwargs)


def _clip_model(net: nn.Module, target: nn.Module, in_chans: int, pretrained: bool | str, clip: dict,
                mean=(0.5,) * 3, std=(0.5,) * 3) -> ClipModel:
    """``net`` in a :class:`ClipModel`, the weights file (if any) loaded into ``target`` (``net`` or its encoder)."""
    if pretrained:
        load_pretrained(target, pretrained, in_chans)
    return ClipModel(net, mean=mean, std=std, **clip)


def _frame_model(temporal: str, num_classes: int, in_chans: int, pretrained: bool | str, kwargs: dict) -> ClipModel:
    clip = {k: kwargs.pop(k) for k in CLIP_KEYS if k in kwargs}
    kwargs.setdefault("encoder", FRAME_ENCODER)
    net = FrameNet(in_chans=in_chans, num_classes=num_classes, temporal=temporal, **kwargs)
    cfg = net.encoder.pretrained_cfg or {}
    return _clip_model(net, net.encoder, in_chans, pretrained, clip, cfg.get("mean", (0.5,) * 3),
                       cfg.get("std", (0.5,) * 3))


def _resnet_model(arch: str, num_classes: int, in_chans: int, pretrained: bool | str, kwargs: dict) -> ClipModel:
    clip = {k: kwargs.pop(k) for k in CLIP_KEYS if k in kwargs}
    net = _video_resnet(arch, in_chans, num_classes, **kwargs)
    return _clip_model(net, net, in_chans, pretrained, clip, KINETICS_MEAN, KINETICS_STD)


# ----- the registered builders: (num_classes, in_chans, pretrained, **kwargs) -> ClipModel --------------------


@register_model(kind="video")
def frame_mean(num_classes: int, in_chans: int = 3, pretrained: bool | str = False, **kwargs) -> ClipModel:
    """:class:`FrameNet`, ``temporal="mean"``: the per-frame baseline (blind to motion)."""
    return _frame_model("mean", num_classes, in_chans, pretrained, kwargs)


@register_model(kind="video")
def frame_tconv(num_classes: int, in_chans: int = 3, pretrained: bool | str = False, **kwargs) -> ClipModel:
    """:class:`FrameNet`, ``temporal="conv"``: temporal convolutions over the frame features."""
    return _frame_model("conv", num_classes, in_chans, pretrained, kwargs)


@register_model(kind="video")
def frame_tshift(num_classes: int, in_chans: int = 3, pretrained: bool | str = False, **kwargs) -> ClipModel:
    """:class:`FrameNet`, ``temporal="shift"``: temporal shift inside the encoder (TSM)."""
    return _frame_model("shift", num_classes, in_chans, pretrained, kwargs)


@register_model(kind="video")
def r3d_18(num_classes: int, in_chans: int = 3, pretrained: bool | str = False, **kwargs) -> ClipModel:
    """torchvision's R3D-18 (3D convolutions in every stage) at ``width``."""
    return _resnet_model("r3d_18", num_classes, in_chans, pretrained, kwargs)


@register_model(kind="video")
def r2plus1d_18(num_classes: int, in_chans: int = 3, pretrained: bool | str = False, **kwargs) -> ClipModel:
    """torchvision's R(2+1)D-18 (each 3D convolution split into a spatial and a temporal one) at ``width``."""
    return _resnet_model("r2plus1d_18", num_classes, in_chans, pretrained, kwargs)


@register_model(kind="video")
def mc3_18(num_classes: int, in_chans: int = 3, pretrained: bool | str = False, **kwargs) -> ClipModel:
    """torchvision's MC3-18 (3D convolutions in the stem and first stage only) at ``width``."""
    return _resnet_model("mc3_18", num_classes, in_chans, pretrained, kwargs)


@register_model(kind="video")
def slowfast(num_classes: int, in_chans: int = 3, pretrained: bool | str = False, **kwargs) -> ClipModel:
    """:class:`SlowFast`; a weights file is this class's own."""
    clip = {k: kwargs.pop(k) for k in CLIP_KEYS if k in kwargs}
    net = SlowFast(in_chans, num_classes, **kwargs)
    return _clip_model(net, net, in_chans, pretrained, clip)


VIDEO_MODELS = tuple(model_family("video"))  # the registered names, in the order above
