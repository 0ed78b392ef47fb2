"""Winograd F(2x2, 3x3): one tile by hand, then float32 forward and both gradients against a
float64 direct convolution (lax), odd and even sides, 1 to 64 channels, batch 1 to 3."""
import chex
import jax
import numpy as np
import pytest

from gan_jax.ops.winograd3x3 import conv3x3, transformed_filter, transformed_tiles
from tests.ops.helpers import assert_close, jit, random_data, value_and_vjp

DN = ("NHWC", "HWIO", "NHWC")


def _ref(xp, k):
    return jax.lax.conv_general_dilated(xp, k, (1, 1), "VALID", dimension_numbers=DN,
                                        precision=jax.lax.Precision.HIGHEST)


def test_one_tile_by_hand():
    """A 4x4 input and a 3x3 kernel give one 2x2 tile: 16 products for 4 outputs x 9 taps,
    equal to the direct sums (small integers, exact in float32)."""
    x = np.arange(1, 17, dtype=np.float32).reshape(1, 4, 4, 1)
    w = np.arange(1, 10, dtype=np.float32).reshape(3, 3, 1, 1)
    want = [[sum(x[0, i + a, j + b, 0] * w[a, b, 0, 0] for a in range(3) for b in range(3))
             for j in range(2)] for i in range(2)]
    np.testing.assert_array_equal(np.asarray(conv3x3(x, w))[0, :, :, 0], want)
    chex.assert_shape(transformed_tiles(x, 1, 1), (16, 1, 1))
    chex.assert_shape(transformed_filter(w), (16, 1, 1))


@pytest.mark.parametrize("n,h,w,c,o", [
    (1, 1, 1, 1, 1),      # one output pixel: a tile padded with zeros and cropped
    (1, 2, 2, 1, 3),
    (2, 5, 8, 3, 4),      # odd rows
    (3, 8, 5, 8, 2),      # odd columns
    (1, 7, 7, 64, 5),
    (2, 6, 6, 5, 64),
    (1, 8, 8, 64, 64),
])
def test_forward_and_gradients_match_a_float64_direct_convolution(n, h, w, c, o):
    xp, k = random_data((n, h + 2, w + 2, c), (3, 3, c, o), seed=h * 100 + c)
    k = k / np.sqrt(9 * c)                                # unit-scale outputs, as in a network
    g = np.random.default_rng(7).standard_normal((n, h, w, o)).astype(np.float32)
    got = jit(lambda: value_and_vjp(conv3x3, xp, k, g))()
    assert all(a.dtype == np.float32 for a in got)
    with jax.enable_x64(True):
        want = jit(lambda: value_and_vjp(_ref, *(a.astype(np.float64) for a in (xp, k, g))))()
        want = [np.asarray(a) for a in want]
    assert want[0].dtype == np.float64
    for name, a, b in zip(("y", "dx", "dk"), got, want):
        assert a.shape == b.shape, name
        assert_close(a, b, rtol=1e-5)


def test_rejects_what_it_cannot_compute():
    with pytest.raises(ValueError, match="3x3"):
        conv3x3(np.zeros((1, 4, 4, 1), np.float32), np.zeros((2, 2, 1, 1), np.float32))
    with pytest.raises(ValueError, match="3x3"):
        conv3x3(np.zeros((1, 2, 4, 1), np.float32), np.zeros((3, 3, 1, 1), np.float32))
