"""DCGAN's 4x4 / stride 2 / padding 1 layers as one plain GEMM each, for layers with few channels.

At G's output (C_out = 1 or 3) and D's input (C_in = 1 or 3) the Winograd and sub-pixel forms
write many times more transformed data than the layer has, and XLA's own convolution has a slow
kernel gradient there (measured on 2 CPU cores: G's 64 -> 1 layer took 230 ms forward+backward
in the Winograd form, 11 ms in XLA's and 16 ms in PyTorch). Here the GEMM touches the thin side
only through a small im2col:

- transposed convolution, GEMM first (the scatter form of conv_transpose.py):
  ``Y[n, i, j, (a, b, o)] = sum_c x[n, i, j, c] k[a, b, c, o]``, then the 16 taps are added into
  the full output at rows ``2i + a``, columns ``2j + b`` (overlap-add, 4 shifted adds per output
  phase) and cropped by 1; ``Y`` has 16 * C_out values per input pixel.
- strided convolution, im2col first: the 16 taps of each output pixel's 4x4 window (16 * C_in
  values) times the kernel ``[16 * C_in, C_out]``.

Their gradients (autodiff) are GEMMs plus the transposed shifts/gathers, on the same thin data.
"""
import jax.numpy as jnp


def conv_transpose4x4_gemm(x, kernel):
    """``ConvTranspose2d(C, O, 4, 2, 1)`` semantics (kernel HWIO, unflipped):
    ``[N, H, W, C] -> [N, 2H, 2W, O]``, as one GEMM then an overlap-add."""
    n, h, w, c = x.shape
    o = kernel.shape[-1]
    y = jnp.dot(x.reshape(n * h * w, c), kernel.transpose(2, 0, 1, 3).reshape(c, 16 * o))
    y = y.reshape(n, h, w, 2, 2, 2, 2, o)          # taps a = 2p + r (rows), b = 2q + t (cols)
    # Full output row 2(i + p) + r: phase r at row i + p collects tap (p, r) from input row i.
    phases = []
    for r in range(2):
        row = []
        for t in range(2):
            acc = 0.0
            for p in range(2):
                for q in range(2):
                    acc = acc + jnp.pad(y[:, :, :, p, r, q, t],
                                        ((0, 0), (p, 1 - p), (q, 1 - q), (0, 0)))
            row.append(acc)                        # [N, H + 1, W + 1, O]
        phases.append(jnp.stack(row, axis=3))      # [N, H + 1, W + 1, 2 (t), O]
    full = jnp.stack(phases, axis=2)               # [N, H + 1, 2 (r), W + 1, 2 (t), O]
    full = full.reshape(n, 2 * h + 2, 2 * w + 2, o)
    return full[:, 1:2 * h + 1, 1:2 * w + 1]


def strided_conv4x4_gemm(x, kernel):
    """``Conv2d(C, O, 4, 2, 1)`` (cross-correlation, HWIO): ``[N, H, W, C] -> [N, H/2, W/2, O]``
    for even H, W, as an im2col of the 4x4 windows and one GEMM."""
    n, h, w, c = x.shape
    o = kernel.shape[-1]
    ho, wo = h // 2, w // 2
    xp = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    taps = [xp[:, a:a + 2 * ho:2, b:b + 2 * wo:2] for a in range(4) for b in range(4)]
    patches = jnp.stack(taps, axis=3).reshape(n * ho * wo, 16 * c)    # (a, b, c) order
    y = jnp.dot(patches, kernel.reshape(16 * c, o))
    return y.reshape(n, ho, wo, o)
