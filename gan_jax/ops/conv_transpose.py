"""2-D transposed convolution (NHWC input, HWIO kernel), three ways that agree.

Definition (PyTorch's ``ConvTranspose2d``, the "scatter" form). Let ``x`` be ``[N, H, W, C_in]``,
``kernel`` be ``[kh, kw, C_in, C_out]`` and the stride ``s = (sh, sw)``. Every input pixel
scatters a copy of the kernel, scaled by its value, into a "full" output of size
``(H-1)*sh + kh`` by ``(W-1)*sw + kw``:

    F[n, i*sh + a, j*sw + b, o] += x[n, i, j, c] * kernel[a, b, c, o]     (sum over i, j, a, b, c)

and the result is ``F`` cropped by ``lo`` rows/columns at the start and ``hi`` at the end of each
spatial axis (a negative crop pads with zeros). The kernel is used *as is* here: this is exactly
PyTorch's convention, ``kernel[a, b, c, o] == torch_weight[c, o, a, b]``, with no spatial flip.

Why "transposed": ``F``-then-crop is the adjoint (the gradient) of the forward convolution
(PyTorch ``Conv2d``, i.e. a cross-correlation) of an output-sized image ``z`` with the same kernel,
padded by ``lo`` at the start (and ``hi - output_padding`` at the end):

    y[i, j, c] = sum_{a, b, o} z_pad[i*sh + a, j*sw + b, o] * kernel[a, b, c, o]

(with ``z_pad[t] = z[t - lo]``)

Written as a matrix ``C`` on the flattened images (``vec(y) = C vec(z)``), the transposed
convolution is ``vec(out) = C^T vec(x)``; hence ``<conv(z), x> == <z, conv_transpose(x)>``.

Padding (per spatial axis, ``k`` the kernel size, ``s`` the stride, ``op`` the output padding):

* integer ``p`` (PyTorch): crop ``(p, p)``; output ``(in-1)*s - 2p + k + op``.
* ``((lo, hi), (lo, hi))``: explicit crops of the full output (rows, then columns); output
  ``(in-1)*s + k - lo - hi + op``.
* ``'VALID'``: crop ``(0, 0)``; output ``(in-1)*s + k + op``. (flax/lax agree for ``k >= s``;
  for ``k < s`` they output ``(in-1)*s + s``, i.e. ``s - k`` more zero rows at the end.)
* ``'SAME'`` (flax/lax, also TensorFlow's ``conv2d_transpose``): output ``in*s + op``, with
  ``lo = max(k-s, 0) // 2`` and ``hi = (k - s) - lo`` (negative -- zero padding -- when ``s > k``).

``output_padding`` (``0 <= op < s``) appends ``op`` rows/columns at the end, i.e. the end crop
becomes ``hi - op``: those positions are still taken from ``F`` where it extends that far, and are
zero beyond it, exactly as in PyTorch (which uses it to pick one of the ``s`` input sizes that a
strided ``Conv2d`` maps to the same output size).

Kernel flip relative to ``lax.conv_transpose`` / ``flax.linen.ConvTranspose``: their default
(``transpose_kernel=False``) *correlates* the zero-dilated input with the kernel, which is the
scatter form with the kernel flipped in space. So, for ``padding`` in ``{'SAME', 'VALID'}``,

    conv_transpose(x, k, s, padding) == lax.conv_transpose(
        x, k[::-1, ::-1], (s, s), padding, dimension_numbers=('NHWC', 'HWIO', 'NHWC'))

(``flax.linen.ConvTranspose`` likewise needs ``kernel[::-1, ::-1]``; equivalently
``lax.conv_transpose(..., k.swapaxes(2, 3), ..., transpose_kernel=True)`` takes ours unflipped.)

The three implementations:

* ``conv_transpose_matrix`` -- the reference from first principles: the explicit matrix ``C`` of
  the forward convolution, then ``C^T`` times the flattened input. ``O((H W)(H' W') k^2)`` memory:
  small images only (tests).
* ``conv_transpose_xla`` -- XLA's own: a stride-1 correlation of the zero-dilated input
  (``lhs_dilation``) with the flipped kernel. Simple, but on CPU it multiplies the ``s^2 - 1`` of
  every ``s^2`` inserted zeros and runs ~10x below matmul speed.
* ``conv_transpose_subpixel`` -- the fast form: the phase (sub-pixel) decomposition. Output row
  ``m = q*s + r`` only receives kernel rows ``a = r + s*j``; so each of the ``s^2`` output phases
  is a stride-1 correlation of the *undilated* input with a ``ceil(k/s)``-tap slice of the
  kernel, done as a GEMM on a small im2col of ``x`` (all phases in one batched GEMM,
  ``gan_jax.ops.gemm.batched_gemm``); depth-to-space interleaves the phases and a slice crops. No
  multiplications by inserted zeros. Plain jax ops throughout: forward and reverse mode.
"""

