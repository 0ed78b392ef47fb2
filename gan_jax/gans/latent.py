"""Latent noise z, drawn per example from the example's global index.

`z_i = sample(fold_in(key, index_i))`: each example's noise depends only on the step key and the
example's number in the data stream, not on how the batch is split across devices. That is what
makes a 4-device run with batch B/4 per device compute the same step as 1 device with batch B.
"""
import jax
import jax.numpy as jnp

from gan_jax.errors import GanJaxError

DISTRIBUTIONS = ("normal", "uniform")


def sample_latent(key, index, latent_dim: int, distribution: str = "normal"):
    """z [len(index), latent_dim]: N(0, I), or U(-1, 1) per coordinate."""
    if distribution not in DISTRIBUTIONS:
        raise GanJaxError(f"unknown latent distribution {distribution!r}; valid: {DISTRIBUTIONS}")

    def one(i):
        k = jax.random.fold_in(key, i)
        if distribution == "normal":
            return jax.random.normal(k, (latent_dim,), jnp.float32)
        return jax.random.uniform(k, (latent_dim,), jnp.float32, -1.0, 1.0)

    return jax.vmap(one)(jnp.asarray(index, jnp.uint32))
