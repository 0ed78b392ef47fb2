"""Winograd minimal filtering F(2x2, 3x3): stride-1 3x3 correlations with 16 multiplies per 2x2
output tile, not 36.

The CycleGAN ResNet's residual blocks are reflect-pad-1 + 3x3 stride-1 convolutions, 256 -> 256
channels at 32x32 (12 per generator, 72 per training step). XLA:CPU's convolution is slow there,
and slower still at batch > 1. Measured on 2 CPU cores shared with other jobs (load average
6-7), forward+backward of one such layer with its padding (experiments/profile_cyclegan_layers.py,
medians): batch 1, this form 24 ms, XLA 50 ms, PyTorch 43 ms; batch 4, this form 135 ms, XLA
511 ms, PyTorch 170 ms. The same form with its tiles cut by stride-2 slices (the profile's
`wino23`) took 41 and 159 ms; in one process, interleaved: batch 1, 34 / 54 / 70 ms (this form /
stride-2 slices / XLA), batch 4, 138 / 149 / 385 ms.

One axis of F(2, 3) (Lavin & Gray 2016): two outputs of a 3-tap correlation from four inputs,
  y0 = d0 g0 + d1 g1 + d2 g2 = m0 + m1 + m2,   y1 = d1 g0 + d2 g1 + d3 g2 = m1 - m2 - m3,
  m0 = (d0 - d2) g0,   m1 = (d1 + d2) (g0 + g1 + g2) / 2,
  m2 = (d2 - d1) (g0 - g1 + g2) / 2,   m3 = (d1 - d3) g2,
i.e. the input transform B^T d, the filter transform G g and the output transform A^T m with
  B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
  G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]],
  A^T = [[1, 1, 1, 0], [0, 1, -1, -1]].
Nested over both axes: 4x4 = 16 products per 2x2 output tile instead of 36 (2.25x fewer
multiplies), each product a GEMM over channels: ``[16, tiles, C_in] @ [16, C_in, C_out]``. The
input tiles are 4x4 at stride 2, taken as in `gan_jax.ops.winograd` from one even/odd split of
the rows and columns (a reshape and `lax.split`: no gathers, and a transpose that is a
concatenate; XLA:CPU ran stride-2 slices and their transposes slower, above). The transforms are
additions and halvings (no error growth beyond a few ulps), and their gradients are the
transposed transforms, so autodiff gives a backward pass that is itself 2 x 16 GEMMs in the
Winograd domain.
"""
import jax.numpy as jnp
from jax import lax

from gan_jax.ops.gemm import batched_gemm
from gan_jax.ops.winograd import _even_odd, _parts


def _input_transform(x, axis: int, tiles: int):
    """B^T d of the 4-wide tiles at stride 2 along ``axis`` -> 4 arrays (d0 - d2, d1 + d2,
    d2 - d1, d1 - d3)."""
    d0, d1, d2, d3 = _even_odd(x, axis, tiles)
    return d0 - d2, d1 + d2, d2 - d1, d1 - d3


def _filter_transform(w, axis: int):
    """G g along ``axis`` (size 3) -> stacked on that axis (size 4)."""
    g0, g1, g2 = _parts(w, axis)
    s = 0.5 * (g0 + g2)
    h = 0.5 * g1
    return jnp.stack([g0, s + h, s - h, g2], axis=axis)


def transformed_tiles(xp, th: int, tw: int):
    """Padded input ``[N, >= 2*Th + 2 rows, >= 2*Tw + 2 columns, C]`` (zeros added at the end if
    shorter) -> ``[16, N*Th*Tw, C]``, the Winograd points row-major."""
    n, c = xp.shape[0], xp.shape[-1]
    out = []
    for r in _input_transform(xp, 1, th):
        out.extend(_input_transform(r, 2, tw))
    return jnp.stack(out).reshape(16, n * th * tw, c)


def transformed_filter(w):
    """3x3 kernel ``[3, 3, C_in, C_out]`` -> ``[16, C_in, C_out]``."""
    u = _filter_transform(_filter_transform(w, 0), 1)
    return u.reshape(16, w.shape[2], w.shape[3])


def _output_transform(parts):
    """A^T m of 4 arrays -> (m0 + m1 + m2, m1 - m2 - m3)."""
    m0, m1, m2, m3 = parts
    return m0 + m1 + m2, m1 - m2 - m3


def output_tiles(m, n: int, th: int, tw: int):
    """``[16, N*Th*Tw, C_out]`` GEMM products -> ``[N, 2*Th, 2*Tw, C_out]``."""
    rows = _output_transform(_parts(m.reshape(4, 4, n, th, tw, m.shape[-1]), 0))
    out = []
    for r in rows:                                                      # [4, N, Th, Tw, O]
        out.append(jnp.stack(_output_transform(_parts(r, 0)), axis=-2))  # [N, Th, Tw, 2, O]
    out = jnp.stack(out, axis=2)                                        # [N, Th, 2, Tw, 2, O]
    return out.reshape(n, 2 * th, 2 * tw, out.shape[-1])


def conv3x3(xp, w):
    """Stride-1 VALID correlation of the padded ``xp [N, H+2, W+2, C]`` with ``w [3, 3, C, O]``
    (NHWC, HWIO; ``lax.conv_general_dilated(xp, w, (1, 1), 'VALID')``):
    ``out[n, i, j, o] = sum_{a, b, c} xp[n, i + a, j + b, c] w[a, b, c, o]``, ``[N, H, W, O]``,
    by F(2x2, 3x3). Odd H or W: the input gets a zero row/column at the end and the output is
    cropped."""
    n, h, w_out = xp.shape[0], xp.shape[1] - 2, xp.shape[2] - 2
    if h < 1 or w_out < 1 or w.shape[:2] != (3, 3):
        raise ValueError(f"conv3x3 takes a padded input [N, H+2, W+2, C] (H, W >= 1) and a 3x3 "
                         f"kernel, got {xp.shape} and {w.shape}")
    th, tw = -(-h // 2), -(-w_out // 2)
    m = batched_gemm(transformed_tiles(xp, th, tw), transformed_filter(w.astype(xp.dtype)))
    y = output_tiles(m, n, th, tw)
    return y if (2 * th, 2 * tw) == (h, w_out) else lax.slice(y, (0, 0, 0, 0), (n, h, w_out,
                                                                                 y.shape[-1]))
