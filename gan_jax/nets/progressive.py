"""The generator and discriminator of Progressive Growing of GANs (Karras et al. 2018, Table 2),
grown from 4x4 by doubling the resolution, with the new block faded in.

Levels: level 0 works at 4x4, level l at 4 * 2^l; `channels[l]` is level l's width (the paper:
512 up to 32x32, then halving to 16 at 1024x1024; `progressive.fmap_base` / `fmap_max` give
the same rule).

G (latent z [N, latent_dim] -> images [N, r, r, C], r = 4 * 2^level, linear output):
    pixel-norm(z) -> dense to 4x4 x channels[0] -> LReLU -> PN -> conv3x3 -> LReLU -> PN
    level l >= 1: upsample 2x (nearest) -> conv3x3 -> LReLU -> PN -> conv3x3 -> LReLU -> PN
    toRGB_l: conv1x1 to C (gain 1)
    output at level L: (1 - alpha) * upsample(toRGB_{L-1}(h_{L-1})) + alpha * toRGB_L(h_L)
D (images [N, r, r, C] -> scores [N, 1]), the mirror:
    fromRGB_l: conv1x1 to channels[l] -> LReLU
    level l >= 1: conv3x3 (channels[l]) -> LReLU -> conv3x3 (channels[l-1]) -> LReLU -> avg-pool
    at level L: h = (1 - alpha) * fromRGB_{L-1}(avg-pool(x)) + alpha * block_L(fromRGB_L(x)),
    then blocks L-1 .. 1, then minibatch stddev -> conv3x3 -> LReLU -> dense (4x4 -> channels[0])
    -> LReLU -> dense to 1 (gain 1)
(alpha = 1 outside a fade-in; at level 0 there is nothing to fade.) LReLU slope 0.2, every layer
with the equalized learning rate (`progressive_layers`).

`level` is a Python int (static: one compiled program per level); `alpha` an array (a function
of the step, traced). Initialising the module (at any level) creates every block and every
toRGB / fromRGB, so a checkpoint has one structure throughout the growth; the family initialises
at the top level.
"""
from typing import Sequence

import flax.linen as nn
import jax.numpy as jnp

from gan_jax.errors import GanJaxError
from gan_jax.nets.progressive_layers import (SQRT2, EqualizedConv, EqualizedDense,
                                             downsample2x, leaky_relu, minibatch_stddev,
                                             pixel_norm, upsample2x)


def level_channels(levels: int, fmap_base: int, fmap_max: int):
    """The paper's widths: level l (4 * 2^l pixels) has min(fmap_base / 2^(l+1), fmap_max)."""
    return tuple(min(fmap_base // 2 ** (level + 1), fmap_max) for level in range(levels))


def resolution(level: int) -> int:
    return 4 * 2 ** level


def _check_level(level, channels):
    if not 0 <= level < len(channels):
        raise GanJaxError(f"level {level} does not exist: the networks have levels 0.."
                          f"{len(channels) - 1} (4x4 .. {resolution(len(channels) - 1)}x"
                          f"{resolution(len(channels) - 1)})")


def fade(old, new, alpha):
    """(1 - alpha) * old + alpha * new: exactly old at alpha 0 and exactly new at alpha 1."""
    alpha = jnp.asarray(alpha, new.dtype)
    return (1.0 - alpha) * old + alpha * new


class ProgressiveGenerator(nn.Module):
    channels: Sequence[int]
    out_channels: int
    pixelnorm: bool = True
    equalized: bool = True
    conv_impl: str = "fast"

    @nn.compact
    def __call__(self, z, level: int, alpha=1.0):
        ch = tuple(self.channels)
        _check_level(level, ch)
        norm = pixel_norm if self.pixelnorm else (lambda v: v)

        def conv(features, name, k=3, gain=SQRT2):
            return EqualizedConv(features, k, gain=gain, impl=self.conv_impl,
                                 equalized=self.equalized, name=name)

        x = norm(z)
        h = EqualizedDense(16 * ch[0], gain=SQRT2 / 4, equalized=self.equalized, name="dense")(x)
        h = norm(leaky_relu(h.reshape(z.shape[0], 4, 4, ch[0])))
        h = norm(leaky_relu(conv(ch[0], "conv0")(h)))
        hs = [h]
        initializing = self.is_initializing()     # every level's layers exist from the start
        for lv in range(1, len(ch) if initializing else level + 1):
            h = upsample2x(h)
            h = norm(leaky_relu(conv(ch[lv], f"block{lv}_conv0")(h)))
            h = norm(leaky_relu(conv(ch[lv], f"block{lv}_conv1")(h)))
            hs.append(h)
        to_rgb = [conv(self.out_channels, f"to_rgb{lv}", k=1, gain=1.0) for lv in range(len(ch))]
        if initializing:
            for lv in range(len(ch)):
                to_rgb[lv](hs[lv])
        new = to_rgb[level](hs[level])
        if level == 0:
            return new
        return fade(upsample2x(to_rgb[level - 1](hs[level - 1])), new, alpha)


class ProgressiveDiscriminator(nn.Module):
    channels: Sequence[int]
    mbstd_group: int = 4            # 0: no minibatch standard deviation layer
    equalized: bool = True
    conv_impl: str = "fast"

    @nn.compact
    def __call__(self, x, level: int, alpha=1.0):
        ch = tuple(self.channels)
        _check_level(level, ch)
        r = resolution(level)
        if x.ndim != 4 or x.shape[1:3] != (r, r):
            raise GanJaxError(f"D at level {level} takes [N, {r}, {r}, C] images, got "
                              f"{tuple(x.shape)}")

        def conv(features, name, k=3):
            return EqualizedConv(features, k, impl=self.conv_impl, equalized=self.equalized,
                                 name=name)

        def dense(features, name, gain=SQRT2):
            return EqualizedDense(features, gain=gain, equalized=self.equalized, name=name)

        from_rgb = [conv(ch[lv], f"from_rgb{lv}", k=1) for lv in range(len(ch))]

        def block(h, lv):
            h = leaky_relu(conv(ch[lv], f"block{lv}_conv0")(h))
            h = leaky_relu(conv(ch[lv - 1], f"block{lv}_conv1")(h))
            return downsample2x(h)

        if self.is_initializing():       # every level's layers exist from the start
            for lv in range(len(ch) - 1, level, -1):
                block(jnp.zeros((x.shape[0], resolution(lv), resolution(lv), ch[lv]), x.dtype),
                      lv)
            for lv in range(len(ch)):
                from_rgb[lv](jnp.zeros((1, 1, 1, x.shape[-1]), x.dtype))
        h = leaky_relu(from_rgb[level](x))
        if level > 0:
            h = block(h, level)
            h = fade(leaky_relu(from_rgb[level - 1](downsample2x(x))), h, alpha)
            for lv in range(level - 1, 0, -1):
                h = block(h, lv)
        if self.mbstd_group:
            h = minibatch_stddev(h, self.mbstd_group)
        h = leaky_relu(conv(ch[0], "final_conv")(h))
        h = leaky_relu(dense(ch[0], "final_dense")(h.reshape(h.shape[0], -1)))
        return dense(1, "out", gain=1.0)(h)
