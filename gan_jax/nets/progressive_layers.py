"""The layers of Progressive Growing of GANs (Karras, Aila, Laine & Lehtinen 2018, section 4):
equalized learning rate, pixelwise feature normalisation and the minibatch standard deviation.

- Equalized learning rate (section 4.1): a weight is initialised N(0, 1) and scaled at run time
  by He's constant c = gain / sqrt(fan_in) (gain sqrt(2), 1 for the output layers): the layer
  computes with c * w, so its effective weight has He's variance while the optimizer sees, and
  Adam normalises the update of, the unscaled w; every layer then learns at the same speed.
  Biases start at 0 and are not scaled.
- Pixelwise feature vector normalisation (section 4.2): b = a / sqrt(mean_c(a^2) + 1e-8) at each
  pixel, in G after every convolution (and on z).
- Minibatch standard deviation (section 3): D appends one feature map: the standard deviation of
  each feature at each pixel over a group of `group_size` examples, averaged over features and
  pixels, one value per group. Groups are consecutive examples of the (per-device) batch: the
  official code groups example n with n + M, n + 2M, ... (M = batch / group); consecutive groups
  are the same statistic and do not depend on how a batch is split across devices, so n devices
  with B/n examples each compute the 1-device step (B/n a multiple of the group size).

`conv_impl` as the other nets (`gan_jax.ops.choice`): the 3x3 layers use Winograd F(2x2, 3x3) on
CPU under 'fast', XLA's convolution under 'xla'.
"""
import math

import flax.linen as nn
import jax.numpy as jnp

from gan_jax.errors import GanJaxError
from gan_jax.ops.choice import conv_valid

SQRT2 = math.sqrt(2.0)


def pixel_norm(x, eps: float = 1e-8):
    """x / sqrt(mean over the last axis of x^2 + eps)."""
    return x * jnp.reciprocal(jnp.sqrt(jnp.mean(jnp.square(x), axis=-1, keepdims=True) + eps))


def he_constant(fan_in: int, gain: float = SQRT2) -> float:
    """The equalized learning rate's run-time weight scale gain / sqrt(fan_in)."""
    return gain / math.sqrt(fan_in)


def scaled_kernel(module, shape, fan_in: int, gain: float, equalized: bool):
    """The kernel a layer computes with: N(0, 1) times He's constant at run time (equalized), or
    (switched off) a kernel initialised N(0, he_constant^2) and used as it is."""
    c = he_constant(fan_in, gain)
    if equalized:
        return module.param("kernel", nn.initializers.normal(1.0), shape) * c
    return module.param("kernel", nn.initializers.normal(c), shape)


class EqualizedDense(nn.Module):
    """A dense layer whose kernel ~ N(0, 1) is scaled by `he_constant(fan_in, gain)` at run time
    (`equalized=False`: initialised with that scale instead)."""
    features: int
    gain: float = SQRT2
    equalized: bool = True

    @nn.compact
    def __call__(self, x):
        fan_in = x.shape[-1]
        w = scaled_kernel(self, (fan_in, self.features), fan_in, self.gain, self.equalized)
        bias = self.param("bias", nn.initializers.zeros, (self.features,))
        return x @ w + bias


class EqualizedConv(nn.Module):
    """A k x k stride-1 'same' (zero padded) convolution with an N(0, 1) HWIO kernel scaled by
    `he_constant(k * k * C_in, gain)` at run time (`equalized=False`: initialised so)."""
    features: int
    kernel_size: int = 3
    gain: float = SQRT2
    impl: str = "fast"
    equalized: bool = True

    @nn.compact
    def __call__(self, x):
        k, c = self.kernel_size, x.shape[-1]
        w = scaled_kernel(self, (k, k, c, self.features), k * k * c, self.gain, self.equalized)
        bias = self.param("bias", nn.initializers.zeros, (self.features,))
        if k == 1:
            y = jnp.einsum("nhwc,co->nhwo", x, w[0, 0])
        else:
            p = k // 2
            y = conv_valid(jnp.pad(x, ((0, 0), (p, p), (p, p), (0, 0))), w, self.impl)
        return y + bias


def minibatch_stddev(x, group_size: int = 4, eps: float = 1e-8):
    """x [N, ..., C] -> [N, ..., C + 1]: the new last channel is, for each group of `group_size`
    consecutive examples, the mean over the feature axes (..., C) of the features' standard
    deviation over the group (population std, + eps inside the root). Images [N, H, W, C] get a
    constant map, vectors [N, F] one feature. N must be a multiple of the group size (groups of
    min(group_size, N)). Used by PGGAN's D and, as `model.mbstd_group`, by the MLP and DCGAN Ds."""
    n, rest = x.shape[0], x.shape[1:]
    g = min(group_size, n)
    if n % g:
        raise GanJaxError(f"the minibatch standard deviation groups {g} examples, but the "
                          f"(per-device) batch has {n}; use a batch per device that is a "
                          f"multiple of {g} (or another mbstd_group)")
    y = x.reshape((n // g, g) + rest)
    std = jnp.sqrt(jnp.var(y, axis=1) + eps)                 # [N/g, ..., C]
    per_group = jnp.mean(std, axis=tuple(range(1, std.ndim)))   # [N/g]
    per_example = jnp.repeat(per_group, g).reshape((n,) + (1,) * len(rest))
    maps = jnp.broadcast_to(per_example, (n,) + rest[:-1] + (1,))
    return jnp.concatenate([x, maps.astype(x.dtype)], axis=-1)


def upsample2x(x):
    """Nearest-neighbour 2x upsampling of NHWC images."""
    return jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2)


def downsample2x(x):
    """2x2 average pooling of NHWC images (even sides)."""
    n, h, w, c = x.shape
    return x.reshape(n, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))


def leaky_relu(x):
    return nn.leaky_relu(x, 0.2)
