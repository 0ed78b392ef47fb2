"""The CycleGAN generator: a ResNet of Johnson et al. (2016) as in Zhu et al. (2017), appendix 7.2.

    c7s1-64, d128, d256, R256 x n_blocks, u128, u64, c7s1-3

- c7s1-k: 7x7 convolution, stride 1, k filters, reflection padding 3, then normalisation + ReLU
  (the last one: no normalisation, tanh);
- dk: 3x3 convolution, stride 2, padding 1 (zeros), k filters, normalisation, ReLU;
- Rk: residual block x + [reflect-pad 1, 3x3 conv, norm, ReLU, reflect-pad 1, 3x3 conv, norm];
- uk: 3x3 fractionally-strided (transposed) convolution, stride 2, padding 1, output padding 1
  (PyTorch semantics, `gan_jax.nets.layers.ConvTranspose2D`), normalisation, ReLU.

6 blocks for 128x128 images, 9 for 256x256 (the paper); `model.res_blocks`. Widths scale with
`model.g_width` (64 in the paper). Normalisation `model.norm` (the paper: instance). As in this
project's U-Net, a convolution followed by a normalisation has no bias and the normalisation
has a learned scale and bias (start 1 and 0); the official code instead keeps the convolution's
bias, which the normalisation cancels, and has no affine InstanceNorm: the same functions, with
11,383,427 parameters for ResNet-9 at width 64 against the official 11,378,179. Weights
N(0, 0.02). The image side must be a multiple of 4 (two stride-2 stages there and back).

``conv_impl`` picks how every convolution is computed (`gan_jax.ops.choice`); 'xla' is XLA's
convolutions throughout, 'fast' (the default) on CPU: Winograd F(2x2, 3x3) for the residual
blocks, the 4x4 / stride-2 forms with zero-padded kernels for d and u, and one GEMM for the thin
7x7 layers (see choice's docstring for the measured speeds).
"""
import flax.linen as nn
import jax.numpy as jnp

from gan_jax.errors import GanJaxError
from gan_jax.nets.layers import ConvTranspose2D, check_norm, normalize, weight_init
from gan_jax.ops.choice import check_impl, conv_valid, strided_conv3x3


def reflect_pad(x, p: int):
    """Mirror padding of NHWC images by p pixels on each side (PyTorch's ReflectionPad2d)."""
    return jnp.pad(x, ((0, 0), (p, p), (p, p), (0, 0)), mode="reflect")


class Conv(nn.Module):
    """A k x k convolution with ``nn.Conv``'s parameters (``kernel [k, k, C, features]`` ~
    N(0, 0.02), ``bias`` zeros), computed by the form `gan_jax.ops.choice` picks for ``impl``:
    stride 1 on an already padded input (VALID; `choice.conv_valid`: Winograd F(2x2, 3x3) for
    the residual blocks, one GEMM for the thin 7x7 layers, on CPU), or 3x3 / stride 2 / zero
    padding 1 (`choice.strided_conv3x3`: the 4x4 / 2 / 1 forms with a zero-padded kernel)."""
    features: int
    kernel_size: int
    stride: int = 1
    use_bias: bool = True
    impl: str = "fast"

    @nn.compact
    def __call__(self, x):
        k = self.kernel_size
        kernel = self.param("kernel", weight_init, (k, k, x.shape[-1], self.features))
        dtype = jnp.result_type(x, kernel)              # nn.Conv's promotion
        x, kernel = x.astype(dtype), kernel.astype(dtype)
        if self.stride == 1:
            y = conv_valid(x, kernel, self.impl)
        elif (k, self.stride) == (3, 2):
            y = strided_conv3x3(x, kernel, self.impl)
        else:
            raise GanJaxError(f"Conv computes stride 1 (padded input) or 3x3 / stride 2 / "
                              f"padding 1, got kernel {k}, stride {self.stride}")
        if self.use_bias:
            y = y + self.param("bias", nn.initializers.zeros, (self.features,)).astype(dtype)
        return y


def conv(features: int, kernel: int, stride: int = 1, bias: bool = True, impl: str = "fast",
         name=None):
    """Stride 1: VALID on a padded input; stride 2 (3x3): zero padding 1."""
    return Conv(features, kernel, stride, use_bias=bias, impl=impl, name=name)


class ResnetGenerator(nn.Module):
    """[B, H, W, C_in] in [-1, 1] -> [B, H, W, out_channels] in (-1, 1), H and W multiples of 4."""
    out_channels: int
    width: int = 64
    n_blocks: int = 6
    norm: str = "instance"
    conv_impl: str = "fast"
    axis_name: str = "batch"

    @nn.compact
    def __call__(self, x, train: bool = False, noise_keys=None):
        del noise_keys                   # no noise: the generator is deterministic
        if x.ndim != 4 or x.shape[1] % 4 or x.shape[2] % 4:
            raise GanJaxError(f"the ResNet generator takes NHWC images whose sides are "
                              f"multiples of 4, got {tuple(x.shape)}; resize the data "
                              "(data.image_size)")
        norm = check_norm(self.norm)
        impl = check_impl(self.conv_impl)

        def norm_relu(h, name):
            return nn.relu(normalize(h, norm, train, self.axis_name, name))

        w = self.width
        bias = norm == "none"            # a normalised convolution needs no bias
        h = conv(w, 7, bias=bias, impl=impl, name="c7_in")(reflect_pad(x, 3))
        h = norm_relu(h, "c7_in_norm")
        for i, k in enumerate((2 * w, 4 * w)):
            h = norm_relu(conv(k, 3, 2, bias=bias, impl=impl, name=f"down{i}")(h), f"down{i}_norm")
        for i in range(self.n_blocks):
            r = conv(4 * w, 3, bias=bias, impl=impl, name=f"res{i}_a")(reflect_pad(h, 1))
            r = norm_relu(r, f"res{i}_a_norm")
            r = conv(4 * w, 3, bias=bias, impl=impl, name=f"res{i}_b")(reflect_pad(r, 1))
            h = h + normalize(r, norm, train, self.axis_name, f"res{i}_b_norm")
        for i, k in enumerate((2 * w, w)):
            h = ConvTranspose2D(k, kernel_size=3, stride=2, padding=1, output_padding=1,
                                use_bias=bias, impl=impl, name=f"up{i}")(h)
            h = norm_relu(h, f"up{i}_norm")
        return jnp.tanh(conv(self.out_channels, 7, impl=impl, name="c7_out")(reflect_pad(h, 3)))


def generator(config, info, direction: str = "ab"):
    """The ResNet of model.* (g_width, res_blocks, norm, conv_impl) translating field 'a' into
    'b' (direction 'ab') or 'b' into 'a' ('ba')."""
    if "a" not in info.fields or "b" not in info.fields:
        raise GanJaxError(f"model.arch='resnet' translates between two image domains (fields "
                          f"'a', 'b'); the data {info.name!r} has fields {info.fields}")
    if direction not in ("ab", "ba"):
        raise GanJaxError(f"direction must be 'ab' or 'ba', got {direction!r}")
    m = config.model
    if m.res_blocks < 0:
        raise GanJaxError(f"model.res_blocks={m.res_blocks} must be >= 0 (the paper: 6 or 9)")
    target = "b" if direction == "ab" else "a"
    return ResnetGenerator(out_channels=info.shape_of(target)[-1], width=m.g_width,
                           n_blocks=int(m.res_blocks), norm=m.norm, conv_impl=m.conv_impl)


def has_batch_norm(config, player: str) -> bool:
    return config.model.norm == "batch"
