"""The context encoder of Pathak, Krahenbuhl, Donahue, Darrell & Efros (2016), "Context
Encoders: Feature Learning by Inpainting": an encoder-decoder G that sees the image with its
missing region blanked and predicts the missing pixels, and a discriminator of the filled
region (or of the whole image).

G (`ContextEncoder`): input [B, H, W, C + 1], the masked image and its mask (1 = missing) as
an extra channel; output [B, H, W, C] in (-1, 1), a prediction of every pixel (the family keeps
the known ones, `gan_jax.gans.inpaint`).
- Encoder: 4x4 stride-2 convolutions C64-C128-C256-C512-C512... (widths doubling from `width`,
  capped at 8 x `width`) down to a 4x4 map, LeakyReLU 0.2, normalisation after every one but
  the first (DCGAN-style, as the paper's 128x128 inpainting model; its AlexNet encoder is for
  feature learning).
- Bottleneck: the paper's channel-wise fully connected layer (each feature map connected to
  itself over all 4x4 positions, so every hole pixel hears every context pixel, at
  C x 16 x 16 weights instead of (16 C)^2), then a 1x1 convolution to mix the channels.
- Decoder: mirrored 4x4 stride-2 transposed convolutions, ReLU and normalisation, tanh out.
  Images whose side is not 4 x 2^k (MNIST's 28) are zero-padded to the next one (32) and the
  output cropped back.

D (`ContextDiscriminator`): 4x4 stride-2 convolutions (C64-C128-..., LeakyReLU 0.2,
normalisation after the first) down to a map of side <= 4, then one linear logit per image. It
sees whatever the family gives it: the hole's crop (the paper, for the centre square), the
fill alone with the mask channel (other masks), or the whole image.

Options from `model.*`: g_width, d_width, norm (batch | instance | none), conv_impl. Weights
N(0, 0.02) (DCGAN's), the channel-wise layer N(0, 1 / 16) (its fan-in is 16).
"""
import math
from typing import Optional

import flax.linen as nn
import jax.numpy as jnp

from gan_jax.errors import GanJaxError
from gan_jax.nets.layers import (ConvTranspose2D, StridedConv4x4, check_norm, normalize,
                                 weight_init)

BOTTLENECK = 4          # side of the innermost feature map


def depth_for(side: int) -> int:
    """Stride-2 stages from `side` (padded up to 4 x 2^depth) down to the 4x4 bottleneck."""
    if side < BOTTLENECK:
        raise GanJaxError(f"the context encoder needs images of side >= {BOTTLENECK}, got {side}")
    return max(1, math.ceil(math.log2(side / BOTTLENECK)))


def widths(depth: int, width: int) -> list:
    return [width * min(2 ** i, 8) for i in range(depth)]


class ChannelWiseDense(nn.Module):
    """Pathak et al.'s channel-wise fully connected layer: [B, h, w, C] -> [B, h, w, C], each
    channel's h x w map multiplied by its own (hw x hw) matrix, plus a bias per channel
    (`use_bias`; off before a normalisation, which would remove it)."""
    use_bias: bool = True

    @nn.compact
    def __call__(self, h):
        b, rows, cols, c = h.shape
        p = rows * cols
        kernel = self.param("kernel", nn.initializers.normal(stddev=1.0 / math.sqrt(p)), (c, p, p))
        out = jnp.einsum("bpc,cpq->bqc", h.reshape(b, p, c), kernel.astype(h.dtype))
        out = out.reshape(b, rows, cols, c)
        if self.use_bias:
            out = out + self.param("bias", nn.initializers.zeros, (c,)).astype(h.dtype)
        return out


class ContextEncoder(nn.Module):
    """[B, H, W, C + 1] (masked image, mask) -> [B, H, W, out_channels] in (-1, 1)."""
    out_channels: int
    width: int = 64
    norm: str = "batch"
    channel_wise: bool = True
    conv_impl: str = "fast"
    axis_name: Optional[str] = "batch"

    @nn.compact
    def __call__(self, x, train: bool = False):
        if x.ndim != 4 or x.shape[1] != x.shape[2]:
            raise GanJaxError(f"the context encoder takes square NHWC inputs [B, H, H, C + 1], "
                              f"got {tuple(x.shape)}")
        side = x.shape[1]
        depth = depth_for(side)
        padded = BOTTLENECK * 2 ** depth
        before = (padded - side) // 2
        after = padded - side - before
        h = jnp.pad(x, ((0, 0), (before, after), (before, after), (0, 0)))
        norm = check_norm(self.norm)
        bias = norm == "none"
        w = widths(depth, self.width)
        for i in range(depth):
            h = StridedConv4x4(w[i], use_bias=bias or i == 0, impl=self.conv_impl,
                               name=f"down{i}")(h)
            if i > 0:
                h = normalize(h, norm, train, self.axis_name, f"down{i}_norm")
            h = nn.leaky_relu(h, 0.2)
        if self.channel_wise:
            h = ChannelWiseDense(use_bias=bias, name="channel_wise")(h)
        h = nn.Conv(w[-1], (1, 1), use_bias=bias, kernel_init=weight_init, name="mix")(h)
        h = normalize(h, norm, train, self.axis_name, "mix_norm")
        for i in reversed(range(depth)):
            h = nn.relu(h)
            last = i == 0
            h = ConvTranspose2D(self.out_channels if last else w[i - 1], use_bias=bias or last,
                                impl=self.conv_impl, name=f"up{i}")(h)
            if not last:
                h = normalize(h, norm, train, self.axis_name, f"up{i}_norm")
        return jnp.tanh(h[:, before:before + side, before:before + side])


class ContextDiscriminator(nn.Module):
    """[B, H, W, C] -> logits [B, 1]."""
    width: int = 64
    norm: str = "batch"
    conv_impl: str = "fast"
    axis_name: Optional[str] = "batch"

    @nn.compact
    def __call__(self, x, train: bool = False):
        if x.ndim != 4:
            raise GanJaxError(f"the context discriminator takes NHWC images, got {tuple(x.shape)}")
        norm = check_norm(self.norm)
        h, i = x, 0
        while i == 0 or max(h.shape[1:3]) > BOTTLENECK:
            h = StridedConv4x4(self.width * min(2 ** i, 8), use_bias=norm == "none" or i == 0,
                               impl=self.conv_impl, name=f"conv{i}")(h)
            if i > 0:
                h = normalize(h, norm, train, self.axis_name, f"norm{i}")
            h = nn.leaky_relu(h, 0.2)
            i += 1
        return nn.Dense(1, kernel_init=weight_init, name="logit")(h.reshape(h.shape[0], -1))


def generator(config, info):
    """The context encoder of model.* for images of `info` (field 'x')."""
    m = config.model
    shape = info.shape_of("x")
    depth_for(shape[0])
    return ContextEncoder(out_channels=shape[-1], width=m.g_width, norm=m.norm,
                          conv_impl=m.conv_impl)


def discriminator(config, info):
    m = config.model
    return ContextDiscriminator(width=m.d_width, norm=m.norm, conv_impl=m.conv_impl)


def has_batch_norm(config, player: str) -> bool:
    return config.model.norm == "batch"
