"""DCGAN generator and discriminator (Radford, Metz & Chintala, 2015).

The paper's architecture guidelines, followed here:
- no pooling: D downsamples with strided convolutions, G upsamples with fractionally-strided
  (transposed) convolutions (kernel 4, stride 2, padding 1 in PyTorch's terms);
- BatchNorm in both nets, except on G's output layer and D's input layer;
- no hidden fully-connected layers: G starts with one Dense "project and reshape" of z to a
  4x4 (7x7 for 28x28 images) feature map, D ends with one convolution over the remaining
  spatial extent that gives one logit per example;
- ReLU in G with a tanh output (images in [-1, 1]); LeakyReLU(0.2) in D;
- weights N(0, 0.02); BatchNorm scale N(1, 0.02) and bias 0 (as PyTorch's DCGAN example).

Widths for 64x64 images (``base_width`` = 64 in the paper): G 512 (4x4) -> 256 (8x8) -> 128 (16x16)
-> 64 (32x32) -> C (64x64); D C -> 64 -> 128 -> 256 -> 512 (4x4) -> 1. 32x32 images drop the widest
stage, 28x28 images (MNIST) drop two and start from 7x7 (7 -> 14 -> 28).
Layers without a following BatchNorm (G's output, D's first and last) have biases; the others
do not (BatchNorm's own bias replaces them).

``compute_dtype='bfloat16'`` is the mixed-precision mode for accelerators: parameters, optimizer
state and BatchNorm statistics stay float32; the convolutions, the projection and the activations
between them run in bfloat16 (weights cast at use, so gradients arrive in float32); G's images
and D's logits are returned as float32, so losses, samples and metrics are unchanged in type.
On CPU it is correct but not faster (XLA:CPU has no fast bfloat16 GEMM).
"""
from typing import Optional, Sequence, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from gan_jax.errors import GanJaxError
from gan_jax.ops.conv_transpose import ALL_IMPLS, conv_transpose
from gan_jax.ops.gemm_conv import strided_conv4x4_gemm
from gan_jax.ops.winograd import strided_conv4x4

CONV_IMPLS = ALL_IMPLS + ("fast",)
THIN = 4      # layers with at most this many channels on one side use the 'gemm' form


def resolve_impl(impl: str, c_in: int, c_out: int) -> str:
    """The implementation one layer uses: ``impl`` itself, or for ``'fast'`` the fastest
    measured for the backend and the layer's widths. On CPU (2 cores, bench_dcgan.py and
    DESIGN.md): 'gemm' where one side has at most THIN channels (G's output, D's input),
    'winograd' elsewhere. On GPU/TPU: 'xla' (the vendor convolutions; not measured here)."""
    if impl not in CONV_IMPLS:
        raise GanJaxError(f"unknown conv_impl {impl!r}; choose one of {CONV_IMPLS}.")
    if impl != "fast":
        return impl
    if jax.default_backend() != "cpu":
        return "xla"
    return "gemm" if min(c_in, c_out) <= THIN else "winograd"


IMAGE_SIZES = (28, 32, 64)
COMPUTE_DTYPES = ("float32", "bfloat16")
weight_init = nn.initializers.normal(stddev=0.02)


def bn_scale_init(key, shape, dtype=jnp.float32):
    """BatchNorm scale ~ N(1, 0.02), as in the paper's reference code and PyTorch's example."""
    return 1.0 + 0.02 * jax.random.normal(key, shape, dtype)


def stages(size: int) -> Tuple[int, int]:
    """(start resolution, number of stride-2 stages) for a square image of side ``size``."""
    if size not in IMAGE_SIZES:
        raise GanJaxError(f"DCGAN supports square images of side {IMAGE_SIZES}, got side {size}; "
                          "resize or crop the data set (e.g. pad MNIST's 28 to 32) or pick "
                          "another network.")
    return (7, 2) if size == 28 else (4, {32: 3, 64: 4}[size])


