"""HYDRA features (Dempster, Schmidt & Webb 2023) in torch, and the paper's sparse scaler.

HYDRA ("competing convolutional kernels") draws ``g`` groups of ``k`` random
kernels (length 9, normal weights, each kernel centred and scaled to unit
absolute sum) per dilation; dilations are ``2**0 … 2**E`` with
``E = floor(log2((T - 1) / 8))``, the largest that keeps the kernel inside the
series, each with "same" zero padding. At every time step the kernels of a
group compete: the best-matching kernel (largest response) adds its response
to its count ("soft" count of the maximum) and the worst-matching one (smallest
response) adds one ("hard" count of the minimum). Half the groups read the
series, half its first difference (one group: the series only). Features: per
dilation, per representation, ``2 * k * g/2`` counts — ``2 * k * g`` per
dilation, 1,024 with the paper's defaults.

Multivariate series, as the paper's multivariate variant: each group reads the
sum of a random subset of ``clip(C // 2, 2, max_num_channels)`` channels (drawn
with replacement), so every group sees its own channel combination.

The transform is ``torch.nn.functional.conv1d`` with grouped convolutions; it
runs on ``device`` (``cpu`` in the pipeline, whose classic jobs ask for no GPU;
a CUDA device when this class is used directly) with ``torch.set_num_threads``
= the job's threads. Kernels and channel subsets are drawn from a
``torch.Generator`` seeded by (global seed, model, fold), and stored as arrays.

:class:`SparseScaler` is the paper's scaling of the counts for the ridge: square
root of the counts clipped at zero, then centred and divided by the standard
deviation plus a term that grows with the share of zero counts
(``share**4 + 1e-8``); counts that were zero stay exactly zero (masking).
"""

from __future__ import annotations

import numpy as np

KERNEL_LENGTH = 9


def _torch(threads: int):
    import torch

    torch.set_num_threads(max(1, int(threads)))
    return torch


def dilations_for(length: int) -> np.ndarray:
    """The paper's dilations for series of ``length`` steps: ``2**0 … 2**floor(log2((length - 1) / 8))``."""
    top = np.log2(max(length - 1, 1) / (KERNEL_LENGTH - 1))
    return 2 ** np.arange(max(int(np.floor(top)), 0) + 1)


