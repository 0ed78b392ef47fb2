"""Tests for gan_jax.ops.conv_transpose: the matrix, XLA and sub-pixel forms agree with each other,
with a float64 numpy scatter loop, with hand-computed integers, and with PyTorch's ConvTranspose2d
(through tests/golden/conv_transpose_torch.npz, made by tests/golden/make_conv_transpose.py)."""

import functools
import os

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from gan_jax.errors import GanJaxError
from gan_jax.ops.conv_transpose import (IMPLS, conv_matrix, conv_transpose, conv_transpose_matrix,
                                        conv_transpose_xla,
                                        transpose_crops)

GOLDEN = os.path.join(os.path.dirname(__file__), os.pardir, "golden", "conv_transpose_torch.npz")
DN = ("NHWC", "HWIO", "NHWC")
# XLA's backend optimisations roughly double the compile time of these tiny programs and do not
# change what is computed: turn them off for the many one-off jits here (keeps the file < 30 s).
FAST_COMPILE = {"xla_backend_optimization_level": 0}


# ---------------------------------------------------------------------------------------------
# float64 numpy reference (the scatter definition, written independently of the module).


def _pairs(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _crops(kernel_hw, stride, padding, output_padding):
    """(lo, hi) crops per axis, output_padding folded in, from the module's documented rules."""
    op = _pairs(output_padding)
    if padding == "VALID":
        base = [(0, 0), (0, 0)]
    elif padding == "SAME":
        base = [(max(k - s, 0) // 2, k - s - max(k - s, 0) // 2)
                for k, s in zip(kernel_hw, stride)]
    elif isinstance(padding, int):
        base = [(padding, padding)] * 2
    else:
        base = [tuple(p) for p in padding]
    return [(lo, hi - o) for (lo, hi), o in zip(base, op)]


def _framed(x, w, stride, crops):
    """Geometry: the full-output frame with a margin so negative crops become zero padding."""
    (sh, sw), (kh, kw) = stride, w.shape[:2]
    full = ((x.shape[1] - 1) * sh + kh, (x.shape[2] - 1) * sw + kw)
    out = [f - lo - hi for f, (lo, hi) in zip(full, crops)]
    m = max(abs(c) for pair in crops for c in pair) + 1
    return full, out, m


def ref_forward(x, w, stride, padding, output_padding):
    x, w = np.float64(x), np.float64(w)
    stride = _pairs(stride)
    crops = _crops(w.shape[:2], stride, padding, output_padding)
    (fh, fw), (oh, ow), m = _framed(x, w, stride, crops)
    (sh, sw), (kh, kw) = stride, w.shape[:2]
    big = np.zeros((x.shape[0], fh + 2 * m, fw + 2 * m, w.shape[3]))
    for i in range(x.shape[1]):
        for j in range(x.shape[2]):
            big[:, m + i * sh:m + i * sh + kh, m + j * sw:m + j * sw + kw] += np.einsum(
                "nc,abco->nabo", x[:, i, j], w)
    lo_h, lo_w = crops[0][0], crops[1][0]
    return big[:, m + lo_h:m + lo_h + oh, m + lo_w:m + lo_w + ow]


def ref_grads(x, w, g, stride, padding, output_padding):
    """Gradients of <conv_transpose(x, w), g>: g placed back in the full frame, read by taps."""
    x, w, g = np.float64(x), np.float64(w), np.float64(g)
    stride = _pairs(stride)
    crops = _crops(w.shape[:2], stride, padding, output_padding)
    (fh, fw), (oh, ow), m = _framed(x, w, stride, crops)
    (sh, sw), (kh, kw) = stride, w.shape[:2]
    big = np.zeros((g.shape[0], fh + 2 * m, fw + 2 * m, g.shape[3]))
    lo_h, lo_w = crops[0][0], crops[1][0]
    big[:, m + lo_h:m + lo_h + oh, m + lo_w:m + lo_w + ow] = g
    gfull = big[:, m:m + fh, m:m + fw]
    h, wd = x.shape[1:3]
    gx, gw = np.zeros_like(x), np.zeros_like(w)
    for a in range(kh):
        for b in range(kw):
            tap = gfull[:, a:a + (h - 1) * sh + 1:sh, b:b + (wd - 1) * sw + 1:sw]   # [N, H, W, O]
            gx += np.einsum("nijo,co->nijc", tap, w[a, b])
            gw[a, b] = np.einsum("nijc,nijo->co", x, tap)
    return gx, gw


def assert_close(actual, expected, tol=1e-5):
    """Relative to the largest magnitude of the float64 expectation."""
    actual, expected = np.float64(actual), np.float64(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    scale = max(np.abs(expected).max(), 1e-12)
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol * scale)


# ---------------------------------------------------------------------------------------------
# The small worked case, by hand.

KERNEL_3X3 = np.array([[1, 0, -1],
                       [2, 1, 0],
                       [0, 1, 2]], np.float32)
IMAGE_4X4 = np.arange(16, dtype=np.float32).reshape(4, 4)


def test_conv_matrix_worked_example():
    # Forward convolution (cross-correlation, no flip) of the 4x4 image by a hand loop.
    loop = np.zeros((2, 2), np.float32)
    for i in range(2):
        for j in range(2):
            loop[i, j] = np.sum(IMAGE_4X4[i:i + 3, j:j + 3] * KERNEL_3X3)
    np.testing.assert_array_equal(loop, [[40, 46], [64, 70]])

    c = np.asarray(conv_matrix((4, 4), KERNEL_3X3))
    chex.assert_shape(c, (4, 16))
    np.testing.assert_array_equal(c, [
        [1, 0, -1, 0, 2, 1, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0],
        [0, 1, 0, -1, 0, 2, 1, 0, 0, 0, 1, 2, 0, 0, 0, 0],
        [0, 0, 0, 0, 1, 0, -1, 0, 2, 1, 0, 0, 0, 1, 2, 0],
        [0, 0, 0, 0, 0, 1, 0, -1, 0, 2, 1, 0, 0, 0, 1, 2]])
    np.testing.assert_array_equal((c @ IMAGE_4X4.ravel()).reshape(2, 2), loop)


def test_conv_transpose_worked_example():
    y = np.array([[1, 2], [3, -1]], np.float32)
    expected = np.array([[1, 2, -1, -2],
                         [5, 4, -1, 1],
                         [6, 2, 3, 4],
                         [0, 3, 5, -2]], np.float32)
    c = np.asarray(conv_matrix((4, 4), KERNEL_3X3))
    np.testing.assert_array_equal((c.T @ y.ravel()).reshape(4, 4), expected)
    all_impls = functools.partial(jax.jit, compiler_options=FAST_COMPILE)(
        lambda y, k: {impl: conv_transpose(y, k, 1, 0, impl=impl) for impl in IMPLS})
    for impl, out in all_impls(y[None, :, :, None], KERNEL_3X3[:, :, None, None]).items():
        chex.assert_shape(out, (1, 4, 4, 1))
        np.testing.assert_allclose(np.asarray(out)[0, :, :, 0], expected, atol=1e-6, err_msg=impl)


def test_conv_matrix_strided_padded_shape():
    # 5x5 image, 3x3 kernel, stride 2, padding 1 -> 3x3 output: C is 9 x 25.
    k = np.arange(9, dtype=np.float32).reshape(3, 3)
    c = np.asarray(conv_matrix((5, 5), k, stride=2, padding=1))
    chex.assert_shape(c, (9, 25))
    z = np.arange(25, dtype=np.float32).reshape(5, 5)
    zp = np.pad(z, 1)
    loop = np.array([[np.sum(zp[2 * i:2 * i + 3, 2 * j:2 * j + 3] * k) for j in range(3)]
                     for i in range(3)])
    np.testing.assert_allclose((c @ z.ravel()).reshape(3, 3), loop)


# ---------------------------------------------------------------------------------------------
# Adjointness: <conv(z), x> == <z, conv_transpose(x)>.


def _forward_conv(z, w, stride, padding, output_padding):
    """PyTorch Conv2d (cross-correlation) of an output-sized image, padded (lo, hi - op)."""
    s = _pairs(stride)
    crops = _crops(w.shape[:2], s, padding, output_padding)
    return lax.conv_general_dilated(z, jnp.swapaxes(w, 2, 3), s, crops, dimension_numbers=DN,
                                    precision=lax.Precision.HIGHEST)


@pytest.mark.parametrize("impl,stride,k,padding,op", [("subpixel", 2, 4, 1, 0),
                                                      ("xla", 3, 5, "SAME", 1),
                                                      ("subpixel", 2, 3, ((0, 2), (1, -1)), 1)])
def test_adjoint(impl, stride, k, padding, op):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    w = rng.standard_normal((k, k, 5, 3)).astype(np.float32)
    shape = jax.eval_shape(lambda x, w: conv_transpose(x, w, stride, padding, op), x, w).shape
    z = rng.standard_normal(shape).astype(np.float32)
    out, conv_z = functools.partial(jax.jit, compiler_options=FAST_COMPILE)(
        lambda x, w, z: (conv_transpose(x, w, stride, padding, op, impl=impl),
                         _forward_conv(z, w, stride, padding, op)))(x, w, z)
    chex.assert_equal_shape([conv_z, x])
    lhs = np.vdot(np.float64(conv_z), np.float64(x))
    rhs = np.vdot(np.float64(z), np.float64(out))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-5)


# ---------------------------------------------------------------------------------------------
# The three implementations agree (forward and both gradients) with the float64 reference.

# (stride, kernel, padding, output_padding, (H, W)); c_in=3, c_out=2, batch 2 throughout.
CASES = [
    (1, 5, 2, 0, (5, 6)),
    (1, 3, ((1, 0), (2, 1)), 0, (3, 4)),
    (2, 2, 0, 1, (5, 5)),
    (2, 3, 1, 1, (5, 4)),
    (2, 3, ((0, 2), (1, 1)), 1, (3, 3)),
    (2, 4, 1, 0, (4, 4)),
    (2, 4, "SAME", 0, (3, 4)),
    (2, 5, 2, 1, (4, 3)),
    (2, 5, ((3, 1), (-1, 2)), 0, (3, 4)),
    (3, 2, "SAME", 0, (2, 4)),
    (3, 3, 0, 2, (3, 2)),
    (3, 4, ((2, 0), (0, 2)), 1, (3, 3)),
    (3, 5, "VALID", 0, (3, 4)),
    (3, 5, "SAME", 1, (2, 2)),
    ((2, 1), (4, 3), 1, 0, (3, 4)),
    ((1, 3), (2, 5), "SAME", (0, 2), (4, 2)),
]


def _case_id(case):
    s, k, p, op, hw = case
    return f"s{s}-k{k}-p{p}-op{op}-{hw[0]}x{hw[1]}".replace(" ", "")


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_impls_agree_forward_and_grads(case):
    stride, k, padding, op, (h, w_) = case
    kh, kw = _pairs(k)
    rng = np.random.default_rng(abs(hash(_case_id(case))) % 2**32)
    x = rng.standard_normal((2, h, w_, 3)).astype(np.float32)
    w = rng.standard_normal((kh, kw, 3, 2)).astype(np.float32)
    expected = ref_forward(x, w, stride, padding, op)
    g = rng.standard_normal(expected.shape).astype(np.float32)   # a random linear functional
    gx_ref, gw_ref = ref_grads(x, w, g, stride, padding, op)

    @functools.partial(jax.jit, compiler_options=FAST_COMPILE)
    def all_impls(x, w, g):
        res = {}
        for impl in IMPLS:
            def f(x, w, impl=impl):
                return conv_transpose(x, w, stride, padding, op, impl=impl)
            # jax.grad of the random linear functional <f(x, w), g>, as a training step calls it.
            grads = jax.grad(lambda x, w: jnp.vdot(f(x, w), g), argnums=(0, 1))(x, w)
            res[impl] = (f(x, w),) + grads
        return res

    for impl, (out, gx, gw) in all_impls(x, w, g).items():
        assert_close(out, expected)
        assert_close(gx, gx_ref)
        assert_close(gw, gw_ref)


def test_output_size_formulas():
    x = jax.ShapeDtypeStruct((1, 5, 6, 2), jnp.float32)
    w = jax.ShapeDtypeStruct((4, 3, 2, 7), jnp.float32)

    def out_shape(stride, padding, output_padding=0):
        return jax.eval_shape(
            lambda x, w: conv_transpose(x, w, stride, padding, output_padding), x, w).shape

    # PyTorch: (in-1)*s - 2p + k + op.
    assert out_shape(2, 1, 1) == (1, 4 * 2 - 2 + 4 + 1, 5 * 2 - 2 + 3 + 1, 7)
    assert out_shape(2, "SAME") == (1, 10, 12, 7)
    assert out_shape(3, "SAME") == (1, 15, 18, 7)
    assert out_shape(2, "VALID") == (1, 4 * 2 + 4, 5 * 2 + 3, 7)
    assert out_shape(2, ((1, 0), (2, 3)), 1) == (1, 12 - 1 + 1, 13 - 5 + 1, 7)
    assert transpose_crops((4, 4), (2, 2), "SAME") == ((1, 1), (1, 1))   # = PyTorch p=1
    assert transpose_crops((2, 2), (3, 3), "SAME") == ((0, -1), (0, -1))  # s > k: zero-pads


@pytest.mark.parametrize("stride,k,padding", [(2, 4, "SAME"), (1, 3, "VALID"), (3, 2, "SAME")])
def test_kernel_flip_relative_to_lax(stride, k, padding):
    """Ours == lax.conv_transpose (flax's ConvTranspose) with the kernel flipped in space, and ==
    lax.conv_transpose(transpose_kernel=True) with in/out swapped. (VALID differs when k < s:
    lax then outputs (in-1)*s + s, we (in-1)*s + k.)"""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 4, 3)).astype(np.float32)
    w = rng.standard_normal((k, k, 3, 2)).astype(np.float32)

    @functools.partial(jax.jit, compiler_options=FAST_COMPILE)
    def three(x, w):
        return (conv_transpose(x, w, stride, padding),
                lax.conv_transpose(x, w[::-1, ::-1], (stride, stride), padding,
                                   dimension_numbers=DN),
                lax.conv_transpose(x, w.swapaxes(2, 3), (stride, stride), padding,
                                   dimension_numbers=DN, transpose_kernel=True))

    ours, flipped, swapped = three(x, w)
    assert_close(ours, flipped)
    assert_close(ours, swapped)


