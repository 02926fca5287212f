"""One model's training settings: the schema's ``models.<name>`` plus the global keys that shape training."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field


@dataclass(frozen=True)
class TrainConfig:
    """One model's training settings (the schema's ``models.<name>`` plus globals)."""

    model: str
    backbone: str
    img_size: int = 224
    pretrained: bool | str = False
    pretrained_sha256: str | None = None  # of the weights file: in the config hash, never read
    model_kwargs: dict = field(default_factory=dict)
    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.05
    warmup_epochs: float = 1.0
    loss: str = "cross_entropy"
    label_smoothing: float = 0.0
    class_weights: str = "none"
    oversample: bool = False
    augment: dict = field(default_factory=dict)
    tta: list = field(default_factory=list)
    tta_shift: float = 0.0625
    tta_roll: float = 0.05
    teacher: str | None = None
    pseudo: dict = field(default_factory=dict)
    mix: dict = field(default_factory=dict)
    ema: dict = field(default_factory=dict)
    freeze: dict = field(default_factory=dict)
    head: dict = field(default_factory=dict)
    patience: int | None = None
    select_epoch: str = "best"  # best | last | inner: foldwise.train.selection
    inner_fraction: float = 0.2
    predict_batch_size: int = 256
    metric: str = "accuracy"
    seed: int = 42
    deterministic: bool = True
    compile: bool = False
    task: str = "multiclass"
    kind: str = "images"

    @classmethod
    def from_params(cls, params: dict) -> "TrainConfig":
        """Build from the rule's params, rejecting keys this version does not know."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(params) - names
        if unknown:
            raise KeyError(f"unknown training settings {sorted(unknown)}; valid: {sorted(names)}")
        return cls(**params)
