"""Which implementation of a convolution a layer uses.

`resolve_impl` picks per layer and backend for `impl='fast'`; `strided_conv4x4` and
`conv_transpose4x4` run the chosen form of the 4x4 / stride-2 (transposed) convolution, and
`conv_valid`, `strided_conv3x3` and `conv_transpose3x3` those of the CycleGAN ResNet's layers.
Networks (DCGAN, the U-Net and PatchGAN of Pix2Pix, the ResNet...) call these and never pick a
kernel themselves.

Measured on 2 CPU cores (experiments/bench_dcgan.py, experiments/profile_pix2pix_layers.py;
docs/design.md): 'gemm' (one GEMM plus an overlap-add or an im2col, `gemm_conv.py`) where one side
of the layer has at most THIN channels (G's output, D's input) or where the layer has at most
FEW_PIXELS pixels on its small side per device (the U-Net's inner layers: there the Winograd
form's nine transformed copies of a wide kernel cost more than the arithmetic they save; at batch
1 the 512 -> 512 layer at 2x2 -> 1x1 took 2.4 ms forward+backward as a GEMM, 39 ms in the Winograd
form, 58 ms in PyTorch), 'winograd' (F(2x2, 2x2) per sub-pixel phase, `winograd.py`) elsewhere.
On GPU/TPU: 'xla', the vendor convolutions (not measured here: no accelerator was lent).

The CycleGAN ResNet's layers (experiments/profile_cyclegan_layers.py: 2 CPU cores shared with
other jobs, load average 6-7; width 64, 128x128; ms per forward+backward of one layer at batch
1 / batch 4, this choice against XLA's convolution (the subpixel form for up) and PyTorch):
- stride-1 3x3 (the residual blocks, 256 -> 256 at 32x32, 72 per step): Winograd F(2x2, 3x3)
  (`winograd3x3.py`) where both sides have more than THIN channels: 24 / 135 against 50 / 511,
  PyTorch 43 / 170;
- stride-1 k x k with at most THIN channels on one side: one GEMM (`thin_conv.py`); c7_in
  (3 -> 64) 30 / 179 against 75 / 385, PyTorch 28 / 120; c7_out (64 -> 3) 26 / 204 against
  188 / 679, PyTorch 35 / 213;
- 3x3 / stride 2 / padding 1, and the transposed 3x3 / stride 2 / padding 1 / output padding 1:
  exactly the 4x4 layers with the kernel's last row and column zero, so the 4x4 forms above
  (the 3x3 kernel stays the parameter; it is padded at each call, and the pad's transpose drops
  the zero taps' gradients). up1 (256 -> 128) 32 / 166 against subpixel 78 / 337, PyTorch
  21 / 91; up2 (128 -> 64) 37 / 197 against 100 / 416, PyTorch 24 / 138. The down layers gain
  nothing: down1 29 / 183 against XLA's 33 / 154, down2 27 / 138 against 24 / 113 (PyTorch
  24 / 170 and 22 / 82).
Summed over G's convolutions per training step (6 x each layer): 2.8 s against 6.6 s before at
batch 1 (PyTorch 4.0 s), 16.1 s against 49.3 s at batch 4 (PyTorch 17.1 s).
"""
from typing import Optional

import jax
import jax.numpy as jnp

from gan_jax.errors import GanJaxError
from gan_jax.ops.conv_transpose import ALL_IMPLS, conv_transpose
from gan_jax.ops.gemm_conv import strided_conv4x4_gemm
from gan_jax.ops.thin_conv import conv_valid_gemm
from gan_jax.ops.winograd import strided_conv4x4 as strided_conv4x4_winograd
from gan_jax.ops.winograd3x3 import conv3x3 as conv3x3_winograd

CONV_IMPLS = ALL_IMPLS + ("fast",)
_DN = ("NHWC", "HWIO", "NHWC")
THIN = 4      # layers with at most this many channels on one side use the 'gemm' form
FEW_PIXELS = 512   # ... and layers whose small side has at most this many pixels (N * H * W)


def check_impl(impl: str) -> str:
    if impl not in CONV_IMPLS:
        raise GanJaxError(f"unknown conv_impl {impl!r}; choose one of {CONV_IMPLS}.")
    return impl


def resolve_impl(impl: str, c_in: int, c_out: int, pixels: Optional[int] = None) -> str:
    """The implementation one layer uses: ``impl`` itself, or for ``'fast'`` the fastest
    measured for the backend, the layer's widths and ``pixels``, the number of pixels (batch x
    height x width, per device) on the layer's small side: the output of a strided convolution,
    the input of a transposed one (see the module docstring)."""
    if check_impl(impl) != "fast":
        return impl
    if jax.default_backend() != "cpu":
        return "xla"
    if min(c_in, c_out) <= THIN or (pixels is not None and pixels <= FEW_PIXELS):
        return "gemm"
    return "winograd"


def conv_transpose4x4(x, kernel, impl: str = "fast"):
    """``ConvTranspose2d(C, O, 4, stride 2, padding 1)`` (HWIO kernel, unflipped):
    ``[N, H, W, C] -> [N, 2H, 2W, O]`` by the form ``resolve_impl`` picks."""
    impl = resolve_impl(impl, x.shape[-1], kernel.shape[-1], transposed_pixels(x.shape))
    return conv_transpose(x, kernel, stride=2, padding=1, impl=impl)


