"""MultiRocket-Hydra features: MultiRocket's and HYDRA's side by side, each block scaled its own way.

The combination of the HYDRA paper (Dempster, Schmidt & Webb 2023, section
"HYDRA + MultiRocket"), as aeon's ``MultiRocketHydraClassifier`` documents it:
the MultiRocket features (6,250 kernels by default, :mod:`foldwise.classic.rocket`)
standardised by their mean and standard deviation, the HYDRA counts
(:mod:`foldwise.classic.hydra`) through the sparse scaler, concatenated and read
by one ridge classifier.
"""

from __future__ import annotations

import numpy as np

from foldwise.classic.hydra import Hydra, SparseScaler
from foldwise.classic.rocket import Rocket
from foldwise.jobs.scaling import Standardiser

ROCKET_KEYS = ("n_kernels", "max_dilations_per_kernel", "n_features_per_kernel")
HYDRA_KEYS = ("k", "g", "max_num_channels")


class MultiRocketHydra:
    """MultiRocket and HYDRA on the same series.

    Args:
        n_kernels, max_dilations_per_kernel, n_features_per_kernel: MultiRocket's (see :class:`Rocket`).
        k, g, max_num_channels: HYDRA's (see :class:`Hydra`).
        seed: seed of both transforms' draws.
        threads: numba and torch threads.

    Shape:
        ``(N, C, T)`` -> ``(N, F_multirocket + F_hydra)`` float32; the first ``n_rocket_`` columns are MultiRocket's.
    """

    def __init__(self, seed: int = 0, threads: int = 1, **params):
        self.seed, self.threads = int(seed), int(threads)
        self.rocket = Rocket("multirocket", **{k: params[k] for k in ROCKET_KEYS if params.get(k) is not None},
                             seed=self.seed, threads=self.threads)
        self.hydra = Hydra(**{k: params[k] for k in HYDRA_KEYS if params.get(k) is not None}, seed=self.seed,
                           threads=self.threads)
        self.params = {**{k: v for k, v in self.rocket.params.items() if k != "variant"}, **self.hydra.params}
        self.name = "multirocket_hydra"

    def fit(self, x: np.ndarray) -> "MultiRocketHydra":
        self.rocket.fit(x)
        self.hydra.fit(x)
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        rocket = self.rocket.transform(x)
        self.n_rocket_ = rocket.shape[1]
        return np.concatenate([rocket, self.hydra.transform(x)], axis=1)

    def arrays(self) -> dict[str, np.ndarray]:
        return {**{f"rocket/{k}": v for k, v in self.rocket.arrays().items()},
                **{f"hydra/{k}": v for k, v in self.hydra.arrays().items()}}

    @classmethod
    def restore(cls, params: dict, arrays: dict[str, np.ndarray], threads: int = 1) -> "MultiRocketHydra":
        out = cls(**params, threads=threads)

        def part(prefix):
            return {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith(prefix + "/")}

        out.rocket = Rocket.restore({**out.rocket.params}, part("rocket"), threads)
        out.hydra = Hydra.restore(out.hydra.params, part("hydra"), threads)
        return out


class BlockScaler:
    """Standardisation of the MultiRocket block and the sparse scaler on the HYDRA block.

    Args:
        n_rocket: columns of the MultiRocket block (the first ones).
    """

    def __init__(self, n_rocket: int = 0):
        self.n_rocket = int(n_rocket)

    def fit(self, f: np.ndarray) -> "BlockScaler":
        self.rocket_ = Standardiser().fit(f[:, : self.n_rocket])
        self.hydra_ = SparseScaler().fit(f[:, self.n_rocket :])
        return self

    def transform(self, f: np.ndarray) -> np.ndarray:
        return np.concatenate([self.rocket_.transform(f[:, : self.n_rocket]),
                               self.hydra_.transform(f[:, self.n_rocket :])], axis=1)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"n_rocket": np.asarray(self.n_rocket, dtype=np.int64),
                **{f"rocket_{k}": v for k, v in self.rocket_.arrays().items()},
                **{f"hydra_{k}": v for k, v in self.hydra_.arrays().items()}}

    @classmethod
    def restore(cls, arrays: dict[str, np.ndarray]) -> "BlockScaler":
        out = cls(int(arrays["n_rocket"]))
        out.rocket_ = Standardiser.restore({"mean": arrays["rocket_mean"], "scale": arrays["rocket_scale"]})
        out.hydra_ = SparseScaler.restore({"mean": arrays["hydra_mean"], "scale": arrays["hydra_scale"]})
        return out


def create_transform(name: str, **params) -> MultiRocketHydra:
    """The ``multirocket_hydra`` transform."""
    return MultiRocketHydra(**params)


def restore_transform(name: str, params: dict, arrays: dict[str, np.ndarray], threads: int = 1) -> MultiRocketHydra:
    return MultiRocketHydra.restore(params, arrays, threads)


def create_scaler(name: str, transform: MultiRocketHydra) -> BlockScaler:
    """The block-wise scaling, sized by the MultiRocket block of the features ``transform`` last produced."""
    return BlockScaler(transform.n_rocket_)


def restore_scaler(name: str, arrays: dict[str, np.ndarray]) -> BlockScaler:
    return BlockScaler.restore(arrays)
