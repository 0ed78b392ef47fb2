"""The Pix2Pix generator: a U-Net (Isola et al. 2017, sec. 3.1.1 and appendix 6.1.1), and the
same network without its skips, the encoder-decoder of the paper's ablation.

Encoder C64-C128-C256-C512-C512-C512-C512-C512 (Ck: 4x4 convolution, stride 2, k filters, then
normalisation, LeakyReLU 0.2 before every convolution but the first; no normalisation on the
first layer nor on the innermost, 1x1 one). Decoder mirrored: ReLU, 4x4 transposed convolution
with stride 2, normalisation, and dropout 0.5 in the first three decoder blocks (CD512-CD512-
CD512-C512-C256-C128-C64, the paper's appendix); the last block maps to the output's channels
with a tanh. The U-Net joins encoder layer i to decoder layer n - i (channel concatenation)
before each transposed convolution. Convolutions followed by a normalisation have no bias.

Depth is chosen from the image side: side = 2**depth (the innermost feature map is 1x1), so
256x256 images give the paper's `unet_256` (depth 8), 128x128 `unet_128` (7), and smaller images
shallower nets (32x32: 5). Widths double from `width` up to 8 x `width` (64 -> 512).

Dropout is the generator's noise (the paper: "we provide noise only in the form of dropout"). Its
masks come from explicit keys, one per example (`noise_keys` [B]: fold_in(key, index) in the
family), so a batch split over devices draws the same masks; `noise_keys=None` turns it off (the
default at test time; `model.test_dropout` keeps it on, as the paper does).

The 4x4 stride-2 (transposed) convolutions use the fast CPU forms of `gan_jax.ops.choice`
(`model.conv_impl`). Weights N(0, 0.02).
"""
import math
from typing import Optional

import flax.linen as nn
import jax.numpy as jnp

from gan_jax.errors import GanJaxError
from gan_jax.nets.layers import (ConvTranspose2D, StridedConv4x4, check_norm, keyed_dropout,
                                 normalize)

DROPOUT_BLOCKS = 3          # decoder blocks with dropout (the paper's CD512 x 3)


def depth_for(side: int) -> int:
    """The U-Net depth for square images of `side` (a power of two >= 4): log2(side)."""
    depth = int(round(math.log2(side))) if side > 0 else 0
    if side < 4 or 2 ** depth != side:
        raise GanJaxError(f"the U-Net needs square images whose side is a power of two >= 4 "
                          f"(e.g. 128 or 256: the innermost layer is 1x1), got side {side}; "
                          "crop or resize the data (data.image_size)")
    return depth


def widths(depth: int, width: int) -> list:
    """Encoder widths: width, 2 width, 4 width, 8 width, 8 width, ..."""
    return [width * min(2 ** i, 8) for i in range(depth)]


class UNet(nn.Module):
    """[B, H, W, C_in] in [-1, 1] -> [B, H, W, out_channels] in (-1, 1)."""
    out_channels: int
    width: int = 64
    norm: str = "batch"
    skips: bool = True             # False: the encoder-decoder of the ablation
    dropout: float = 0.5
    conv_impl: str = "fast"
    axis_name: Optional[str] = "batch"   # BatchNorm statistics averaged over this device axis

    @nn.compact
    def __call__(self, x, train: bool = False, noise_keys=None):
        if x.ndim != 4 or x.shape[1] != x.shape[2]:
            raise GanJaxError(f"the U-Net takes square NHWC images [B, H, H, C], got "
                              f"{tuple(x.shape)}")
        depth = depth_for(x.shape[1])
        norm = check_norm(self.norm)
        w = widths(depth, self.width)
        bias = norm == "none"
        down = []
        h = x
        for i in range(depth):
            if i > 0:
                h = nn.leaky_relu(h, 0.2)
            inner = 0 < i < depth - 1
            h = StridedConv4x4(w[i], use_bias=bias or not inner, impl=self.conv_impl,
                               name=f"down{i}")(h)
            if inner:
                h = normalize(h, norm, train, self.axis_name, f"down{i}_norm")
            down.append(h)
        for i in reversed(range(depth)):            # decoder block i mirrors encoder layer i
            if i < depth - 1 and self.skips:
                h = jnp.concatenate([h, down[i]], axis=-1)
            h = nn.relu(h)
            last = i == 0
            h = ConvTranspose2D(self.out_channels if last else w[i - 1], use_bias=bias or last,
                                impl=self.conv_impl, name=f"up{i}")(h)
            if last:
                return jnp.tanh(h)
            h = normalize(h, norm, train, self.axis_name, f"up{i}_norm")
            if depth - 1 - i < DROPOUT_BLOCKS:
                h = keyed_dropout(h, self.dropout, noise_keys, salt=i)


def generator(config, info, skips: bool = True):
    """The U-Net of model.* (g_width, norm, dropout, conv_impl) for paired data `info`: input
    channels of field 'a', output channels of field 'b'."""
    _check_paired(info, "unet" if skips else "encoder_decoder")
    m = config.model
    depth_for(info.shape_of("a")[0])
    return UNet(out_channels=info.shape_of("b")[-1], width=m.g_width, norm=m.norm, skips=skips,
                dropout=m.dropout, conv_impl=m.conv_impl)


def has_batch_norm(config, player: str) -> bool:
    return config.model.norm == "batch"


def _check_paired(info, arch):
    if "a" not in info.fields or "b" not in info.fields:
        raise GanJaxError(f"model.arch={arch!r} translates image pairs (fields 'a' -> 'b'); the "
                          f"data {info.name!r} has fields {info.fields} (use a paired data set: "
                          "digit_scenes, photo_edges, photo_colour, paired_folder)")
