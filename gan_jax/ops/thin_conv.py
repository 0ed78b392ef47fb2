"""Stride-1 k x k convolutions with few channels on one side, as one GEMM each.

The CycleGAN ResNet generator starts and ends with reflect-pad-3 + 7x7 convolutions at full
resolution: c7_in (3 -> 64) and c7_out (64 -> 3). XLA:CPU is slow on both, worst on c7_out.
Here the GEMM touches the thin side only through a small im2col (k*k * thin channels per pixel).
Measured on 2 CPU cores shared with other jobs (load average 6-7), forward+backward with the
reflection padding, 128x128 (experiments/profile_cyclegan_layers.py, medians):

- `conv_valid_im2col` (thin input, c7_in): the k*k shifted views of the padded input side by
  side, ``[N*H*W, k*k*C]`` (147 columns for 7x7 x 3), times the kernel ``[k*k*C, O]``. Autodiff
  gives the backward (the input gradient is a GEMM then the transposed views' pad-and-add, on
  C = 3 channels). c7_in: batch 1, 30 ms (XLA 75 ms, PyTorch 28 ms); batch 4, 158-179 ms (XLA
  385 ms, PyTorch 120 ms).
- `conv_valid_overlap_add` (thin output, c7_out): GEMM first, ``[N*Hp*Wp, C] @ [C, k*k*O]``
  (147 columns for 64 -> 7x7 x 3), then the k*k taps are added into the output at their
  offsets. Autodiff of that overlap-add pads and sums k*k full-size copies (94 ms at batch 1);
  the hand-written backward (a `jax.custom_vjp`) instead takes the output gradient's im2col
  ``dY [N*Hp*Wp, k*k*O]`` (thin: k*k*O values per pixel) and then two plain GEMMs,
  ``dX = dY @ K^T``, ``dK = X^T @ dY``. c7_out: batch 1, 26 ms (XLA 188 ms, PyTorch 35 ms);
  batch 4, 204 ms (XLA 679 ms, PyTorch 213 ms). The backward is plain jnp, so it is itself
  differentiable (second derivatives, tested).

Both take an already-padded input (NHWC, HWIO kernel), like ``lax.conv_general_dilated(xp, k,
(1, 1), 'VALID')``.
"""
import jax
import jax.numpy as jnp


def _sizes(xp, k):
    kh, kw, c, o = k.shape
    n, hp, wp, _ = xp.shape
    return n, hp, wp, c, kh, kw, hp - kh + 1, wp - kw + 1, o


def conv_valid_im2col(xp, k):
    """Stride-1 VALID correlation of ``xp [N, H+kh-1, W+kw-1, C]`` with ``k [kh, kw, C, O]``:
    the im2col ``[N*H*W, kh*kw*C]`` (tap-major, channels inner) and one GEMM."""
    n, _, _, c, kh, kw, h, w, o = _sizes(xp, k)
    views = [xp[:, a:a + h, b:b + w] for a in range(kh) for b in range(kw)]
    patches = jnp.concatenate(views, axis=-1).reshape(n * h * w, kh * kw * c)
    return jnp.dot(patches, k.astype(xp.dtype).reshape(kh * kw * c, o)).reshape(n, h, w, o)


def _overlap_add(xp, k):
    n, hp, wp, c, kh, kw, h, w, o = _sizes(xp, k)
    kmat = k.astype(xp.dtype).transpose(2, 0, 1, 3).reshape(c, kh * kw * o)
    y = jnp.dot(xp.reshape(n * hp * wp, c), kmat).reshape(n, hp, wp, kh, kw, o)
    out = None
    for a in range(kh):
        for b in range(kw):
            tap = y[:, a:a + h, b:b + w, a, b]
            out = tap if out is None else out + tap
    return out


@jax.custom_vjp
def conv_valid_overlap_add(xp, k):
    """Stride-1 VALID correlation of ``xp [N, H+kh-1, W+kw-1, C]`` with ``k [kh, kw, C, O]`` as
    one GEMM ``[N*Hp*Wp, C] @ [C, kh*kw*O]`` and an overlap-add of the kh*kw taps: output
    ``(i, j)`` gets tap ``(a, b)`` of input pixel ``(i + a, j + b)``. For few output channels;
    the backward is hand-written (module docstring)."""
    return _overlap_add(xp, k)


def _oa_fwd(xp, k):
    return _overlap_add(xp, k), (xp, k)


def _oa_bwd(res, g):
    xp, k = res
    n, hp, wp, c, kh, kw, _, _, o = _sizes(xp, k)
    g = g.astype(xp.dtype)
    gp = jnp.pad(g, ((0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1), (0, 0)))
    # dY[n, p, q, a, b, :] = g[n, p - a, q - b, :] (zero outside): the gradient of each tap.
    dy = jnp.stack([gp[:, kh - 1 - a:kh - 1 - a + hp, kw - 1 - b:kw - 1 - b + wp]
                    for a in range(kh) for b in range(kw)], axis=3)
    dy = dy.reshape(n * hp * wp, kh * kw * o)
    kmat = k.astype(xp.dtype).transpose(2, 0, 1, 3).reshape(c, kh * kw * o)
    dx = jnp.dot(dy, kmat.T).reshape(xp.shape)
    dk = jnp.dot(xp.reshape(n * hp * wp, c).T, dy).reshape(c, kh, kw, o).transpose(1, 2, 0, 3)
    return dx, dk.astype(k.dtype)


conv_valid_overlap_add.defvjp(_oa_fwd, _oa_bwd)


def conv_valid_gemm(xp, k):
    """The GEMM form for the thin side: im2col where the input has no more channels than the
    output, GEMM-first overlap-add otherwise."""
    return conv_valid_im2col(xp, k) if k.shape[2] <= k.shape[3] else conv_valid_overlap_add(xp, k)