def check_image_shape(shape: Sequence[int], what: str) -> Tuple[int, int]:
    """Validate an (H, W, C) shape; returns ``stages(H)``."""
    if len(shape) != 3:
        raise GanJaxError(f"{what} must be (H, W, C), got {tuple(shape)}.")
    h, w, c = shape
    if h != w:
        raise GanJaxError(f"DCGAN needs square images, {what} is {tuple(shape)} (H != W); crop "
                          f"or resize the data to one of the sides {IMAGE_SIZES}.")
    if c < 1:
        raise GanJaxError(f"{what} needs at least one channel, got {tuple(shape)}.")
    return stages(h)


def resolve_dtype(name: str):
    """The jnp dtype of a ``compute_dtype`` name, or a GanJaxError naming the valid ones."""
    if name not in COMPUTE_DTYPES:
        raise GanJaxError(f"unknown compute_dtype {name!r}; choose one of {COMPUTE_DTYPES}.")
    return jnp.dtype(name)


def _batch_norm(h, train: bool, axis_name: Optional[str], name: str):
    """BatchNorm whose training statistics span the ``axis_name`` devices (one global batch).
    Statistics are reduced in float32 whatever ``h``'s dtype; the output keeps ``h``'s dtype."""
    return nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5,
                        axis_name=axis_name if train else None, scale_init=bn_scale_init,
                        bias_init=nn.initializers.zeros, dtype=h.dtype, name=name)(h)


class ConvTranspose2D(nn.Module):
    """Transposed convolution with PyTorch ``ConvTranspose2d`` semantics (NHWC, HWIO kernel).

    The kernel ``[k, k, C_in, features]`` is used unflipped, so
    ``kernel == torch_weight.transpose(2, 3, 0, 1)``. Output side ``(H-1)*stride + k - 2*padding``
    (kernel 4, stride 2, padding 1 doubles it). ``impl`` picks the computation, see
    `gan_jax.ops.conv_transpose.conv_transpose`.
    """
    features: int
    kernel_size: int = 4
    stride: int = 2
    padding: int = 1
    use_bias: bool = True
    impl: str = "subpixel"              # one of CONV_IMPLS

    @nn.compact
    def __call__(self, x):
        if x.ndim != 4:
            raise GanJaxError(f"ConvTranspose2D takes NHWC input [N, H, W, C], got shape "
                              f"{tuple(x.shape)}.")
        impl = resolve_impl(self.impl, x.shape[-1], self.features)
        k = self.kernel_size
        kernel = self.param("kernel", weight_init, (k, k, x.shape[-1], self.features))
        y = conv_transpose(x, kernel.astype(x.dtype), stride=self.stride, padding=self.padding,
                           impl=impl)
        if self.use_bias:
            y = y + self.param("bias", nn.initializers.zeros, (self.features,)).astype(y.dtype)
        return y


class DCGANGenerator(nn.Module):
    """z [B, latent] -> images [B, H, W, C] in [-1, 1] (tanh)."""
    image_shape: Sequence[int]          # (H, W, C), H == W in IMAGE_SIZES
    base_width: int = 64                # width of the last hidden stage; doubles per stage back
    conv_impl: str = "fast"             # per layer, see resolve_impl; or one of CONV_IMPLS
    axis_name: Optional[str] = "batch"  # BatchNorm statistics are averaged over this device axis
    compute_dtype: str = "float32"      # | bfloat16: activations and GEMMs (see module doc)

    @nn.compact
    def __call__(self, z, train: bool = True):
        start, n = check_image_shape(self.image_shape, "DCGANGenerator image_shape")
        dtype = resolve_dtype(self.compute_dtype)
        if self.conv_impl not in CONV_IMPLS:
            raise GanJaxError(f"unknown conv_impl {self.conv_impl!r}; choose one of {CONV_IMPLS}.")
        if z.ndim != 2:
            raise GanJaxError(f"DCGANGenerator takes latent vectors [B, latent_dim], got shape "
                              f"{tuple(z.shape)}.")
        width = self.base_width * 2 ** (n - 1)
        h = nn.Dense(start * start * width, use_bias=False, kernel_init=weight_init,
                     dtype=dtype, name="project")(z)
        h = h.reshape((z.shape[0], start, start, width))
        h = nn.relu(_batch_norm(h, train, self.axis_name, "bn_project"))
        for i in range(n - 1):
            width //= 2
            h = ConvTranspose2D(width, use_bias=False, impl=self.conv_impl, name=f"deconv_{i}")(h)
            h = nn.relu(_batch_norm(h, train, self.axis_name, f"bn_{i}"))
        h = ConvTranspose2D(self.image_shape[-1], use_bias=True, impl=self.conv_impl,
                            name="deconv_out")(h)
        return jnp.tanh(h).astype(jnp.float32)


