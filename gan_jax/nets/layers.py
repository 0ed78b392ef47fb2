"""Building blocks shared by the convolutional networks (DCGAN; later U-Net, PatchGAN, ResNet).

- `weight_init`: N(0, 0.02), the DCGAN / Pix2Pix / CycleGAN convention; `bn_scale_init`: N(1, 0.02).
- `ConvTranspose2D` and `StridedConv4x4`: PyTorch-semantics layers whose computation is picked
  per layer and backend in `gan_jax.ops.choice` (Winograd / GEMM forms on CPU, XLA's elsewhere).
- `normalize`: BatchNorm whose training statistics span the devices of `axis_name` (one global
  batch), InstanceNorm, LayerNorm, or nothing, by name.
- `keyed_dropout`: dropout whose mask for each example comes from that example's own key (the
  Pix2Pix generator's noise), so a batch split over devices draws the same masks.
- `spectral`: wrap a layer in spectral normalisation (Miyato et al. 2018); the power-iteration
  vectors live in the non-param collection SPECTRAL, which the trainer averages over devices
  like BatchNorm statistics.
"""
import math
from typing import Optional

import flax.linen as nn
import jax
import jax.numpy as jnp

from gan_jax.errors import GanJaxError
from gan_jax.ops.choice import (check_impl, conv_transpose3x3, resolve_impl, strided_conv4x4,
                                transposed_pixels)
from gan_jax.ops.conv_transpose import conv_transpose

NORMS = ("batch", "instance", "layer", "none")
CONDITIONINGS = ("concat", "projection")
SPECTRAL = "spectral"          # the collection of spectral normalisation's u and sigma
weight_init = nn.initializers.normal(stddev=0.02)


def bn_scale_init(key, shape, dtype=jnp.float32):
    """BatchNorm scale ~ N(1, 0.02), as in the DCGAN reference code and PyTorch's example."""
    return 1.0 + 0.02 * jax.random.normal(key, shape, dtype)


def check_label(label, num_classes: int, batch: int, who: str):
    """The labels a conditional net needs ([B] integers), or a clear error."""
    if num_classes <= 0:
        if label is not None:
            raise GanJaxError(f"{who} is unconditional (num_classes=0) but was given labels; "
                              "use the conditional family (gan.family='conditional')")
        return None
    if label is None:
        raise GanJaxError(f"{who} is conditional ({num_classes} classes) and needs labels [B]")
    if tuple(label.shape) != (batch,):
        raise GanJaxError(f"{who} takes labels of shape ({batch},), got {tuple(label.shape)}")
    if not jnp.issubdtype(label.dtype, jnp.integer):
        raise GanJaxError(f"{who} takes integer class labels, got dtype {label.dtype}")
    return label


def label_input(label, num_classes: int, size: int, dtype=jnp.float32):
    """The one-hot of `label` [B] scaled by sqrt(size), to be joined to an input of `size` entries
    of unit scale (z ~ N(0, I); an image in [-1, 1]), whose norm is about sqrt(size): the label
    then weighs as much as that input in the first layer (an unscaled one-hot weighs
    1/sqrt(size) as much, and the nets were slow to heed it, see the module doc)."""
    return math.sqrt(size) * jax.nn.one_hot(label, num_classes, dtype=dtype)


def check_norm(kind: str) -> str:
    if kind not in NORMS:
        raise GanJaxError(f"unknown normalisation {kind!r}; valid: {NORMS}")
    return kind


def normalize(h, kind: str, train: bool, axis_name: Optional[str], name: str):
    """Normalise NHWC (or [N, C]) activations by `kind` (NORMS). BatchNorm statistics are reduced
    in float32 whatever ``h``'s dtype and averaged over `axis_name` in training; the output keeps
    ``h``'s dtype."""
    if check_norm(kind) == "batch":
        return nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5,
                            axis_name=axis_name if train else None, scale_init=bn_scale_init,
                            bias_init=nn.initializers.zeros, dtype=h.dtype, name=name)(h)
    if kind == "instance":
        return nn.InstanceNorm(epsilon=1e-5, dtype=h.dtype, name=name)(h)
    if kind == "layer":
        return nn.LayerNorm(epsilon=1e-5, dtype=h.dtype, name=name)(h)
    return h


