"""Winograd F(2x2, 2x2): against direct convolutions (lax, the explicit-matrix C^T reference),
forward and gradients, odd and even sizes, and the DCGAN layers that use it."""
import chex
import jax
import numpy as np
import pytest

from gan_jax.errors import GanJaxError
from gan_jax.ops.conv_transpose import conv_transpose, conv_transpose_matrix
from gan_jax.ops.winograd import (conv2x2, conv_transpose4x4, strided_conv4x4,
                                  transformed_filter, transformed_tiles)
from tests.ops.helpers import assert_close as _close, jit, random_data as _data, value_and_vjp

DN = ("NHWC", "HWIO", "NHWC")


def test_one_tile_by_hand():
    """A 3x3 input and a 2x2 kernel give one 2x2 tile: the 9 Winograd products reproduce the 4
    direct dot products exactly (small integers)."""
    x = np.arange(1, 10, dtype=np.float32).reshape(1, 3, 3, 1)
    w = np.array([[1, 2], [3, 4]], np.float32).reshape(2, 2, 1, 1)
    want = [[1 + 4 + 12 + 20, 2 + 6 + 15 + 24], [4 + 10 + 21 + 32, 5 + 12 + 24 + 36]]
    np.testing.assert_array_equal(np.asarray(conv2x2(x, w))[0, :, :, 0], want)
    chex.assert_shape(transformed_tiles(x), (9, 1, 1))
    chex.assert_shape(transformed_filter(w), (9, 1, 1))
    products = transformed_tiles(x)[:, 0, 0] * transformed_filter(w)[:, 0, 0]
    assert products.shape == (9,)                         # 9 multiplies for 4 outputs x 4 taps


@pytest.mark.parametrize("h,w", [(2, 2), (5, 8), (8, 5), (7, 7), (16, 16)])
def test_conv2x2_matches_lax(h, w):
    x, k = _data((2, h + 1, w + 1, 3), (2, 2, 3, 4))
    want = jax.lax.conv_general_dilated(x, k, (1, 1), "VALID", dimension_numbers=DN)
    _close(jit(conv2x2)(x, k), want)


def _strided_ref(x, k):
    return jax.lax.conv_general_dilated(x, k, (2, 2), ((1, 1), (1, 1)), dimension_numbers=DN)


@pytest.mark.parametrize("side", [4, 8, 14, 16])
def test_strided_conv_forward_and_grads(side):
    x, k = _data((3, side, side, 5), (4, 4, 5, 6), seed=side)
    g = np.random.default_rng(9).standard_normal((3, side // 2, side // 2, 6)).astype(np.float32)

    got = jit(lambda: value_and_vjp(strided_conv4x4, x, k, g))()
    want = jit(lambda: value_and_vjp(_strided_ref, x, k, g))()
    for a, b in zip(got, want):
        _close(a, b)


@pytest.mark.parametrize("side", [1, 4, 7, 8])
def test_conv_transpose_forward_and_grads_against_the_matrix_reference(side):
    x, k = _data((2, side, side, 3), (4, 4, 3, 5), seed=side)
    g = np.random.default_rng(8).standard_normal((2, 2 * side, 2 * side, 5)).astype(np.float32)

    got = jit(lambda: value_and_vjp(conv_transpose4x4, x, k, g))()
    want = jit(lambda: value_and_vjp(lambda x, k: conv_transpose_matrix(x, k, 2, 1), x, k, g))()
    for a, b in zip(got, want):
        _close(a, b)


def test_conv_transpose_dispatch_and_its_limits():
    x, k = _data((2, 4, 4, 3), (4, 4, 3, 2))
    _close(conv_transpose(x, k, 2, 1, impl="winograd"), conv_transpose(x, k, 2, 1))
    with pytest.raises(GanJaxError, match="winograd"):
        conv_transpose(x, k[:3, :3], 2, 1, impl="winograd")
    with pytest.raises(GanJaxError, match="winograd"):
        conv_transpose(x, k, 2, 1, output_padding=1, impl="winograd")
    with pytest.raises(GanJaxError, match="winograd"):
        conv_transpose(x, k, 1, 1, impl="winograd")


def test_float32_error_stays_small_at_dcgan_width():
    """256 input channels (DCGAN's widest 32x32 layer): within 1e-5 of a float64 direct sum."""
    x, k = _data((2, 4, 4, 256), (4, 4, 256, 8), seed=3)
    k = k * 0.02
    want = conv_transpose_matrix(x.astype(np.float64), k.astype(np.float64), 2, 1) \
        if jax.config.jax_enable_x64 else None
    got = np.asarray(conv_transpose4x4(x, k), np.float64)
    if want is None:  # no x64 in this process: a numpy float64 reference of the scatter form
        full = np.zeros((2, 10, 10, 8))
        for i in range(4):
            for j in range(4):
                full[:, 2 * i:2 * i + 4, 2 * j:2 * j + 4] += np.einsum(
                    "nc,abco->nabo", x[:, i, j].astype(np.float64), k.astype(np.float64))
        want = full[:, 1:9, 1:9]
    _close(got, want)