class Hydra:
    """The HYDRA transform.

    Args:
        k: kernels per group (8 in the paper).
        g: groups per dilation (64 in the paper), half on the series, half on its first difference.
        max_num_channels: most channels one group sums (multivariate series; 8 in the paper).
        seed: seed of the kernels and channel subsets.
        threads: torch CPU threads.
        device: torch device of the convolutions (``cpu``, ``cuda``, ``cuda:1``, …).
        batch: rows convolved at once.

    Shape:
        ``(N, C, T)`` -> ``(N, D * 2 * k * g)`` float32 counts, D = the number of dilations.
    """

    def __init__(self, k: int = 8, g: int = 64, max_num_channels: int = 8, seed: int = 0, threads: int = 1,
                 device: str = "cpu", batch: int = 256, **_):
        self.k, self.g, self.max_num_channels = int(k), int(g), int(max_num_channels)
        self.seed, self.threads, self.device, self.batch = int(seed), int(threads), device, int(batch)
        self.divisor = 2 if self.g > 1 else 1  # representations: the series (and its first difference)
        self.h = self.g // self.divisor  # groups per representation
        self.params = {"k": self.k, "g": self.g, "max_num_channels": self.max_num_channels, "seed": self.seed}
        self.name = "hydra"

    def fit(self, x: np.ndarray) -> "Hydra":
        """Draw the kernels for series shaped like ``x`` (N, C, T); no statistic of the rows is used."""
        torch = _torch(self.threads)
        _, channels, length = x.shape
        gen = torch.Generator().manual_seed(self.seed)
        self.dilations_ = dilations_for(length).astype(np.int64)
        n_dil = len(self.dilations_)
        w = torch.randn((n_dil, self.divisor, self.k * self.h, 1, KERNEL_LENGTH), generator=gen)
        w = w - w.mean(-1, keepdim=True)
        self.weights_ = (w / w.abs().sum(-1, keepdim=True).clamp_min(1e-12)).numpy().astype(np.float32)
        per_group = int(np.clip(channels // 2, 2, self.max_num_channels))
        self.channels_ = torch.randint(0, channels, (n_dil, self.divisor, self.h, per_group),
                                       generator=gen).numpy().astype(np.int64)
        self.n_channels_ = channels
        return self

    @property
    def n_features(self) -> int:
        return len(self.dilations_) * self.divisor * 2 * self.h * self.k

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Counts of ``x`` (N, C, T) with the fitted kernels, ``batch`` rows at a time."""
        torch = _torch(self.threads)
        if x.shape[1] != self.n_channels_:
            raise ValueError(f"HYDRA was fitted on {self.n_channels_} channels, got {x.shape[1]}")
        weights = torch.from_numpy(self.weights_).to(self.device)
        subsets = torch.from_numpy(self.channels_).to(self.device)
        outs = []
        with torch.no_grad():
            for start in range(0, len(x), self.batch):
                part = torch.from_numpy(np.ascontiguousarray(x[start : start + self.batch], dtype=np.float32))
                outs.append(self._counts(part.to(self.device), weights, subsets).cpu().numpy())
        return np.concatenate(outs) if outs else np.zeros((0, self.n_features), dtype=np.float32)

    def _counts(self, x, weights, subsets):
        """Counts of one batch (torch tensors): ``(n, C, T)`` -> ``(n, n_features)``."""
        import torch
        import torch.nn.functional as F

        n = x.shape[0]
        sources = [x, torch.diff(x, dim=-1)] if self.divisor == 2 else [x]
        feats = []
        for i, dilation in enumerate(self.dilations_.tolist()):
            pad = (KERNEL_LENGTH - 1) * dilation // 2
            for r, src in enumerate(sources):
                if self.n_channels_ == 1:  # one input, all groups' kernels
                    z = F.conv1d(src, weights[i, r], dilation=dilation, padding=pad)
                else:  # each group convolves the sum of its own channel subset
                    grouped = src[:, subsets[i, r]].sum(2)  # (n, h, T)
                    z = F.conv1d(grouped, weights[i, r], dilation=dilation, padding=pad, groups=self.h)
                z = z.view(n, self.h, self.k, -1)
                best_val, best = z.max(2)
                worst = z.argmin(2)
                soft = torch.zeros((n, self.h, self.k), dtype=z.dtype, device=z.device)
                soft.scatter_add_(-1, best, best_val)
                hard = torch.zeros((n, self.h, self.k), dtype=z.dtype, device=z.device)
                hard.scatter_add_(-1, worst, torch.ones_like(best_val))
                feats += [soft.reshape(n, -1), hard.reshape(n, -1)]
        return torch.cat(feats, 1)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"dilations": self.dilations_, "weights": self.weights_, "channels": self.channels_,
                "n_channels": np.asarray(self.n_channels_, dtype=np.int64)}

    @classmethod
    def restore(cls, params: dict, arrays: dict[str, np.ndarray], threads: int = 1, device: str = "cpu") -> "Hydra":
        out = cls(**params, threads=threads, device=device)
        out.dilations_, out.weights_ = arrays["dilations"], arrays["weights"].astype(np.float32)
        out.channels_, out.n_channels_ = arrays["channels"], int(arrays["n_channels"])
        return out


class SparseScaler:
    """The HYDRA paper's scaling of counts: sqrt of the clipped counts, standardised, zeros kept at zero.

    Args:
        exponent: power of the share of zeros added to the standard deviation (4 in the paper).
        mask: keep zero counts at zero after centring.
    """

    def __init__(self, exponent: float = 4.0, mask: bool = True):
        self.exponent, self.mask = float(exponent), bool(mask)

    def fit(self, f: np.ndarray) -> "SparseScaler":
        z = np.sqrt(np.clip(np.asarray(f, dtype=np.float64), 0, None))
        zeros = (z == 0).mean(0)
        self.mean_ = z.mean(0)
        std = z.std(0, ddof=1) if len(z) > 1 else np.zeros(z.shape[1])
        self.scale_ = std + zeros**self.exponent + 1e-8
        return self

    def transform(self, f: np.ndarray) -> np.ndarray:
        z = np.sqrt(np.clip(np.asarray(f, dtype=np.float64), 0, None))
        out = z - self.mean_
        if self.mask:
            out *= z != 0
        return (out / self.scale_).astype(np.float32)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"mean": self.mean_, "scale": self.scale_}

    @classmethod
    def restore(cls, arrays: dict[str, np.ndarray]) -> "SparseScaler":
        out = cls()
        out.mean_, out.scale_ = arrays["mean"], arrays["scale"]
        return out


def create_transform(name: str, **params) -> Hydra:
    """The ``hydra`` transform."""
    return Hydra(**params)


def restore_transform(name: str, params: dict, arrays: dict[str, np.ndarray], threads: int = 1) -> Hydra:
    return Hydra.restore(params, arrays, threads)


def create_scaler(name: str, transform: Hydra) -> SparseScaler:
    """The scaling the ridge reads HYDRA's counts through (the paper's sparse scaler)."""
    return SparseScaler()


def restore_scaler(name: str, arrays: dict[str, np.ndarray]) -> SparseScaler:
    return SparseScaler.restore(arrays)
