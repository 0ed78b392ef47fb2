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
import numpy as np
from jax import lax

from gan_jax.ops.gemm import batched_gemm


def _parts(x, axis: int):
    """``x`` split into its slices along ``axis``, that axis dropped (transpose: a concatenate)."""
    return [lax.squeeze(a, (axis,)) for a in lax.split(x, (1,) * x.shape[axis], axis=axis)]


def _even_odd(x, axis: int, tiles: int):
    """Rows 2t, 2t+1, 2t+2, 2t+3 (t < tiles) along ``axis`` as four arrays (e0, o0, e1, o1).

    Taken from one even/odd split (a reshape and ``lax.split``) instead of stride-2 slices or
    gathers: XLA:CPU ran the strided form (and even more its transpose, in the backward pass)
    ~3x slower, and a gather's transpose is a scatter. ``x`` is padded with zeros at the end to
    2 * tiles + 2 rows if shorter.
    """
    need = 2 * tiles + 2
    if x.shape[axis] < need:
        pads = [(0, 0)] * x.ndim
        pads[axis] = (0, need - x.shape[axis])
        x = jnp.pad(x, pads)
    x = lax.slice_in_dim(x, 0, need, axis=axis)
    pairs = x.reshape(x.shape[:axis] + (tiles + 1, 2) + x.shape[axis + 1:])
    even, odd = _parts(pairs, axis + 1)
    rows = lambda a, start: lax.slice_in_dim(a, start, start + tiles, axis=axis)  # noqa: E731
    return rows(even, 0), rows(odd, 0), rows(even, 1), rows(odd, 1)


def _input_transform(x, axis: int, tiles: int):
    """(d0 - d1, d1, d2 - d1) of the 3-wide tiles at stride 2 along ``axis`` -> 3 arrays."""
    e0, o0, e1, _ = _even_odd(x, axis, tiles)
    return e0 - o0, o0, e1 - o0


def _filter_transform(w, axis: int):
    """(g0, g0 + g1, g1) along ``axis`` (size 2) -> stacked on that axis (size 3)."""
    g0, g1 = _parts(w, axis)
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
    """``[9, N*Th*Tw, C_out]`` GEMM products -> ``[N, 2*Th, 2*Tw, C_out]``."""
    m = _parts(m.reshape(3, 3, n, th, tw, m.shape[-1]), 0)
    rows = (m[0] + m[1], m[1] + m[2])                                     # [3, N, Th, Tw, O]
    out = []
    for r in rows:
        r = _parts(r, 0)
        out.append(jnp.stack([r[0] + r[1], r[1] + r[2]], axis=-2))       # [N, Th, Tw, 2, O]
    out = jnp.stack(out, axis=2)                                          # [N, Th, 2, Tw, 2, O]
    return out.reshape(n, 2 * th, 2 * tw, out.shape[-1])


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
    m = batched_gemm(transformed_tiles(xp), transformed_filter(w))
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


# The transposed convolution 4x4 / stride 2 / padding 1, per axis. Output row 2u + rho is a 2-tap
# correlation of the padded input xp (x shifted down by one): phase 0 reads xp rows (u, u+1) with
# kernel rows (3, 1), phase 1 reads rows (u+1, u+2) with kernel rows (2, 0). F(2, 2) over output
# tiles u in {2t, 2t+1}, with e0, o0, e1, o1 = xp rows 2t, 2t+1, 2t+2, 2t+3:
#   phase 0: inputs (e0 - o0, o0, e1 - o0), filters (k3, k3 + k1, k1)
#   phase 1: inputs (o0 - e1, e1, o1 - e1), filters (k2, k2 + k0, k0)
# o0 - e1 = -(e1 - o0): the phases share one transformed input, so one axis has 5 distinct
# points, not 6, and the plane 25, not 36 (less data to write and read; the sign goes into the
# filter). Per point: (phase, Winograd index m, kernel rows summed, sign).
_POINTS = (
    ((0, 0, (3,), 1.0),),
    ((0, 1, (3, 1), 1.0),),
    ((0, 2, (1,), 1.0), (1, 0, (2,), -1.0)),
    ((1, 1, (2, 0), 1.0),),
    ((1, 2, (0,), 1.0),),
)