from typing import Sequence, Tuple, Union

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from gan_jax.errors import GanJaxError
from gan_jax.ops.gemm import batched_gemm
from gan_jax.ops.gemm_conv import conv_transpose4x4_gemm
from gan_jax.ops.winograd import conv_transpose4x4

Array = jax.Array
IntPair = Union[int, Sequence[int]]
Padding = Union[str, int, Sequence[int], Sequence[Sequence[int]]]

IMPLS = ("subpixel", "xla", "matrix")           # general: any kernel, stride, padding
ALL_IMPLS = IMPLS + ("winograd", "gemm")        # + DCGAN's 4x4 / stride 2 / padding 1 layer only
_DN = ("NHWC", "HWIO", "NHWC")


# --------------------------------------------------------------------------------------------
# Argument handling.


def _pair(value, name: str) -> Tuple[int, int]:
    """An int or a length-2 sequence of ints as a tuple of two Python ints."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value), int(value)
    try:
        seq = tuple(value)
    except TypeError:
        raise GanJaxError(f"{name} must be an int or a pair of ints, got {value!r}.") from None
    if len(seq) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                for v in seq):
        raise GanJaxError(f"{name} must be an int or a pair of ints, got {value!r}.")
    return int(seq[0]), int(seq[1])


def transpose_crops(kernel_hw: Tuple[int, int], stride: Tuple[int, int],
                    padding: Padding) -> Tuple[Tuple[int, int], Tuple[int, int]]:
    """The ``(lo, hi)`` crops of the full scatter output per spatial axis (before output_padding).

    See the module docstring for the meaning of each padding form; a negative crop zero-pads.
    """
    if isinstance(padding, str):
        mode = padding.upper()
        if mode == "VALID":
            return (0, 0), (0, 0)
        if mode == "SAME":
            crops = []
            for k, s in zip(kernel_hw, stride):
                lo = max(k - s, 0) // 2
                crops.append((lo, (k - s) - lo))
            return tuple(crops)
        raise GanJaxError(f"padding must be 'SAME', 'VALID', an int, a pair of ints or "
                          f"((lo, hi), (lo, hi)); got the string {padding!r}.")
    if isinstance(padding, (int, np.integer)) and not isinstance(padding, bool):
        if padding < 0:
            raise GanJaxError(f"integer padding must be >= 0 (PyTorch semantics), got {padding}. "
                              "Use explicit ((lo, hi), (lo, hi)) pairs for negative crops.")
        return (int(padding), int(padding)), (int(padding), int(padding))
    try:
        seq = tuple(padding)
    except TypeError:
        raise GanJaxError(f"padding must be 'SAME', 'VALID', an int, a pair of ints or "
                          f"((lo, hi), (lo, hi)); got {padding!r}.") from None
    if len(seq) == 2 and all(isinstance(p, (int, np.integer)) for p in seq):
        ph, pw = _pair(seq, "padding")
        if ph < 0 or pw < 0:
            raise GanJaxError(f"integer padding must be >= 0 (PyTorch semantics), got {padding}.")
        return (ph, ph), (pw, pw)
    if len(seq) == 2:
        return _pair(seq[0], "padding[0] (lo, hi)"), _pair(seq[1], "padding[1] (lo, hi)")
    raise GanJaxError(f"padding must be 'SAME', 'VALID', an int, a pair of ints or "
                      f"((lo, hi), (lo, hi)); got {padding!r}.")


def _check(x, kernel, stride, padding, output_padding):
    """Validate the arguments; return (stride, crops with output_padding folded in, out_hw)."""
    if getattr(x, "ndim", None) != 4:
        raise GanJaxError(f"x must be NHWC (rank 4), got shape {getattr(x, 'shape', None)}.")
    if getattr(kernel, "ndim", None) != 4:
        raise GanJaxError(f"kernel must be HWIO [kh, kw, c_in, c_out] (rank 4), got shape "
                          f"{getattr(kernel, 'shape', None)}. A PyTorch ConvTranspose2d weight "
                          "[c_in, c_out, kh, kw] converts with w.transpose(2, 3, 0, 1).")
    if x.shape[-1] != kernel.shape[2]:
        raise GanJaxError(f"channel mismatch: x has {x.shape[-1]} channels but the kernel "
                          f"{tuple(kernel.shape)} expects c_in = kernel.shape[2] = "
                          f"{kernel.shape[2]} (layout [kh, kw, c_in, c_out]).")
    s = _pair(stride, "stride")
    if min(s) < 1:
        raise GanJaxError(f"stride must be >= 1, got {stride!r}.")
    op = _pair(output_padding, "output_padding")
    for o, si in zip(op, s):
        if not 0 <= o < si:
            raise GanJaxError(f"output_padding must satisfy 0 <= output_padding < stride "
                              f"(as in PyTorch); got output_padding={output_padding!r}, "
                              f"stride={stride!r}.")
    k = tuple(int(v) for v in kernel.shape[:2])
    if min(k) < 1:
        raise GanJaxError(f"kernel spatial size must be >= 1, got {tuple(kernel.shape)}.")
    crops = transpose_crops(k, s, padding)
    crops = tuple((lo, hi - o) for (lo, hi), o in zip(crops, op))
    out_hw = tuple((n - 1) * si + ki - lo - hi
                   for n, si, ki, (lo, hi) in zip(x.shape[1:3], s, k, crops))
    if min(out_hw) < 1:
        raise GanJaxError(f"the padding {padding!r} crops everything: output size {out_hw} for "
                          f"input {tuple(x.shape[1:3])}, kernel {k}, stride {s}.")
    return s, crops, out_hw


# --------------------------------------------------------------------------------------------
# 1. Matrix form (reference).


def _tap_matrices(in_hw, kernel_hw, stride, crops):
    """0/1 tensor ``E[a, b, p, q]``: forward-conv output ``p`` reads pixel ``q`` by tap (a, b).

    The forward convolution (cross-correlation) of an ``in_hw`` image zero-padded by ``lo`` at
    the start and ``hi`` at the end has ``(in + lo + hi - k) // s + 1`` outputs per axis, and
    output ``i`` reads input ``t = i*s + a - lo`` with tap ``a`` (dropped when out of range). So
    ``C = sum_{a,b} kernel[a, b] E[a, b]``. Built with numpy: static, shape-only.
    """
    outs = [(n + lo + hi - k) // s + 1
            for n, k, s, (lo, hi) in zip(in_hw, kernel_hw, stride, crops)]
    if min(outs) < 1:
        raise GanJaxError(f"conv_matrix: padding {crops} gives no output for input {in_hw} "
                          f"and kernel {kernel_hw}.")
    (ho, wo), (hi_, wi) = outs, in_hw
    e = np.zeros((kernel_hw[0], kernel_hw[1], ho * wo, hi_ * wi), np.float32)
    for a in range(kernel_hw[0]):
        for b in range(kernel_hw[1]):
            for i in range(ho):
                t = i * stride[0] + a - crops[0][0]
                if not 0 <= t < hi_:
                    continue
                for j in range(wo):
                    u = j * stride[1] + b - crops[1][0]
                    if 0 <= u < wi:
                        e[a, b, i * wo + j, t * wi + u] = 1.0
    return e, (ho, wo)


def conv_matrix(in_hw: Tuple[int, int], kernel_2d: Array, stride: IntPair = 1,
                padding: Padding = 0) -> Array:
    """The matrix ``C`` of a single-channel forward convolution (PyTorch ``Conv2d``, no flip).

    ``vec(y) = C @ vec(z)`` with ``y[i, j] = sum_{a,b} z_pad[i*s + a, j*s + b] * kernel_2d[a, b]``
    and row-major ``vec``. ``C`` has shape ``[H_out*W_out, H_in*W_in]`` (4x16 for a 4x4 image and
    a 3x3 kernel, stride 1, no padding). ``padding`` is an int / pair (symmetric zero padding) or
    ``((lo, hi), (lo, hi))``. Differentiable in ``kernel_2d``; small sizes only (dense matrix).
    """
    kernel_2d = jnp.asarray(kernel_2d)
    if kernel_2d.ndim != 2:
        raise GanJaxError(f"conv_matrix takes a 2-D kernel, got shape {kernel_2d.shape}.")
    s = _pair(stride, "stride")
    if isinstance(padding, str):
        raise GanJaxError("conv_matrix takes an int, a pair or ((lo, hi), (lo, hi)) padding.")
    crops = transpose_crops(kernel_2d.shape, s, padding)
    e, _ = _tap_matrices(_pair(tuple(in_hw), "in_hw"), kernel_2d.shape, s, crops)
    return jnp.einsum("abpq,ab->pq", e, kernel_2d)


def conv_transpose_matrix(x: Array, kernel: Array, stride: IntPair = 1, padding: Padding = 0,
                          output_padding: IntPair = 0) -> Array:
    """Reference transposed convolution ``vec(out) = C^T vec(x)``, per channel pair.

    ``C`` is the forward convolution (``conv_matrix``) on an output-sized image padded by
    ``(lo, hi - output_padding)``, which maps it back to the input size. With channels,
    ``out[n, q, o] = sum_{p, c} x[n, p, c] C_{c,o}[p, q]``. Memory is
    ``kh*kw*(H*W)*(H_out*W_out)`` floats: for tests on small images only.
    """
    s, crops, out_hw = _check(x, kernel, stride, padding, output_padding)
    e, fwd_hw = _tap_matrices(out_hw, kernel.shape[:2], s, crops)
    assert fwd_hw == tuple(x.shape[1:3]), (fwd_hw, x.shape)
    c = jnp.einsum("abpq,abio->piqo", e, kernel)            # C^T blocks, [P, C_in, Q, C_out]
    n = x.shape[0]
    out = jnp.einsum("npi,piqo->nqo", x.reshape(n, -1, x.shape[-1]), c,
                     precision=lax.Precision.HIGHEST)
    return out.reshape(n, out_hw[0], out_hw[1], kernel.shape[-1])


# --------------------------------------------------------------------------------------------
# 2. XLA form.


def conv_transpose_xla(x: Array, kernel: Array, stride: IntPair = 1, padding: Padding = 0,
                       output_padding: IntPair = 0) -> Array:
    """Correlation of the zero-dilated input with the spatially flipped kernel.

    Dilating ``x`` by ``s`` (``lhs_dilation``) and padding by ``k-1`` on both sides makes the
    correlation with ``kernel[::-1, ::-1]`` equal the full scatter output ``F``; padding
    ``(k-1-lo, k-1-hi)`` instead applies the crops (negative padding crops further).
    """
    s, crops, _ = _check(x, kernel, stride, padding, output_padding)
    k = kernel.shape[:2]
    pads = [(ki - 1 - lo, ki - 1 - hi) for ki, (lo, hi) in zip(k, crops)]
    return lax.conv_general_dilated(x, kernel[::-1, ::-1], window_strides=(1, 1), padding=pads,
                                    lhs_dilation=s, dimension_numbers=_DN)


# --------------------------------------------------------------------------------------------
# 3. Sub-pixel (phase) form.


def _phase_plan(n: int, k: int, s: int, lo: int, out: int):
    """Per output phase ``rho`` of one axis: the kernel taps and input offsets it needs.

    Output index ``t = u*s + rho`` is full-output row ``m = t + lo = q*s + r`` with
    ``r = (rho + lo) mod s`` and ``q = u + delta``, ``delta = (rho + lo) // s``. Row ``m`` only
    receives kernel rows ``a = r + s*j`` (``j < ceil((k - r)/s)``, none when ``r >= k``), from
    input row ``q - j = u + delta - j``. Returns ``U = ceil(out/s)`` (rows per phase, the last
    phases cropped later), the pads ``(left, right)`` of ``x`` that keep every read in range,
    and per phase a list of ``(tap a, start row in the padded x)``.
    """
    u = -(-out // s)
    phases = []
    for rho in range(s):
        r, delta = (rho + lo) % s, (rho + lo) // s
        phases.append([(r + s * j, delta - j) for j in range(max(0, -(-(k - r) // s)))])
    starts = [st for taps in phases for _, st in taps] or [0]
    left = max(0, -min(starts))
    right = max(0, max(starts) + u - n)
    phases = [[(a, st + left) for a, st in taps] for taps in phases]
    return u, (left, right), phases


def conv_transpose_subpixel(x: Array, kernel: Array, stride: IntPair = 1, padding: Padding = 0,
                            output_padding: IntPair = 0) -> Array:
    """Phase (sub-pixel) decomposition: a batched GEMM over the phases, then depth-to-space.

    Write each output index as ``t = u*s + rho``. Output phase ``(rho_h, rho_w)`` is a stride-1
    correlation of the *undilated* input with the kernel's phase slice
    ``kernel[r_h::s_h, r_w::s_w]`` (``ceil((k - r)/s)`` taps per axis; see ``_phase_plan``):

        out[u*s + rho] = sum_j x[u + delta - j] kernel[r + s*j]          (per axis, summed over c)

    Each phase is a GEMM ``[N*U_h*U_w, T_h*T_w*C_in] @ [T_h*T_w*C_in, C_out]`` on the concatenated
    shifted views of ``x`` (an im2col over the phase's few taps); the ``s_h*s_w`` phases form one
    batched GEMM. When ``k`` is a multiple of ``s`` (DCGAN's 4x4 kernels at stride 2) this does
    exactly the definition's ``kh*kw*C_in*C_out`` multiply-adds per input pixel; otherwise the
    phases with fewer taps are padded with zero taps to the common count ``T = ceil(k/s)``.
    Only output rows that survive the crop are computed (up to ``U*s - H_out`` in the last
    phases). The phases are interleaved (depth-to-space) and cropped to ``H_out x W_out``.
    Gradients are GEMMs plus shifted adds, which XLA:CPU runs near its matmul peak, unlike its
    lhs-dilated convolution's backward.
    """
    s, crops, out_hw = _check(x, kernel, stride, padding, output_padding)
    kh, kw, ci, co = kernel.shape
    nb, h, w = x.shape[:3]
    uh, (lh, rh), plan_h = _phase_plan(h, kh, s[0], crops[0][0], out_hw[0])
    uw, (lw, rw), plan_w = _phase_plan(w, kw, s[1], crops[1][0], out_hw[1])
    xp = jnp.pad(x, ((0, 0), (lh, rh), (lw, rw), (0, 0)))
    # Every phase gets the same number of taps (the most any phase has); a phase with fewer
    # (k not a multiple of s) gets zero weights on an arbitrary in-range view.
    th, tw = max(len(t) for t in plan_h), max(len(t) for t in plan_w)
    any_h = next(st for taps in plan_h for _, st in taps)       # an in-range start (k >= 1)
    any_w = next(st for taps in plan_w for _, st in taps)
    kpad = jnp.pad(kernel, ((0, 1), (0, 1), (0, 0), (0, 0)))    # row/column kh, kw: zero taps
    patches, weights = [], []
    for taps_h in plan_h:
        taps_h = taps_h + [(kh, any_h)] * (th - len(taps_h))
        for taps_w in plan_w:
            taps_w = taps_w + [(kw, any_w)] * (tw - len(taps_w))
            views = [xp[:, sa:sa + uh, sb:sb + uw, :] for _, sa in taps_h for _, sb in taps_w]
            patches.append(jnp.concatenate(views, axis=-1).reshape(nb * uh * uw, -1))
            weights.append(kpad[np.array([a for a, _ in taps_h])[:, None],
                                np.array([b for b, _ in taps_w])[None, :]].reshape(-1, co))
    g = batched_gemm(jnp.stack(patches), jnp.stack(weights))    # [s_h*s_w, N*U_h*U_w, C_out]
    g = g.transpose(1, 0, 2).reshape(nb, uh, uw, s[0], s[1], co)
    g = g.transpose(0, 1, 3, 2, 4, 5).reshape(nb, uh * s[0], uw * s[1], co)
    return g[:, :out_hw[0], :out_hw[1], :]


# --------------------------------------------------------------------------------------------
# Dispatch.

_IMPL_FNS = {
    "subpixel": conv_transpose_subpixel,
    "xla": conv_transpose_xla,
    "matrix": conv_transpose_matrix,
}


def conv_transpose(x: Array, kernel: Array, stride: IntPair = 1, padding: Padding = 0,
                   output_padding: IntPair = 0, impl: str = "subpixel") -> Array:
    """2-D transposed convolution with PyTorch ``ConvTranspose2d`` semantics (see module docstring).

    Args:
      x: ``[N, H, W, C_in]``.
      kernel: ``[kh, kw, C_in, C_out]``, used unflipped (``torch_weight.transpose(2, 3, 0, 1)``).
      stride: int or ``(sh, sw)``.
      padding: int or ``(ph, pw)`` (PyTorch), ``'SAME'`` / ``'VALID'`` (flax), or explicit
        ``((lo, hi), (lo, hi))`` crops of the full ``(in-1)*s + k`` output.
      output_padding: int or pair, ``0 <= op < stride``: extra rows/columns at the end.
      impl: ``'subpixel'`` (default), ``'xla'`` (lhs-dilated convolution), ``'matrix'``
        (explicit-matrix reference, small sizes only), and for DCGAN's 4x4 / stride 2 /
        padding 1 layer only: ``'winograd'`` (F(2x2, 2x2) per sub-pixel phase,
        ``gan_jax.ops.winograd``) or ``'gemm'`` (one GEMM then overlap-add, for few output
        channels, ``gan_jax.ops.gemm_conv``).

    Returns:
      ``[N, H_out, W_out, C_out]`` with ``H_out = (H-1)*sh + kh - lo - hi + op``.
    """
    if impl in ("winograd", "gemm"):
        if (kernel.shape[:2] != (4, 4) or _pair(stride, "stride") != (2, 2)
                or padding not in (1, (1, 1), ((1, 1), (1, 1)))
                or _pair(output_padding, "output_padding") != (0, 0)):
            raise GanJaxError(
                f"conv_transpose impl {impl!r} covers DCGAN's layer only (4x4 kernel, stride 2, "
                f"padding 1, no output padding), got kernel {tuple(kernel.shape[:2])}, stride "
                f"{stride}, padding {padding}, output_padding {output_padding}; use 'subpixel'.")
        _check(x, kernel, stride, padding, output_padding)
        return (conv_transpose4x4 if impl == "winograd" else conv_transpose4x4_gemm)(x, kernel)
    if impl not in _IMPL_FNS:
        raise GanJaxError(f"unknown conv_transpose impl {impl!r}; choose one of {ALL_IMPLS}.")
    return _IMPL_FNS[impl](x, kernel, stride, padding, output_padding)