def keyed_dropout(h, rate: float, keys, salt: int):
    """Inverted dropout of `h` [B, ...] with rate `rate`; example i's mask is drawn from
    fold_in(keys[i], salt) (`salt` tells the layers apart). `keys` None (or rate 0): no dropout.
    """
    if keys is None or rate <= 0:
        return h
    if keys.shape != h.shape[:1]:
        raise GanJaxError(f"keyed_dropout needs one key per example: keys {keys.shape}, "
                          f"activations {tuple(h.shape)}")
    keep = jax.vmap(lambda k: jax.random.bernoulli(jax.random.fold_in(k, salt), 1.0 - rate,
                                                   h.shape[1:]))(keys)
    return jnp.where(keep, h / (1.0 - rate), 0.0).astype(h.dtype)


def spectral(layer: nn.Module, enabled: bool, train: bool):
    """`layer` itself, or wrapped in spectral normalisation (one power iteration per call,
    updating its u vector only in training)."""
    if not enabled:
        return layer
    wrapped = nn.SpectralNorm(layer, collection_name=SPECTRAL)
    return lambda *args: wrapped(*args, update_stats=train)


class ConvTranspose2D(nn.Module):
    """Transposed convolution with PyTorch ``ConvTranspose2d`` semantics (NHWC, HWIO kernel).

    The kernel ``[k, k, C_in, features]`` is used unflipped, so
    ``kernel == torch_weight.transpose(2, 3, 0, 1)``. Output side ``(H-1)*stride + k - 2*padding
    + output_padding`` (kernel 4, stride 2, padding 1 doubles it; so do CycleGAN's kernel 3,
    stride 2, padding 1, output padding 1). ``impl`` picks the computation, see
    `gan_jax.ops.conv_transpose.conv_transpose` and `gan_jax.ops.choice` ('fast': per layer and
    backend for the 4x4 / 2 / 1 layer and for the 3x3 / 2 / 1 / output padding 1 layer, which
    is the 4x4 one with the kernel's last row and column zero (`choice.conv_transpose3x3`;
    'winograd' and 'gemm' run it that way too); 'subpixel' for other shapes).
    """
    features: int
    kernel_size: int = 4
    stride: int = 2
    padding: int = 1
    output_padding: int = 0             # extra rows/columns at the end (0 <= op < stride)
    use_bias: bool = True
    impl: str = "subpixel"              # one of gan_jax.ops.choice.CONV_IMPLS

    @nn.compact
    def __call__(self, x):
        if x.ndim != 4:
            raise GanJaxError(f"ConvTranspose2D takes NHWC input [N, H, W, C], got shape "
                              f"{tuple(x.shape)}.")
        k = self.kernel_size
        kernel = self.param("kernel", weight_init, (k, k, x.shape[-1], self.features))
        impl = check_impl(self.impl)
        layer = (k, self.stride, self.padding, self.output_padding)
        if layer == (3, 2, 1, 1) and impl in ("fast", "winograd", "gemm"):
            y = conv_transpose3x3(x, kernel.astype(x.dtype), impl)   # as 4x4 with zero taps
        else:
            if impl == "fast" and layer != (4, 2, 1, 0):
                impl = "subpixel" if jax.default_backend() == "cpu" else "xla"
            impl = resolve_impl(impl, x.shape[-1], self.features, transposed_pixels(x.shape))
            y = conv_transpose(x, kernel.astype(x.dtype), stride=self.stride,
                               padding=self.padding, output_padding=self.output_padding,
                               impl=impl)
        if self.use_bias:
            y = y + self.param("bias", nn.initializers.zeros, (self.features,)).astype(y.dtype)
        return y


class StridedConv4x4(nn.Module):
    """Convolution 4x4, stride 2, padding 1 (PyTorch ``Conv2d(C, O, 4, 2, 1)``), HWIO kernel.

    ``impl='winograd'`` computes it as F(2x2, 2x2) after space-to-depth, ``'gemm'`` as im2col +
    one GEMM, ``'fast'`` picks per layer (`gan_jax.ops.choice`); the others use XLA's convolution.
    """
    features: int
    use_bias: bool = True
    impl: str = "xla"

    @nn.compact
    def __call__(self, x):
        kernel = self.param("kernel", weight_init,
                            (4, 4, x.shape[-1], self.features)).astype(x.dtype)
        y = strided_conv4x4(x, kernel, self.impl)
        if self.use_bias:
            y = y + self.param("bias", nn.initializers.zeros, (self.features,)).astype(y.dtype)
        return y