# ---------------------------------------------------------------------------------------------
# PyTorch ConvTranspose2d, via the golden file.


def _golden_cases():
    with np.load(GOLDEN) as data:
        count = int(data["count"])
        return [{key: data[f"c{i}_{key}"] for key in ("x", "w", "y", "args")} for i in range(count)]


@pytest.mark.parametrize("index", range(13))
def test_matches_pytorch_golden(index):
    case = _golden_cases()[index]
    sh, sw, ph, pw, oph, opw = (int(v) for v in case["args"])
    x = case["x"].transpose(0, 2, 3, 1)            # NCHW -> NHWC
    w = case["w"].transpose(2, 3, 0, 1)            # [c_in, c_out, kh, kw] -> HWIO, no flip
    expected = case["y"].transpose(0, 2, 3, 1)

    @functools.partial(jax.jit, compiler_options=FAST_COMPILE)
    def all_impls(x, w):
        return {impl: conv_transpose(x, w, (sh, sw), (ph, pw), (oph, opw), impl=impl)
                for impl in IMPLS}

    for impl, out in all_impls(x, w).items():
        assert_close(out, expected)


def test_golden_count():
    assert len(_golden_cases()) == 13


# ---------------------------------------------------------------------------------------------
# Bad arguments.

X = jnp.zeros((1, 4, 4, 3))
W = jnp.zeros((3, 3, 3, 2))


@pytest.mark.parametrize("call,match", [
    (lambda: conv_transpose(X[0], W, 2, 1), "rank 4"),
    (lambda: conv_transpose(X, W[0], 2, 1), "rank 4"),
    (lambda: conv_transpose(X, jnp.zeros((3, 3, 4, 2)), 2, 1), "channel mismatch"),
    (lambda: conv_transpose(X, W, 2, 1, output_padding=2), "output_padding"),
    (lambda: conv_transpose(X, W, 1, 0, output_padding=1), "output_padding"),
    (lambda: conv_transpose(X, W, 2, 1, impl="fft"), "unknown conv_transpose impl"),
    (lambda: conv_transpose(X, W, 0, 1), "stride"),
    (lambda: conv_transpose(X, W, 2, "FULL"), "padding"),
    (lambda: conv_transpose(X, W, 2, -1), "padding"),
    (lambda: conv_transpose(X, W, 1, 5), "crops everything"),
    (lambda: conv_transpose_xla(X, W, (1, 2, 3), 1), "stride"),
    (lambda: conv_transpose_matrix(X, W, 2, ((1, 2, 3), (0, 0))), "padding"),
])
def test_bad_arguments(call, match):
    with pytest.raises(GanJaxError, match=match):
        call()
