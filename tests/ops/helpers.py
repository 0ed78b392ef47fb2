"""Shared by the convolution tests: seeded data, a scale-relative closeness check, value + VJP."""
import functools

import jax
import numpy as np

# XLA's backend optimisations multiply the compile time of these one-off programs and do not
# change what is computed.
jit = functools.partial(jax.jit, compiler_options={"xla_backend_optimization_level": 0})


def random_data(shape, kshape, seed=0):
    """(input, kernel) as float32 standard normals from a numpy seed."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape).astype(np.float32),
            rng.standard_normal(kshape).astype(np.float32))


def assert_close(a, b, rtol=1e-5):
    """|a - b| <= rtol * max(1, max|b|) elementwise (relative to the output's scale)."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=0, atol=rtol * max(1.0, float(np.abs(b).max())))


def value_and_vjp(f, x, k, g):
    """(f(x, k), d/dx, d/dk) of <f(x, k), g>."""
    y, vjp = jax.vjp(f, x, k)
    return (y,) + vjp(g)
