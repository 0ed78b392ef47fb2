"""Winograd minimal filtering F(2x2, 2x2): stride-1 2x2 correlations with 9 multiplies, not 16.

DCGAN's layers are 4x4 kernels at stride 2, and both kinds reduce to 2x2 stride-1 correlations:
- the strided convolution (D): pad by 1, space-to-depth by 2, then a 2x2 correlation over 4*C
  channels with the kernel regrouped as ``K'[i, j, (p, q, c)] = k[2i + p, 2j + q, c]``;
- the transposed convolution (G): each of the 4 output phases of the sub-pixel decomposition is a
  2x2 correlation of the padded input with a 2x2 slice of the kernel (see conv_transpose.py).

One axis of F(2, 2) (Lavin & Gray 2016): two outputs of a 2-tap correlation from three inputs,
  y0 = d0 g0 + d1 g1 = m0 + m1,   y1 = d1 g0 + d2 g1 = m1 + m2,
  m0 = (d0 - d1) g0,   m1 = d1 (g0 + g1),   m2 = (d2 - d1) g1,
i.e. input transform (d0 - d1, d1, d2 - d1), filter transform (g0, g0 + g1, g1), output transform
(m0 + m1, m1 + m2). Nested over both axes: 3x3 = 9 products per 2x2 output tile instead of 16,
each product a GEMM over channels: ``[9, tiles, C_in] @ [9, C_in, C_out]``. The transforms are
adds and subtractions only (exact up to float rounding, no growth of the error beyond ~2x), and
their gradients are the transposed transforms, so autodiff gives a backward pass that is itself
a 9-GEMM Winograd computation. The model's FLOP count (what a direct convolution needs) is
unchanged; the arithmetic done is 9/16 of it in the GEMMs.
"""
import jax.numpy as jnp

from gan_jax.ops.conv_transpose import _batched_gemm


def _input_transform(x, axis: int, tiles: int):
    """(d0 - d1, d1, d2 - d1) of the 3-wide tiles at stride 2 along ``axis`` -> 3 arrays."""
    def rows(start):
        index = [slice(None)] * x.ndim
        index[axis] = slice(start, start + 2 * tiles, 2)
        return x[tuple(index)]
    d0, d1, d2 = rows(0), rows(1), rows(2)
    return d0 - d1, d1, d2 - d1


def _filter_transform(w, axis: int):
    """(g0, g0 + g1, g1) along ``axis`` (size 2) -> stacked on that axis (size 3)."""
    g0, g1 = jnp.take(w, 0, axis=axis), jnp.take(w, 1, axis=axis)
    return jnp.stack([g0, g0 + g1, g1], axis=axis)


def transformed_tiles(xp):
    """Padded input ``[N, 2*Th + 1, 2*Tw + 1, C]`` -> ``[9, N*Th*Tw, C]``, points row-major."""
    n, hp, wp, c = xp.shape
    th, tw = (hp - 1) // 2, (wp - 1) // 2
    out = []
    for r in _input_transform(xp, 1, th):
        out.extend(_input_transform(r, 2, tw))
    return jnp.stack(out).reshape(9, n * th * tw, c)


def transformed_filter(w):
    """2x2 kernel ``[2, 2, C_in, C_out]`` -> ``[9, C_in, C_out]``."""
    u = _filter_transform(_filter_transform(w, 0), 1)
    return u.reshape(9, w.shape[2], w.shape[3])


def output_tiles(m, n: int, th: int, tw: int):
    """``[..., 9, N*Th*Tw, C_out]`` GEMM products -> ``[..., N, 2*Th, 2*Tw, C_out]``."""
    lead = m.shape[:-3]
    m = m.reshape(lead + (3, 3, n, th, tw, m.shape[-1]))
    a = len(lead)
    rows = (m.take(0, a) + m.take(1, a), m.take(1, a) + m.take(2, a))     # [..., 3, N, Th, Tw, O]
    out = jnp.stack([jnp.stack([r.take(0, a) + r.take(1, a), r.take(1, a) + r.take(2, a)],
                               axis=-2) for r in rows], axis=-4)          # [..., N, Th, 2, Tw, 2, O]
    return out.reshape(lead + (n, 2 * th, 2 * tw, m.shape[-1]))


