"""Latent-space numerics: lerp/slerp against reference formulas, and latent vector arithmetic."""
import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.errors import GanJaxError
from gan_jax.latent_space import (angle, check_indices, group_means, interpolation_latents, lerp,
                                  slerp, vector_arithmetic)

# Compiled once per shape: much cheaper than running the many small ops one by one.
slerp_jit = jax.jit(slerp)
walk_jit = jax.jit(interpolation_latents, static_argnums=(2, 3))


def _latents(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def _slerp_reference(z0, z1, t):
    """The textbook formula in float64 with the angle from arccos, one pair (z0, z1) [d]."""
    z0, z1, t = np.float64(z0), np.float64(z1), np.float64(t)[:, None]
    omega = np.arccos(np.clip(z0 @ z1 / np.linalg.norm(z0) / np.linalg.norm(z1), -1, 1))
    return (np.sin((1 - t) * omega) * z0 + np.sin(t * omega) * z1) / np.sin(omega)


def _angles(a, b):
    a, b = np.float64(a), np.float64(b)
    cos = np.sum(a * b, -1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)
    return np.arccos(np.clip(cos, -1, 1))


@pytest.mark.parametrize("method", ["lerp", "slerp"])
def test_interpolation_ends_are_exact(method):
    z0, z1 = _latents((5, 16), 1), _latents((5, 16), 2)
    for walk in (walk_jit(z0, z1, 7, method), interpolation_latents(z0, z1, 7, method)):
        chex.assert_shape(walk, (5, 7, 16))
        np.testing.assert_array_equal(walk[:, 0], z0)
        np.testing.assert_array_equal(walk[:, -1], z1)


def test_lerp_is_linear():
    z0, z1 = _latents((3, 8), 1), _latents((3, 8), 2)
    t = np.linspace(0, 1, 5, dtype=np.float32)
    walk = walk_jit(z0, z1, 5, "lerp")
    expected = z0[:, None] + t[None, :, None] * (z1 - z0)[:, None]
    np.testing.assert_allclose(walk, expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(lerp(z0, z1, 0.5), (z0 + z1) / 2, rtol=1e-6, atol=1e-6)


def test_slerp_matches_the_reference_formula():
    z0, z1 = _latents((4, 32), 3), _latents((4, 32), 4)
    t = np.linspace(0, 1, 9, dtype=np.float32)
    walk = walk_jit(z0, z1, 9, "slerp")
    for p in range(4):
        np.testing.assert_allclose(walk[p], _slerp_reference(z0[p], z1[p], t),
                                   rtol=1e-5, atol=1e-5)


def test_slerp_keeps_the_norm_of_equal_norm_ends():
    z0, z1 = _equal_norm_ends((6, 100), 5)
    norms = np.linalg.norm(walk_jit(z0, z1, 11, "slerp"), axis=-1)
    np.testing.assert_allclose(norms, np.repeat(np.linalg.norm(z0, axis=-1)[:, None], 11, 1),
                               rtol=1e-5)
    # lerp cuts the chord: its midpoint is shorter (for Gaussian z, well inside the shell).
    assert np.all(np.linalg.norm(lerp(z0, z1, 0.5), axis=-1) < 0.9 * norms[:, 5])


def _equal_norm_ends(shape, seed):
    z0, z1 = _latents(shape, seed), _latents(shape, seed + 1)
    return z0, z1 / np.linalg.norm(z1, axis=-1, keepdims=True) * np.linalg.norm(
        z0, axis=-1, keepdims=True)


def test_slerp_takes_constant_angular_steps_between_equal_norm_ends():
    z0, z1 = _equal_norm_ends((3, 20), 7)
    walk = np.asarray(walk_jit(z0, z1, 6, "slerp"))
    total = _angles(z0, z1)
    steps = _angles(walk[:, :-1], walk[:, 1:])
    np.testing.assert_allclose(steps, np.repeat(total[:, None] / 5, 5, 1), rtol=1e-4)
    np.testing.assert_allclose(_angles(z0[:, None], walk), total[:, None] * np.linspace(0, 1, 6),
                               atol=1e-5)


def test_angle_is_accurate_for_small_angles():
    a = 1e-3
    e1, e2 = np.eye(4, dtype=np.float32)[:2]
    z0, z1 = 5.0 * e1, 2.0 * (np.cos(a) * e1 + np.sin(a) * e2)
    np.testing.assert_allclose(angle(z0, z1), a, rtol=1e-4)
    np.testing.assert_allclose(angle(z0, -z0), np.pi, rtol=1e-6)
    assert float(angle(z0, np.zeros_like(z0))) == 0.0


def test_slerp_falls_back_to_lerp_for_parallel_or_zero_vectors():
    z = _latents((16,), 9)
    t = np.linspace(0, 1, 5, dtype=np.float32)
    for other in (2.0 * z, -z, np.zeros_like(z), z + 1e-7):
        got = slerp_jit(z, other, t)
        assert np.all(np.isfinite(got))
        np.testing.assert_allclose(got, lerp(z, other, t), rtol=1e-5, atol=1e-6)
    # Rows are independent: a parallel row does not change its neighbour's spherical path.
    z0 = np.stack([z, _latents((16,), 10)])
    z1 = np.stack([2.0 * z, _latents((16,), 11)])
    got = slerp_jit(z0, z1, 0.25)
    np.testing.assert_allclose(got[0], lerp(z, 2.0 * z, 0.25), rtol=1e-6)
    np.testing.assert_allclose(got[1], _slerp_reference(z0[1], z1[1], [0.25])[0], rtol=1e-5,
                               atol=1e-5)


def test_batch_shapes():
    z0, z1 = _latents((5, 8), 1), _latents((5, 8), 2)
    t = jnp.linspace(0, 1, 3)
    for fn in (jax.jit(lerp), slerp_jit):
        chex.assert_shape(fn(z0, z1, 0.3), (5, 8))                       # scalar t
        chex.assert_shape(fn(z0[0], z1[0], t), (3, 8))                   # one pair, T values
        chex.assert_shape(fn(z0[:, None], z1[:, None], t), (5, 3, 8))    # P pairs x T values
        chex.assert_shape(fn(z0, z1, jnp.full((5,), 0.3)), (5, 8))       # one t per row
    chex.assert_trees_all_close(slerp_jit(z0, z1, 0.3), slerp(z0, z1, 0.3))  # eager too


def test_interpolation_latents_rejects_bad_arguments():
    z = _latents((2, 4))
    with pytest.raises(GanJaxError, match="unknown interpolation method 'cubic'"):
        interpolation_latents(z, z, 5, "cubic")
    with pytest.raises(GanJaxError, match="at least 2 steps"):
        interpolation_latents(z, z, 1)
    with pytest.raises(GanJaxError, match=r"\[P, latent_dim\]"):
        interpolation_latents(z, z[:1], 5)


def test_vector_arithmetic_matches_numpy():
    z = _latents((12, 10), 12)
    a, b, c = [1, 2, 3], [4, 5], [11]
    expected = z[a].mean(0) - z[b].mean(0) + z[c].mean(0)
    np.testing.assert_allclose(vector_arithmetic(z, a, b, c), expected, rtol=1e-6, atol=1e-6)
    means = group_means(z, a, b, c)
    chex.assert_shape(means, (3, 10))
    np.testing.assert_allclose(means, [z[a].mean(0), z[b].mean(0), z[c].mean(0)], rtol=1e-6)
    np.testing.assert_allclose(vector_arithmetic(z, [7], [7], [0]), z[0], rtol=1e-6, atol=1e-6)


def test_indices_are_checked():
    assert check_indices([0, 3], 4, "--a").tolist() == [0, 3]
    with pytest.raises(GanJaxError, match=r"--a \[4\] out of range: .* 0\.\.3"):
        check_indices([0, 4], 4, "--a")
    with pytest.raises(GanJaxError, match=r"\[-1\] out of range"):
        check_indices([-1], 4)
    with pytest.raises(GanJaxError, match="--b is empty"):
        check_indices([], 4, "--b")
    with pytest.raises(GanJaxError, match="must be integers"):
        check_indices(["x"], 4)
    with pytest.raises(GanJaxError, match="out of range"):  # jnp would clamp it silently
        vector_arithmetic(_latents((4, 3)), [0], [1], [9])
