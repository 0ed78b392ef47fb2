"""The thin-side GEMM forms of stride-1 convolutions (im2col; GEMM-first overlap-add with its
hand-written backward): float32 forward and both gradients against a float64 direct convolution,
odd and even sides, the 7x7 layers of the CycleGAN generator at small sizes."""
import jax
import numpy as np
import pytest

from gan_jax.ops.thin_conv import conv_valid_gemm, conv_valid_im2col, conv_valid_overlap_add
from tests.ops.helpers import assert_close, jit, random_data, value_and_vjp

DN = ("NHWC", "HWIO", "NHWC")


def _ref(xp, k):
    return jax.lax.conv_general_dilated(xp, k, (1, 1), "VALID", dimension_numbers=DN,
                                        precision=jax.lax.Precision.HIGHEST)


@pytest.mark.parametrize("form", [conv_valid_im2col, conv_valid_overlap_add, conv_valid_gemm])
@pytest.mark.parametrize("n,h,w,k,c,o", [
    (1, 1, 1, 7, 3, 2),
    (2, 9, 6, 7, 3, 16),      # c7_in-like: few inputs
    (1, 8, 11, 7, 32, 3),     # c7_out-like: few outputs
    (3, 5, 5, 3, 4, 4),
    (1, 6, 4, 2, 5, 1),       # an even kernel side
])
def test_forward_and_gradients_match_a_float64_direct_convolution(form, n, h, w, k, c, o):
    xp, kern = random_data((n, h + k - 1, w + k - 1, c), (k, k, c, o), seed=h * 10 + c)
    kern = kern / np.sqrt(k * k * c)
    g = np.random.default_rng(5).standard_normal((n, h, w, o)).astype(np.float32)
    got = jit(lambda: value_and_vjp(form, xp, kern, g))()
    assert all(a.dtype == np.float32 for a in got)
    with jax.enable_x64(True):
        want = jit(lambda: value_and_vjp(_ref, *(a.astype(np.float64) for a in (xp, kern, g))))()
        want = [np.asarray(a) for a in want]
    for a, b in zip(got, want):
        assert_close(a, b, rtol=1e-5)


def test_the_hand_written_backward_is_itself_differentiable():
    """Second derivatives through the custom VJP (a gradient penalty through G would need
    them) equal those of the direct convolution."""
    xp, k = random_data((1, 8, 8, 4), (3, 3, 4, 2), seed=3)

    def hvp(conv):
        def gnorm(x):
            dx = jax.grad(lambda x: (conv(x, k) ** 2).sum())(x)
            return (dx ** 2).sum()
        return jit(jax.grad(gnorm))(xp)
    assert_close(hvp(conv_valid_overlap_add), hvp(_ref), rtol=1e-4)