def _even_pad(xp):
    """Pads one zero row/column at the end where the output side H = H_pad - 1 is odd."""
    ph, pw = (xp.shape[1] - 1) % 2, (xp.shape[2] - 1) % 2
    return jnp.pad(xp, ((0, 0), (0, ph), (0, pw), (0, 0))) if ph or pw else xp


def conv2x2(xp, w):
    """Stride-1 VALID correlation of ``xp [N, H+1, W+1, C]`` with ``w [2, 2, C, O]``:
    ``out[n, i, j, o] = sum_{a, b, c} xp[n, i + a, j + b, c] w[a, b, c, o]``, by F(2x2, 2x2)."""
    n, h, w_out = xp.shape[0], xp.shape[1] - 1, xp.shape[2] - 1
    xp = _even_pad(xp)
    th, tw = (xp.shape[1] - 1) // 2, (xp.shape[2] - 1) // 2
    m = _batched_gemm(transformed_tiles(xp), transformed_filter(w))
    return output_tiles(m, n, th, tw)[:, :h, :w_out]


def strided_conv4x4(x, kernel):
    """Convolution (cross-correlation) with a 4x4 kernel, stride 2, padding 1, as PyTorch's
    ``Conv2d(C, O, 4, 2, 1)`` and ``lax.conv_general_dilated(x, kernel, (2, 2), ((1, 1), (1, 1)))``
    (NHWC, HWIO): ``[N, H, W, C] -> [N, H/2, W/2, O]`` for even H, W. Space-to-depth turns it into
    a 2x2 correlation over 4*C channels, done by F(2x2, 2x2)."""
    n, h, w, c = x.shape
    o = kernel.shape[-1]
    xp = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    xp = xp.reshape(n, h // 2 + 1, 2, w // 2 + 1, 2, c).transpose(0, 1, 3, 2, 4, 5)
    xp = xp.reshape(n, h // 2 + 1, w // 2 + 1, 4 * c)
    k = kernel.reshape(2, 2, 2, 2, c, o).transpose(0, 2, 1, 3, 4, 5).reshape(2, 2, 4 * c, o)
    return conv2x2(xp, k)


# Sub-pixel phases of a 4x4 transposed convolution at stride 2, padding 1, per axis: output
# 2u + rho reads padded-input rows (u + start, u + start + 1) with kernel rows `taps`.
_PHASES = ((0, (3, 1)), (1, (2, 0)))


def conv_transpose4x4(x, kernel):
    """Transposed convolution with a 4x4 kernel, stride 2, padding 1, with PyTorch's
    ``ConvTranspose2d(C, O, 4, 2, 1)`` semantics (kernel HWIO, used unflipped, see
    conv_transpose.py): ``[N, H, W, C] -> [N, 2H, 2W, O]``. Each of the 4 output phases is a 2x2
    correlation of the padded input; all 4 x 9 Winograd products are one batched GEMM."""
    n, h, w, c = x.shape
    o = kernel.shape[-1]
    xp = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    tiles, filters = [], []
    for sh, taps_h in _PHASES:
        for sw, taps_w in _PHASES:
            tiles.append(transformed_tiles(_even_pad(xp[:, sh:sh + h + 1, sw:sw + w + 1])))
            filters.append(transformed_filter(kernel[jnp.array(taps_h)][:, jnp.array(taps_w)]))
    m = _batched_gemm(jnp.concatenate(tiles), jnp.concatenate(filters))   # [36, tiles, O]
    th, tw = (h + 1) // 2, (w + 1) // 2
    y = output_tiles(m.reshape(2, 2, 9, -1, o), n, th, tw)
    y = y[:, :, :, :h, :w]                                      # [rho_h, rho_w, N, H, W, O]
    return y.transpose(2, 3, 0, 4, 1, 5).reshape(n, 2 * h, 2 * w, o)
