"""`gan_jax.ops.choice`'s forms of the CycleGAN ResNet's layers: the policy of `conv_valid`, and
the 3x3 / stride-2 convolution and the 3x3 / stride-2 / output-padding-1 transposed convolution
computed as the 4x4 layers with zero-padded kernels, against float64 XLA convolutions of the 3x3
kernels, forward and both gradients."""
import jax
import numpy as np
import pytest

from gan_jax.ops.choice import (conv_transpose3x3, conv_valid, pad_kernel_to_4x4,
                                resolve_valid_impl, strided_conv3x3)
from gan_jax.ops.conv_transpose import conv_transpose
from tests.ops.helpers import assert_close, jit, random_data, value_and_vjp

DN = ("NHWC", "HWIO", "NHWC")
HIGHEST = jax.lax.Precision.HIGHEST


def test_the_policy_of_stride_one_convolutions():
    assert resolve_valid_impl("fast", (3, 3, 256, 256)) == "winograd"      # res blocks
    assert resolve_valid_impl("fast", (7, 7, 3, 64)) == "gemm"             # c7_in
    assert resolve_valid_impl("fast", (7, 7, 64, 3)) == "gemm"             # c7_out
    assert resolve_valid_impl("fast", (7, 7, 64, 64)) == "xla"
    assert resolve_valid_impl("fast", (3, 3, 4, 64)) == "gemm"             # THIN = 4
    assert resolve_valid_impl("winograd", (3, 3, 2, 2)) == "winograd"      # forced
    assert resolve_valid_impl("winograd", (7, 7, 64, 64)) == "xla"         # 3x3 only
    assert resolve_valid_impl("gemm", (3, 3, 64, 64)) == "gemm"
    for impl in ("xla", "subpixel", "matrix"):
        assert resolve_valid_impl(impl, (3, 3, 64, 64)) == "xla"


def _float64(f, *args):
    with jax.enable_x64(True):
        return [np.asarray(a) for a in jit(lambda: f(*(a.astype(np.float64) for a in args)))()]


def _check(f, ref, x, k, g):
    got = jit(lambda: value_and_vjp(f, x, k, g))()
    want = _float64(lambda x, k, g: value_and_vjp(ref, x, k, g), x, k, g)
    for a, b in zip(got, want):
        assert a.dtype == np.float32
        assert_close(a, b, rtol=1e-5)


@pytest.mark.parametrize("impl", ["fast", "winograd", "gemm", "xla"])
@pytest.mark.parametrize("k", [3, 7])
def test_conv_valid_computes_the_convolution(impl, k):
    for c, o in ((3, 8), (8, 3), (8, 8)):
        x, kern = random_data((2, 9 + k - 1, 6 + k - 1, c), (k, k, c, o), seed=k + c)
        kern = kern / np.sqrt(k * k * c)
        g = np.random.default_rng(1).standard_normal((2, 9, 6, o)).astype(np.float32)
        _check(lambda x, w: conv_valid(x, w, impl),
               lambda x, w: jax.lax.conv_general_dilated(x, w, (1, 1), "VALID",
                                                         dimension_numbers=DN,
                                                         precision=HIGHEST), x, kern, g)


@pytest.mark.parametrize("impl", ["fast", "winograd", "gemm", "xla"])
@pytest.mark.parametrize("n,side,c,o", [(1, 8, 8, 16), (2, 6, 3, 5), (3, 4, 16, 8), (1, 7, 6, 6)])
def test_strided_3x3_is_the_4x4_layer_with_a_zero_padded_kernel(impl, n, side, c, o):
    x, k = random_data((n, side, side, c), (3, 3, c, o), seed=side + c)
    k = k / np.sqrt(9 * c)
    out = -(-side // 2)
    g = np.random.default_rng(2).standard_normal((n, out, out, o)).astype(np.float32)
    _check(lambda x, w: strided_conv3x3(x, w, impl),
           lambda x, w: jax.lax.conv_general_dilated(x, w, (2, 2), ((1, 1), (1, 1)),
                                                     dimension_numbers=DN, precision=HIGHEST),
           x, k, g)


@pytest.mark.parametrize("impl", ["fast", "winograd", "gemm", "xla", "subpixel"])
@pytest.mark.parametrize("n,side,c,o", [(1, 8, 8, 16), (2, 3, 3, 5), (3, 4, 16, 8), (1, 1, 6, 6)])
def test_transposed_3x3_is_the_4x4_layer_with_a_zero_padded_kernel(impl, n, side, c, o):
    x, k = random_data((n, side, side, c), (3, 3, c, o), seed=side + c)
    k = k / np.sqrt(9 * c)
    g = np.random.default_rng(3).standard_normal((n, 2 * side, 2 * side, o)).astype(np.float32)
    _check(lambda x, w: conv_transpose3x3(x, w, impl),
           lambda x, w: conv_transpose(x, w, 2, 1, 1, impl="matrix"), x, k, g)


def test_the_padded_kernel_gets_no_gradient_in_its_zero_taps():
    """The parameter stays 3x3: the pad's transpose drops the 4th row and column."""
    k = np.ones((3, 3, 2, 2), np.float32)
    assert pad_kernel_to_4x4(k).shape == (4, 4, 2, 2)
    assert np.all(np.asarray(pad_kernel_to_4x4(k))[3] == 0)
    assert np.all(np.asarray(pad_kernel_to_4x4(k))[:, 3] == 0)
