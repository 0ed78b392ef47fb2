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
"""
import flax.linen as nn
import jax.numpy as jnp

from gan_jax.errors import GanJaxError
from gan_jax.nets.layers import ConvTranspose2D, check_norm, normalize, weight_init


def reflect_pad(x, p: int):
    """Mirror padding of NHWC images by p pixels on each side (PyTorch's ReflectionPad2d)."""
    return jnp.pad(x, ((0, 0), (p, p), (p, p), (0, 0)), mode="reflect")


def conv(features: int, kernel: int, stride: int = 1, padding: int = 0, bias: bool = True,
         name=None):
    return nn.Conv(features, (kernel, kernel), strides=(stride, stride),
                   padding=((padding, padding), (padding, padding)), use_bias=bias,
                   kernel_init=weight_init, name=name)


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

        def norm_relu(h, name):
            return nn.relu(normalize(h, norm, train, self.axis_name, name))

        w = self.width
        bias = norm == "none"            # a normalised convolution needs no bias
        h = norm_relu(conv(w, 7, bias=bias, name="c7_in")(reflect_pad(x, 3)), "c7_in_norm")
        for i, k in enumerate((2 * w, 4 * w)):
            h = norm_relu(conv(k, 3, 2, 1, bias=bias, name=f"down{i}")(h), f"down{i}_norm")
        for i in range(self.n_blocks):
            r = conv(4 * w, 3, bias=bias, name=f"res{i}_a")(reflect_pad(h, 1))
            r = norm_relu(r, f"res{i}_a_norm")
            r = conv(4 * w, 3, bias=bias, name=f"res{i}_b")(reflect_pad(r, 1))
            h = h + normalize(r, norm, train, self.axis_name, f"res{i}_b_norm")
        for i, k in enumerate((2 * w, w)):
            h = ConvTranspose2D(k, kernel_size=3, stride=2, padding=1, output_padding=1,
                                use_bias=bias, impl=self.conv_impl, name=f"up{i}")(h)
            h = norm_relu(h, f"up{i}_norm")
        return jnp.tanh(conv(self.out_channels, 7, name="c7_out")(reflect_pad(h, 3)))


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