def strided_conv4x4(x, kernel, impl: str = "fast"):
    """``Conv2d(C, O, 4, stride 2, padding 1)`` (HWIO kernel): ``[N, H, W, C] -> [N, H/2, W/2, O]``
    (odd sides round up). 'winograd' and 'gemm' need even sides; odd ones use XLA's."""
    impl = resolve_impl(impl, x.shape[-1], kernel.shape[-1], strided_pixels(x.shape))
    even = x.shape[1] % 2 == 0 and x.shape[2] % 2 == 0
    if impl == "winograd" and even:
        return strided_conv4x4_winograd(x, kernel)
    if impl == "gemm" and even:
        return strided_conv4x4_gemm(x, kernel)
    return jax.lax.conv_general_dilated(x, kernel, (2, 2), ((1, 1), (1, 1)),
                                        dimension_numbers=("NHWC", "HWIO", "NHWC"))


def transposed_pixels(shape) -> int:
    """`resolve_impl`'s ``pixels`` for a transposed convolution of NHWC input ``shape``: N H W."""
    n, h, w, _ = shape
    return n * h * w


def strided_pixels(shape) -> int:
    """`resolve_impl`'s ``pixels`` for a 4x4 / stride-2 convolution of NHWC input ``shape``:
    the output's N * ceil(H / 2) * ceil(W / 2)."""
    n, h, w, _ = shape
    return n * -(-h // 2) * -(-w // 2)


def resolve_valid_impl(impl: str, kernel_shape) -> str:
    """The form a stride-1 convolution with an HWIO kernel of ``kernel_shape`` uses: ``impl``
    itself ('winograd' only for 3x3 kernels, 'gemm' for any; the others mean XLA's), or for
    ``'fast'`` on CPU: 'gemm' where one side has at most THIN channels, 'winograd' for a 3x3
    kernel, else 'xla' (module docstring); on other backends 'xla'."""
    kh, kw, c_in, c_out = kernel_shape
    if check_impl(impl) == "fast":
        if jax.default_backend() != "cpu":
            return "xla"
        if min(c_in, c_out) <= THIN:
            return "gemm"
        return "winograd" if (kh, kw) == (3, 3) else "xla"
    if impl == "winograd" and (kh, kw) == (3, 3) or impl == "gemm":
        return impl
    return "xla"


def conv_valid(xp, kernel, impl: str = "fast"):
    """Stride-1 VALID correlation of an already padded ``xp [N, H+kh-1, W+kw-1, C]`` with the
    HWIO ``kernel [kh, kw, C, O]`` -> ``[N, H, W, O]``, as ``lax.conv_general_dilated(xp, kernel,
    (1, 1), 'VALID')``, by the form `resolve_valid_impl` picks."""
    impl = resolve_valid_impl(impl, kernel.shape)
    if impl == "winograd":
        return conv3x3_winograd(xp, kernel)
    if impl == "gemm":
        return conv_valid_gemm(xp, kernel)
    return jax.lax.conv_general_dilated(xp, kernel, (1, 1), "VALID", dimension_numbers=_DN)


def pad_kernel_to_4x4(kernel):
    """A 3x3 HWIO kernel with a zero 4th row and column: the 4x4 / stride-2 / padding-1 layer
    with it is the 3x3 / stride-2 / padding-1 layer (and the transposed 4x4 / 2 / 1 the
    transposed 3x3 / 2 / 1 with output padding 1), for even sides."""
    return jnp.pad(kernel, ((0, 1), (0, 1), (0, 0), (0, 0)))


def strided_conv3x3(x, kernel, impl: str = "fast"):
    """``Conv2d(C, O, 3, stride 2, padding 1)`` (HWIO kernel): ``[N, H, W, C] -> [N, H/2, W/2,
    O]``. For 'fast' (on CPU), 'winograd' and 'gemm' with even sides: `strided_conv4x4` with the
    kernel padded to 4x4; otherwise XLA's convolution of the 3x3 kernel."""
    even = x.shape[1] % 2 == 0 and x.shape[2] % 2 == 0
    if check_impl(impl) in ("fast", "winograd", "gemm") and even:
        impl = resolve_impl(impl, x.shape[-1], kernel.shape[-1], strided_pixels(x.shape))
        if impl in ("winograd", "gemm"):
            return strided_conv4x4(x, pad_kernel_to_4x4(kernel), impl)
    return jax.lax.conv_general_dilated(x, kernel, (2, 2), ((1, 1), (1, 1)),
                                        dimension_numbers=_DN)


def conv_transpose3x3(x, kernel, impl: str = "fast"):
    """``ConvTranspose2d(C, O, 3, stride 2, padding 1, output_padding 1)`` (HWIO kernel,
    unflipped): ``[N, H, W, C] -> [N, 2H, 2W, O]``. For 'fast' (on CPU), 'winograd' and 'gemm':
    `conv_transpose4x4` with the kernel padded to 4x4; on other backends ('fast') XLA's; for
    the other impls `conv_transpose` itself."""
    if check_impl(impl) in ("fast", "winograd", "gemm"):
        impl = resolve_impl(impl, x.shape[-1], kernel.shape[-1], transposed_pixels(x.shape))
        if impl in ("winograd", "gemm"):
            return conv_transpose4x4(x, pad_kernel_to_4x4(kernel), impl)
    return conv_transpose(x, kernel, stride=2, padding=1, output_padding=1, impl=impl)
