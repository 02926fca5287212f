"""MiniRocket and MultiRocket features (sktime's implementations) with their fitted kernels as plain arrays.

Both read ``(N, C, T)`` series (the multivariate forms, which are the
univariate ones for ``C = 1``). Fitting draws the kernels' dilations, channel
combinations and biases from the training rows (seeded); the fitted parameters
are tuples of NumPy arrays, which :meth:`Rocket.arrays` hands to the state
archive and :meth:`Rocket.restore` takes back, so test prediction transforms
with exactly the fold's kernels and never refits.

sktime is pinned (``pyproject.toml``): the transform calls its numba kernels
(``_transform_multi``, ``_transform``) directly with the stored parameters.
"""

from __future__ import annotations

import numpy as np

MIN_LENGTH = 10  # MultiRocket needs 10 steps (9 for MiniRocket); shorter series are zero-padded
DEFAULT_KERNELS = {"minirocket": 10_000, "multirocket": 6_250}


def _numba_threads(threads: int) -> int:
    from numba import config

    return max(1, min(int(threads), config.NUMBA_NUM_THREADS))


def _pad(x: np.ndarray, dtype) -> np.ndarray:
    x = np.asarray(x, dtype=dtype)
    if x.shape[2] >= MIN_LENGTH:
        return np.ascontiguousarray(x)
    out = np.zeros((*x.shape[:2], MIN_LENGTH), dtype=dtype)
    out[:, :, : x.shape[2]] = x
    return out


class Rocket:
    """A MiniRocket or MultiRocket transform.

    Args:
        variant: ``minirocket`` or ``multirocket``.
        n_kernels: kernels (``None``: 10,000 for MiniRocket, 6,250 for MultiRocket, as published).
        max_dilations_per_kernel: as in the papers (32).
        n_features_per_kernel: MultiRocket's pooling operators per kernel (4: PPV, MPV, MIPV, LSPV).
        seed: random state of the kernels.
        threads: numba threads.

    Shape:
        ``(N, C, T)`` -> ``(N, F)`` float32; F is about ``n_kernels`` (MiniRocket) or
        ``8 * n_kernels`` (MultiRocket: 4 features on the series and 4 on its first difference).
    """

    def __init__(self, variant: str, n_kernels: int | None = None, max_dilations_per_kernel: int = 32,
                 n_features_per_kernel: int = 4, seed: int = 0, threads: int = 1, **_):
        if variant not in DEFAULT_KERNELS:
            raise ValueError(f"unknown ROCKET variant '{variant}'; valid: {', '.join(DEFAULT_KERNELS)}")
        self.variant = variant
        self.n_kernels = int(n_kernels or DEFAULT_KERNELS[variant])
        self.max_dilations_per_kernel = int(max_dilations_per_kernel)
        self.n_features_per_kernel = int(n_features_per_kernel)
        self.seed, self.threads = int(seed), int(threads)
        self.params = {"variant": variant, "n_kernels": self.n_kernels,
                       "max_dilations_per_kernel": self.max_dilations_per_kernel,
                       "n_features_per_kernel": self.n_features_per_kernel, "seed": self.seed}
        self.name = variant

    def fit(self, x: np.ndarray) -> "Rocket":
        """Draw the kernels and fit their biases on the training rows ``x`` (N, C, T)."""
        from numba import set_num_threads

        set_num_threads(_numba_threads(self.threads))
        if self.variant == "minirocket":
            from sktime.transformations.rocket._minirocket_multi_numba import _fit_multi

            self.parameters_ = [tuple(_fit_multi(_pad(x, np.float32), self.n_kernels,
                                                 self.max_dilations_per_kernel, np.int32(self.seed)))]
        else:
            from sktime.transformations.rocket import MultiRocketMultivariate

            est = MultiRocketMultivariate(
                num_kernels=self.n_kernels, max_dilations_per_kernel=self.max_dilations_per_kernel,
                n_features_per_kernel=self.n_features_per_kernel, normalise=False, n_jobs=1,
                random_state=self.seed,
            )
            xx = _pad(x, np.float64)
            self.parameters_ = [tuple(est._get_parameter(xx)), tuple(est._get_parameter(np.diff(xx, 1)))]
        return self

    def transform(self, x: np.ndarray, batch: int = 4096) -> np.ndarray:
        """Features of ``x`` (N, C, T) with the fitted kernels, in slices of ``batch`` rows."""
        from numba import set_num_threads

        set_num_threads(_numba_threads(self.threads))
        outs = []
        for start in range(0, len(x), batch):
            part = x[start : start + batch]
            if self.variant == "minirocket":
                from sktime.transformations.rocket._minirocket_multi_numba import _transform_multi

                outs.append(_transform_multi(_pad(part, np.float32), self.parameters_[0]))
            else:
                from sktime.transformations.rocket._multirocket_multi_numba import _transform

                xx = _pad(part, np.float64)
                outs.append(_transform(xx, np.diff(xx, 1), self.parameters_[0], self.parameters_[1],
                                       self.n_features_per_kernel))
        return np.concatenate(outs).astype(np.float32)

    def arrays(self) -> dict[str, np.ndarray]:
        return {f"p{i}_{j}": a for i, params in enumerate(self.parameters_) for j, a in enumerate(params)}

    @classmethod
    def restore(cls, params: dict, arrays: dict[str, np.ndarray], threads: int = 1) -> "Rocket":
        out = cls(**{**params, "threads": threads})
        groups: dict[int, dict[int, np.ndarray]] = {}
        for key, value in arrays.items():
            i, j = (int(v) for v in key[1:].split("_"))
            groups.setdefault(i, {})[j] = value
        out.parameters_ = [tuple(g[j] for j in sorted(g)) for _, g in sorted(groups.items())]
        return out


def create_transform(name: str, **params) -> Rocket:
    """The ``minirocket`` or ``multirocket`` transform."""
    return Rocket(name, **params)


def restore_transform(name: str, params: dict, arrays: dict[str, np.ndarray], threads: int = 1) -> Rocket:
    return Rocket.restore(params, arrays, threads)
