"""Walks and arithmetic in a generator's latent space (Radford et al. 2015, sections 6.1, 6.3).

Pure functions of latent vectors z [..., latent_dim]; `gan_jax.sample` turns their results into
pictures with `spec.generate`.
- `lerp` / `slerp`: linear and spherical interpolation. For Gaussian z, slerp keeps the path at
  the typical norm sqrt(latent_dim), where G was trained; lerp passes closer to the origin.
- `interpolation_latents`: `steps` evenly spaced points from each start to each end latent.
- `group_means` / `vector_arithmetic`: the mean latent of a few chosen samples, and
  mean(z[a]) - mean(z[b]) + mean(z[c]) ("smiling woman - neutral woman + neutral man").

`t` broadcasts against the batch axes of z (every axis but the last): z0 [d] with t [T] gives
[T, d]; z0 [P, 1, d] with t [T] gives [P, T, d].
"""
import jax.numpy as jnp
import numpy as np

from gan_jax.errors import GanJaxError

METHODS = ("lerp", "slerp")
PARALLEL_EPS = 1e-4  # sin(angle) below this: slerp falls back to lerp


def lerp(z0, z1, t):
    """(1 - t) z0 + t z1; t = 0 gives z0 and t = 1 gives z1 exactly."""
    t = jnp.asarray(t, jnp.result_type(z0, z1))[..., None]
    return (1.0 - t) * z0 + t * z1


def angle(z0, z1):
    """The angle between z0 and z1 (last axis), in [0, pi]; 0 where either vector is zero.

    Computed as 2 atan2(|u0 - u1|, |u0 + u1|) of the unit vectors u, which stays accurate for
    nearly (anti)parallel vectors, where arccos of the dot product does not."""
    n0 = jnp.linalg.norm(z0, axis=-1, keepdims=True)
    n1 = jnp.linalg.norm(z1, axis=-1, keepdims=True)
    u0 = z0 / jnp.where(n0 > 0, n0, 1.0)
    u1 = z1 / jnp.where(n1 > 0, n1, 1.0)
    omega = 2.0 * jnp.arctan2(jnp.linalg.norm(u0 - u1, axis=-1),
                              jnp.linalg.norm(u0 + u1, axis=-1))
    return jnp.where((n0[..., 0] > 0) & (n1[..., 0] > 0), omega, 0.0)


def slerp(z0, z1, t):
    """Spherical interpolation, row by row:
    sin((1 - t) w) / sin(w) z0 + sin(t w) / sin(w) z1, with w the angle between z0 and z1.

    Between ends of equal norm the path is their great-circle arc: it keeps that norm and turns
    by equal angles for equal steps of t (for ends of different norms neither holds).
    Where z0 and z1 are (nearly) parallel or opposite (sin w < PARALLEL_EPS), or one is zero, the
    great circle is undefined or irrelevant and the row is `lerp` instead. t = 0 gives z0 and
    t = 1 gives z1 exactly."""
    t = jnp.asarray(t, jnp.result_type(z0, z1))[..., None]
    omega = angle(z0, z1)[..., None]
    sin_omega = jnp.sin(omega)
    parallel = sin_omega < PARALLEL_EPS
    sin_omega = jnp.where(parallel, 1.0, sin_omega)
    spherical = (jnp.sin((1.0 - t) * omega) / sin_omega * z0
                 + jnp.sin(t * omega) / sin_omega * z1)
    out = jnp.where(parallel, (1.0 - t) * z0 + t * z1, spherical)
    # The ratios sin(w) / sin(w) need not round to exactly 1: pin the ends.
    return jnp.where(t == 0.0, z0, jnp.where(t == 1.0, z1, out))


def interpolation_latents(z_start, z_end, steps: int, method: str = "slerp"):
    """[P, steps, d]: row p walks from z_start[p] to z_end[p] (both [P, d]) in `steps` evenly
    spaced values of t in [0, 1], by `method` ('lerp' or 'slerp'); its ends are exact."""
    if method not in METHODS:
        raise GanJaxError(f"unknown interpolation method {method!r}; valid: {METHODS}")
    if steps < 2:
        raise GanJaxError(f"interpolation needs at least 2 steps (both ends), got {steps}")
    if jnp.ndim(z_start) != 2 or jnp.shape(z_start) != jnp.shape(z_end):
        raise GanJaxError(f"start and end latents must both be [P, latent_dim], got "
                          f"{jnp.shape(z_start)} and {jnp.shape(z_end)}")
    t = jnp.linspace(0.0, 1.0, steps)
    walk = lerp if method == "lerp" else slerp
    return walk(z_start[:, None, :], z_end[:, None, :], t)


def check_indices(indices, n: int, name: str = "indices") -> np.ndarray:
    """`indices` as an int array, or GanJaxError unless it is non-empty and all in [0, n).
    (jnp indexing would silently clamp an index that is out of range.)"""
    try:
        out = np.asarray(indices, dtype=np.int64).reshape(-1)
    except (TypeError, ValueError) as e:
        raise GanJaxError(f"{name} must be integers, got {indices!r}") from e
    if out.size == 0:
        raise GanJaxError(f"{name} is empty: choose at least one sample index")
    bad = out[(out < 0) | (out >= n)]
    if bad.size:
        raise GanJaxError(f"{name} {bad.tolist()} out of range: the sample indices must be in "
                          f"0..{n - 1} (the {n} samples of the seeded batch)")
    return out


def group_means(z, *groups):
    """[len(groups), d]: the mean latent of each group of row indices of z [n, d]."""
    return jnp.stack([jnp.mean(z[check_indices(g, z.shape[0], f"group {i}")], axis=0)
                      for i, g in enumerate(groups)])


def vector_arithmetic(z, a, b, c):
    """mean(z[a]) - mean(z[b]) + mean(z[c]) for index lists a, b, c into z [n, d]; shape [d]."""
    mean_a, mean_b, mean_c = group_means(z, a, b, c)
    return mean_a - mean_b + mean_c