def _five_points(x, axis: int, tiles: int):
    """The 5 transformed inputs of one axis (see _POINTS) from the padded input."""
    e0, o0, e1, o1 = _even_odd(x, axis, tiles)
    return e0 - o0, o0, e1 - o0, e1, o1 - e1


def _groups():
    """The 25 points grouped by how many products they feed (1, 2 or 4), and per group the
    constant ``[P, width, 16]`` coefficients of each product's filter over the 16 kernel taps
    (row-major ``4a + b``), with the product keys ``(rho_h, rho_w, m_h, m_w)`` in column order."""
    groups = {1: [], 2: [], 4: []}
    for i, row in enumerate(_POINTS):
        for j, col in enumerate(_POINTS):
            groups[len(row) * len(col)].append((i, j))
    out = []
    for width, members in groups.items():
        coef = np.zeros((len(members), width, 16), np.float32)
        keys = []
        for p, (i, j) in enumerate(members):
            slots = [(h, w) for h in _POINTS[i] for w in _POINTS[j]]
            keys.append([(h[0], w[0], h[1], w[1]) for h, w in slots])
            for k, ((_, _, taps_h, sign_h), (_, _, taps_w, sign_w)) in enumerate(slots):
                for a in taps_h:
                    for b in taps_w:
                        coef[p, k, 4 * a + b] = sign_h * sign_w
        out.append((members, coef, keys))
    return out


_GROUPS = _groups()


def conv_transpose4x4(x, kernel):
    """Transposed convolution with a 4x4 kernel, stride 2, padding 1, with PyTorch's
    ``ConvTranspose2d(C, O, 4, 2, 1)`` semantics (kernel HWIO, used unflipped, see
    conv_transpose.py): ``[N, H, W, C] -> [N, 2H, 2W, O]``.

    The 4 sub-pixel phases are 2x2 correlations, each by F(2x2, 2x2): 4 x 9 = 36 products per
    tile, from 25 distinct transformed inputs (the phases share some, see _POINTS). The products
    are 3 GEMMs, grouped by how many phases a point feeds: 16 points x 1, 8 points x 2 (their
    filters side by side), 1 point x 4.

    Written so that the backward pass has no pad-and-add chains (XLA:CPU evaluates every padded
    term for every element: 14 ms for one kernel gradient): the filters are one small GEMM of
    constant tap coefficients with the kernel (its transpose is a GEMM too), and the products
    are taken apart with ``lax.split`` (its transpose is one concatenate).
    """
    n, h, w, c = x.shape
    o = kernel.shape[-1]
    th, tw = -(-h // 2), -(-w // 2)
    xp = jnp.pad(x, ((0, 0), (1, 0), (1, 0), (0, 0)))      # the rest is padded by _even_odd
    points = [[q for q in _five_points(r, 2, tw)] for r in _five_points(xp, 1, th)]
    m_tiles = n * th * tw
    taps = kernel.reshape(16, c, o)
    m = {}                                    # (rho_h, rho_w, m_h, m_w) -> [N*Th*Tw, O]
    for members, coef, keys in _GROUPS:
        width = coef.shape[1]
        a = jnp.stack([points[i][j].reshape(m_tiles, c) for i, j in members])
        b = jnp.einsum("pkt,tco->pcko", coef.astype(kernel.dtype), taps,
                       precision=lax.Precision.HIGHEST)       # exact sums of taps on any backend
        prod = batched_gemm(a, b.reshape(len(members), c, width * o))   # [P, tiles, width*O]
        for p_prod, p_keys in zip(_parts(prod, 0), keys):
            for k_prod, key in zip(lax.split(p_prod, (o,) * width, axis=1), p_keys):
                m[key] = k_prod
    # Output transform (m0 + m1, m1 + m2) per axis, and the interleave: output row
    # 2 * (2t + i) + rho = 4t + (2i + rho).
    blocks = []
    for i in range(2):
        for ph in range(2):
            row = []
            for j in range(2):
                for pw in range(2):
                    y = sum(m[ph, pw, a, b] for a in (i, i + 1) for b in (j, j + 1))
                    row.append(y.reshape(n, th, tw, o))
            blocks.append(jnp.stack(row, axis=3))            # [N, Th, Tw, 4, O]
    y = jnp.stack(blocks, axis=2)                            # [N, Th, 4, Tw, 4, O]
    return y.reshape(n, 4 * th, 4 * tw, o)[:, :2 * h, :2 * w]