class StridedConv4x4(nn.Module):
    """Convolution 4x4, stride 2, padding 1 (PyTorch ``Conv2d(C, O, 4, 2, 1)``), HWIO kernel.

    ``impl='winograd'`` computes it as F(2x2, 2x2) after space-to-depth
    (`gan_jax.ops.winograd.strided_conv4x4`), ``'gemm'`` as im2col + one GEMM
    (`gan_jax.ops.gemm_conv`), ``'fast'`` picks per layer (`resolve_impl`); the others use XLA's
    convolution.
    """
    features: int
    use_bias: bool = True
    impl: str = "xla"

    @nn.compact
    def __call__(self, x):
        impl = resolve_impl(self.impl, x.shape[-1], self.features)
        kernel = self.param("kernel", weight_init,
                            (4, 4, x.shape[-1], self.features)).astype(x.dtype)
        even = x.shape[1] % 2 == 0 and x.shape[2] % 2 == 0
        if impl == "winograd" and even:
            y = strided_conv4x4(x, kernel)
        elif impl == "gemm" and even:
            y = strided_conv4x4_gemm(x, kernel)
        else:
            y = jax.lax.conv_general_dilated(x, kernel, (2, 2), ((1, 1), (1, 1)),
                                             dimension_numbers=("NHWC", "HWIO", "NHWC"))
        if self.use_bias:
            y = y + self.param("bias", nn.initializers.zeros, (self.features,)).astype(y.dtype)
        return y


class DCGANDiscriminator(nn.Module):
    """images [B, H, W, C] (H == W in IMAGE_SIZES, values in [-1, 1]) -> one logit per example [B].

    D(x) = sigmoid(logit).
    """
    base_width: int = 64
    axis_name: Optional[str] = "batch"
    conv_impl: str = "fast"             # per layer, see resolve_impl; or one of CONV_IMPLS
    compute_dtype: str = "float32"      # | bfloat16: activations and GEMMs (see module doc)

    @nn.compact
    def __call__(self, x, train: bool = True):
        dtype = resolve_dtype(self.compute_dtype)
        if x.ndim != 4:
            raise GanJaxError(f"DCGANDiscriminator takes images [B, H, W, C], got shape "
                              f"{tuple(x.shape)}.")
        if not jnp.issubdtype(x.dtype, jnp.floating):
            raise GanJaxError(f"DCGANDiscriminator takes float images in [-1, 1], got dtype "
                              f"{x.dtype}; scale uint8 data with x / 127.5 - 1.")
        _, n = check_image_shape(x.shape[1:], "DCGANDiscriminator input image shape")
        h = x.astype(dtype)
        for i in range(n):
            first = i == 0
            h = StridedConv4x4(self.base_width * 2 ** i, use_bias=first, impl=self.conv_impl,
                               name=f"conv_{i}")(h)
            if not first:
                h = _batch_norm(h, train, self.axis_name, f"bn_{i}")
            h = nn.leaky_relu(h, negative_slope=0.2)
        logit = nn.Conv(1, h.shape[1:3], padding="VALID", kernel_init=weight_init, dtype=dtype,
                        name="logit")(h)                   # covers the remaining 4x4 (7x7)
        return logit.reshape((x.shape[0],)).astype(jnp.float32)
