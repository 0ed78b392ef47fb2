"""Toy distributions sampled on the fly from a key: the 1-D toy and the 2-D Gaussian mixtures.

Each example i of the data stream is `sample(fold_in(key, i))`, so a toy batch needs nothing but
the examples' indices and is the same on any number of devices.
- 1-D: a Gaussian N(mean, std^2) (the paper's Figure 1), or a two-mode mixture.
- 2-D ring: 8 Gaussians on a circle of radius 2, std 0.02 (Metz et al., Unrolled GANs).
- 2-D grid: 25 Gaussians at {-4, -2, 0, 2, 4}^2, std 0.05 (Srivastava et al., VEEGAN).
"""
import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.errors import GanJaxError

TOY_DATASETS = ("toy_1d", "ring", "grid")
RING_STD = 0.02
GRID_STD = 0.05
DISTRIBUTIONS_1D = ("gaussian", "mixture")


def ring_centres(num_modes: int = 8, radius: float = 2.0) -> np.ndarray:
    """``(num_modes, 2)`` centres at angles 2 pi k / num_modes on a circle of ``radius``."""
    angles = 2.0 * np.pi * np.arange(num_modes) / num_modes
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def grid_centres(side: int = 5, spacing: float = 2.0) -> np.ndarray:
    """``(side**2, 2)`` centres of a square grid centred on 0 ({-4, ..., 4}^2 by default).

    Row-major order: centre k = (xs[k // side], xs[k % side]) with xs = spacing * (i - (side-1)/2).
    """
    xs = spacing * (np.arange(side) - (side - 1) / 2.0)
    gx, gy = np.meshgrid(xs, xs, indexing='ij')
    return np.stack([gx.reshape(-1), gy.reshape(-1)], axis=1)


@dataclasses.dataclass(frozen=True)
class ToyDistribution:
    name: str
    dim: int
    centres: np.ndarray        # [K, dim] mode centres
    stds: np.ndarray           # [K] per-mode standard deviation
    weights: np.ndarray        # [K] mixture weights

    def sample_one(self, key):
        """One example [dim] from the mixture (a single Gaussian when K = 1)."""
        k_mode, k_noise = jax.random.split(key)
        mode = jax.random.choice(k_mode, len(self.weights), p=jnp.asarray(self.weights))
        centre = jnp.asarray(self.centres, jnp.float32)[mode]
        std = jnp.asarray(self.stds, jnp.float32)[mode]
        return centre + std * jax.random.normal(k_noise, (self.dim,), jnp.float32)

    def sample(self, key, index):
        """Examples [len(index), dim], example i from fold_in(key, index_i)."""
        keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.asarray(index, jnp.uint32))
        return jax.vmap(self.sample_one)(keys)

    def pdf(self, x):
        """Density of a 1-D distribution at points x (numpy)."""
        if self.dim != 1:
            raise GanJaxError("pdf is defined for the 1-D toy only")
        x = np.asarray(x, np.float64)[..., None]
        c, s = self.centres[:, 0], self.stds
        comp = np.exp(-0.5 * ((x - c) / s) ** 2) / (s * np.sqrt(2 * np.pi))
        return comp @ self.weights

    @property
    def std(self) -> float:
        """Overall standard deviation (1-D) of the data distribution."""
        m = self.weights @ self.centres
        second = self.weights @ (self.stds[:, None] ** 2 + self.centres ** 2)
        return float(np.sqrt(np.sum(second - m ** 2)))


def make_toy(cfg) -> ToyDistribution:
    """From config.data: name in TOY_DATASETS; for toy_1d: distribution, mean, std, separation."""
    if cfg.name == "toy_1d":
        if cfg.distribution == "gaussian":
            centres, stds, weights = [[cfg.mean]], [cfg.std], [1.0]
        elif cfg.distribution == "mixture":
            half = cfg.separation / 2
            centres = [[cfg.mean - half], [cfg.mean + half]]
            stds, weights = [cfg.std, cfg.std], [0.5, 0.5]
        else:
            raise GanJaxError(f"unknown data.distribution {cfg.distribution!r}; "
                              f"valid: {DISTRIBUTIONS_1D}")
        return ToyDistribution("toy_1d", 1, np.array(centres, np.float64),
                               np.array(stds, np.float64), np.array(weights, np.float64))
    if cfg.name in ("ring", "grid"):
        centres = ring_centres() if cfg.name == "ring" else grid_centres()
        std = RING_STD if cfg.name == "ring" else GRID_STD
        k = len(centres)
        return ToyDistribution(cfg.name, 2, np.asarray(centres, np.float64), np.full(k, std),
                               np.full(k, 1.0 / k))
    raise GanJaxError(f"{cfg.name!r} is not a toy data set; valid: {TOY_DATASETS}")
