"""Which implementation of the 4x4 / stride-2 (transposed) convolution a layer uses.

`resolve_impl` picks per layer and backend for `impl='fast'`; `strided_conv4x4` and
`conv_transpose4x4` run the chosen form. Networks (DCGAN, the U-Net and PatchGAN of
Pix2Pix...) call these two and never pick a kernel themselves.

Measured on 2 CPU cores (experiments/bench_dcgan.py, experiments/profile_pix2pix_layers.py;
docs/design.md): 'gemm' (one GEMM plus an overlap-add or an im2col, `gemm_conv.py`) where one side
of the layer has at most THIN channels (G's output, D's input) or where the layer has at most
FEW_PIXELS pixels on its small side per device (the U-Net's inner layers: there the Winograd
form's nine transformed copies of a wide kernel cost more than the arithmetic they save; at batch
1 the 512 -> 512 layer at 2x2 -> 1x1 took 2.4 ms forward+backward as a GEMM, 39 ms in the Winograd
form, 58 ms in PyTorch), 'winograd' (F(2x2, 2x2) per sub-pixel phase, `winograd.py`) elsewhere.
On GPU/TPU: 'xla', the vendor convolutions (not measured here: no accelerator was lent).
"""
from typing import Optional

import jax

from gan_jax.errors import GanJaxError
from gan_jax.ops.conv_transpose import ALL_IMPLS, conv_transpose
from gan_jax.ops.gemm_conv import strided_conv4x4_gemm
from gan_jax.ops.winograd import strided_conv4x4 as strided_conv4x4_winograd

CONV_IMPLS = ALL_IMPLS + ("fast",)
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
