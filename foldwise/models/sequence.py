"""1-D convolutional classifiers for sensor time series, registered as ``timeseries`` nets.

Shape:
    input ``(N, C, T)`` (channels first, as Conv1d expects); output ``(N, num_classes)`` logits.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from foldwise.models.registry import model_family, register_model


def _head(width: int, num_classes: int, drop_rate: float) -> nn.Sequential:
    """Global average pooling and the classifier; ``num_classes=0`` returns the pooled features (as timm)."""
    fc = nn.Linear(width, num_classes) if num_classes else nn.Identity()
    return nn.Sequential(nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Dropout(drop_rate), fc)


class _ConvBN(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, k: int):
        super().__init__(nn.Conv1d(c_in, c_out, k, padding="same", bias=False), nn.BatchNorm1d(c_out))


class _ResBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.body = nn.Sequential(
            _ConvBN(c_in, c_out, 7), nn.ReLU(inplace=True), _ConvBN(c_out, c_out, 5), nn.ReLU(inplace=True),
            _ConvBN(c_out, c_out, 3),
        )
        self.skip = _ConvBN(c_in, c_out, 1) if c_in != c_out else nn.Identity()
        self.act = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.act(self.body(x) + self.skip(x))


@register_model("resnet1d", kind="timeseries")
class ResNet1D(nn.Module):
    """The residual network baseline for time-series classification (Wang et al., 2017).

    Args:
        in_chans: input channels C.
        num_classes: outputs (0: the pooled features).
        width: filters of the first block (the others use 2x).
        drop_rate: dropout before the classifier.
    """

    pretrained_cfg = {"classifier": "head"}  # as timm names its models' heads (freezing, layer-wise decay)

    def __init__(self, in_chans: int, num_classes: int, width: int = 64, drop_rate: float = 0.0):
        super().__init__()
        self.features = nn.Sequential(
            _ResBlock(in_chans, width), _ResBlock(width, 2 * width), _ResBlock(2 * width, 2 * width)
        )
        self.num_features = 2 * width
        self.head = _head(self.num_features, num_classes, drop_rate)

    def forward(self, x):
        return self.head(self.features(x))


class _Inception(nn.Module):
    def __init__(self, c_in: int, filters: int, kernels=(9, 19, 39), bottleneck: int = 32):
        super().__init__()
        self.bottleneck = nn.Conv1d(c_in, bottleneck, 1, bias=False) if c_in > 1 else nn.Identity()
        c_b = bottleneck if c_in > 1 else c_in
        self.convs = nn.ModuleList(nn.Conv1d(c_b, filters, k, padding="same", bias=False) for k in kernels)
        self.pool = nn.Sequential(nn.MaxPool1d(3, stride=1, padding=1), nn.Conv1d(c_in, filters, 1, bias=False))
        self.bn = nn.BatchNorm1d(filters * (len(kernels) + 1))
        self.act = nn.ReLU(inplace=True)

    def forward(self, x):
        z = self.bottleneck(x)
        return self.act(self.bn(torch.cat([conv(z) for conv in self.convs] + [self.pool(x)], 1)))


@register_model("inception_time", kind="timeseries")
class InceptionTime(nn.Module):
    """One InceptionTime network (Ismail Fawaz et al., 2020): inception modules with residual shortcuts.

    Args:
        in_chans: input channels C.
        num_classes: outputs (0: the pooled features).
        filters: filters per branch (the module outputs 4x).
        depth: inception modules; a shortcut joins every third.
        drop_rate: dropout before the classifier.
    """

    pretrained_cfg = {"classifier": "head"}

    def __init__(self, in_chans: int, num_classes: int, filters: int = 32, depth: int = 6, drop_rate: float = 0.0):
        super().__init__()
        width = 4 * filters
        self.blocks = nn.ModuleList(_Inception(in_chans if i == 0 else width, filters) for i in range(depth))
        self.shortcuts = nn.ModuleList(
            _ConvBN(in_chans if i == 0 else width, width, 1) for i in range(0, depth, 3)
        )
        self.num_features = width
        self.head = _head(width, num_classes, drop_rate)

    def forward(self, x):
        res = x
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i % 3 == 2:
                x = torch.relu(x + self.shortcuts[i // 3](res))
                res = x
        return self.head(x)


SEQUENCE_MODELS = model_family("timeseries")  # name -> class: the registry's own dict (tests add to it)
