"""The GEMM forms of DCGAN's 4x4 / stride 2 / padding 1 layers (for thin layers): forward and
gradients against the explicit-matrix reference and XLA's convolution."""
import functools

import jax
import numpy as np
import pytest

from gan_jax.errors import GanJaxError
from gan_jax.ops.conv_transpose import conv_transpose, conv_transpose_matrix
from gan_jax.ops.gemm_conv import conv_transpose4x4_gemm, strided_conv4x4_gemm
from tests.ops.helpers import assert_close as _close
from tests.ops.helpers import jit, random_data as _data, value_and_vjp as _value_and_vjp


@pytest.mark.parametrize("side,c_in,c_out", [(1, 3, 1), (4, 5, 3), (7, 2, 1), (8, 16, 3)])
def test_conv_transpose_gemm_forward_and_grads(side, c_in, c_out):
    x, k = _data((2, side, side, c_in), (4, 4, c_in, c_out), seed=side)
    g = np.random.default_rng(1).standard_normal((2, 2 * side, 2 * side, c_out)).astype(np.float32)
    got = jit(functools.partial(_value_and_vjp, conv_transpose4x4_gemm))(x, k, g)
    want = jit(functools.partial(_value_and_vjp,
                                 lambda x, k: conv_transpose_matrix(x, k, 2, 1)))(x, k, g)
    for a, b in zip(got, want):
        _close(a, b)


@pytest.mark.parametrize("side,c_in,c_out", [(2, 1, 4), (8, 3, 5), (16, 1, 8)])
def test_strided_conv_gemm_forward_and_grads(side, c_in, c_out):
    x, k = _data((2, side, side, c_in), (4, 4, c_in, c_out), seed=side)
    g = np.random.default_rng(2).standard_normal((2, side // 2, side // 2, c_out)).astype(
        np.float32)
    lax_conv = functools.partial(jax.lax.conv_general_dilated, window_strides=(2, 2),
                                 padding=((1, 1), (1, 1)),
                                 dimension_numbers=("NHWC", "HWIO", "NHWC"))
    got = jit(functools.partial(_value_and_vjp, strided_conv4x4_gemm))(x, k, g)
    want = jit(functools.partial(_value_and_vjp, lambda x, k: lax_conv(x, k)))(x, k, g)
    for a, b in zip(got, want):
        _close(a, b)


def test_dispatch():
    x, k = _data((2, 4, 4, 3), (4, 4, 3, 1))
    _close(conv_transpose(x, k, 2, 1, impl="gemm"), conv_transpose(x, k, 2, 1, impl="xla"))
    with pytest.raises(GanJaxError, match="'gemm' covers DCGAN's layer only"):
        conv_transpose(x, k, 1, 0, impl="gemm")
