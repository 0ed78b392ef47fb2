"""The Pix2Pix discriminator: PatchGAN (Isola et al. 2017, sec. 3.2.2 and appendix 6.1.2), which
classifies every N x N patch of an image as real or fake and outputs a map of logits.

`n_layers` >= 1 (the official code's NLayerDiscriminator): C64 (4x4 convolution, stride 2, no
normalisation), then n_layers - 1 more stride-2 convolutions doubling the width (capped at 8 x
64), then one stride-1 4x4 convolution (width doubled again, capped) and a stride-1 4x4
convolution to 1 channel; LeakyReLU 0.2 after every hidden layer, normalisation after every one
but the first. The patch it sees, its receptive field, grows with n_layers:
1 -> 16x16, 2 -> 34x34, 3 -> 70x70 (the paper's default), 4 -> 142x142, 5 -> 286x286 (the
paper's "ImageGAN" on 256x256 images). `n_layers` = 0 is the paper's 1x1 PixelGAN: 1x1
convolutions C64-C128-1. `receptive_field(n_layers)` computes the field from the layers' kernels
and strides; tests/nets/test_patchgan.py measures it as the set of input pixels that one output
logit's gradient reaches. Configs name the field: `model.patch` (1, 16, 34, 70, 142, 286).

D is conditional in Pix2Pix: it sees concat(input, output) (the family joins them).
"""
from typing import Optional

import flax.linen as nn

from gan_jax.errors import GanJaxError
from gan_jax.nets.layers import StridedConv4x4, check_norm, normalize, weight_init


def layer_geometry(n_layers: int):
    """(kernel, stride) of each layer of an n-layer PatchGAN, input to output."""
    if n_layers == 0:
        return [(1, 1)] * 3
    return [(4, 2)] * n_layers + [(4, 1), (4, 1)]


def receptive_field(n_layers: int) -> int:
    """The side of the input patch one output logit sees (1, 16, 34, 70, 142, 286 for n_layers
    0..5): r_out = 1, r_in = (r - 1) * stride + kernel, from the last layer back."""
    r = 1
    for kernel, stride in reversed(layer_geometry(n_layers)):
        r = (r - 1) * stride + kernel
    return r


PATCH_SIZES = {receptive_field(n): n for n in range(6)}     # {1: 0, 16: 1, ..., 286: 5}


def layers_for_patch(patch: int) -> int:
    if patch not in PATCH_SIZES:
        raise GanJaxError(f"model.patch={patch} is not a PatchGAN receptive field; valid: "
                          f"{sorted(PATCH_SIZES)} (1: PixelGAN, 70: the paper's default, 286: "
                          "ImageGAN on 256x256 images)")
    return PATCH_SIZES[patch]


class PatchGAN(nn.Module):
    """[B, H, W, C] -> logits [B, h, w, 1], one per patch."""
    n_layers: int = 3
    width: int = 64
    norm: str = "batch"
    conv_impl: str = "fast"
    axis_name: Optional[str] = "batch"

    @nn.compact
    def __call__(self, x, train: bool = False):
        norm = check_norm(self.norm)
        bias = norm == "none"

        def conv(h, features, kernel, stride, name, use_bias):
            pad = 0 if kernel == 1 else 1
            return nn.Conv(features, (kernel, kernel), strides=(stride, stride),
                           padding=((pad, pad), (pad, pad)), use_bias=use_bias,
                           kernel_init=weight_init, name=name)(h)

        if self.n_layers == 0:
            h = nn.leaky_relu(conv(x, self.width, 1, 1, "conv0", True), 0.2)
            h = normalize(conv(h, 2 * self.width, 1, 1, "conv1", bias), norm, train,
                          self.axis_name, "norm1")
            return conv(nn.leaky_relu(h, 0.2), 1, 1, 1, "logits", True)
        if min(x.shape[1], x.shape[2]) // 2 ** self.n_layers - 2 < 1:
            raise GanJaxError(f"a {self.n_layers}-layer PatchGAN (receptive field "
                              f"{receptive_field(self.n_layers)}) needs images of side >= "
                              f"{3 * 2 ** self.n_layers}, got {tuple(x.shape[1:3])}")
        h = nn.leaky_relu(StridedConv4x4(self.width, use_bias=True, impl=self.conv_impl,
                                         name="conv0")(x), 0.2)
        for n in range(1, self.n_layers):
            h = StridedConv4x4(self.width * min(2 ** n, 8), use_bias=bias, impl=self.conv_impl,
                               name=f"conv{n}")(h)
            h = nn.leaky_relu(normalize(h, norm, train, self.axis_name, f"norm{n}"), 0.2)
        n = self.n_layers
        h = conv(h, self.width * min(2 ** n, 8), 4, 1, f"conv{n}", bias)
        h = nn.leaky_relu(normalize(h, norm, train, self.axis_name, f"norm{n}"), 0.2)
        return conv(h, 1, 4, 1, "logits", True)


def discriminator(config, info):
    """The PatchGAN of model.* (patch, d_width, norm, conv_impl)."""
    m = config.model
    return PatchGAN(n_layers=layers_for_patch(int(m.patch)), width=m.d_width, norm=m.norm,
                    conv_impl=m.conv_impl)


def has_batch_norm(config, player: str) -> bool:
    return config.model.norm == "batch"
