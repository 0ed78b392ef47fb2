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

Class conditioning (`num_classes` > 0; the conditional GAN family): G joins the label's one-hot,
scaled by sqrt(latent_dim), to z before the projection (z ~ N(0, I) has norm ~ sqrt(latent_dim),
so the label weighs as much as the noise: each class adds its own 7x7 map to every channel of
the first feature map); D either concatenates a learned per-class image-sized map (initialised
N(0, 1), the images' scale) to its input as an extra channel (`conditioning='concat'`) or adds
the projection term <embed(y), phi(x)> of Miyato & Koyama (2018) to its logit, phi(x) being D's
last feature map summed over space (`conditioning='projection'`). With `num_classes=0` the
networks are the plain DCGAN. (Measured on the offline digits, widths 32, 2,000 steps with an
EMA of G: the unscaled one-hot gave samples of 81 % class accuracy, the scaled one 91 %; an
earlier design, a learned per-class 7x7 map concatenated after the projection, was still at
chance, 11 %, after 1,000 steps.)

D's options for the loss zoo: `norm` (BatchNorm by default; 'layer' or 'none' for a WGAN-GP
critic, whose per-example gradient penalty BatchNorm would mix across the batch) and
`spectral_norm` (every convolution spectrally normalised, Miyato et al. 2018).
"""
from typing import Optional, Sequence, Tuple

import flax.linen as nn
import jax.numpy as jnp

from gan_jax.errors import GanJaxError
from gan_jax.nets.layers import (CONDITIONINGS, ConvTranspose2D, StridedConv4x4, check_label,
                                 check_norm, label_input, normalize, spectral, weight_init)
from gan_jax.nets.progressive_layers import minibatch_stddev
from gan_jax.ops.choice import CONV_IMPLS, check_impl, resolve_impl  # noqa: F401 (re-exported)

IMAGE_SIZES = (28, 32, 64)
COMPUTE_DTYPES = ("float32", "bfloat16")
label_init = nn.initializers.normal(stddev=1.0)   # D's per-class map: on the images' scale


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


class DCGANGenerator(nn.Module):
    """z [B, latent] (and labels [B] when conditional) -> images [B, H, W, C] in [-1, 1] (tanh)."""
    image_shape: Sequence[int]          # (H, W, C), H == W in IMAGE_SIZES
    base_width: int = 64                # width of the last hidden stage; doubles per stage back
    conv_impl: str = "fast"             # per layer, see gan_jax.ops.choice; or one of CONV_IMPLS
    axis_name: Optional[str] = "batch"  # BatchNorm statistics are averaged over this device axis
    compute_dtype: str = "float32"      # | bfloat16: activations and GEMMs (see module doc)
    num_classes: int = 0                # > 0: conditioned on a class label

    @nn.compact
    def __call__(self, z, train: bool = True, label=None):
        start, n = check_image_shape(self.image_shape, "DCGANGenerator image_shape")
        dtype = resolve_dtype(self.compute_dtype)
        check_impl(self.conv_impl)
        if z.ndim != 2:
            raise GanJaxError(f"DCGANGenerator takes latent vectors [B, latent_dim], got shape "
                              f"{tuple(z.shape)}.")
        label = check_label(label, self.num_classes, z.shape[0], "DCGANGenerator")
        width = self.base_width * 2 ** (n - 1)
        if label is not None:       # joined to z, weighing as much as z (see the module doc)
            z = jnp.concatenate([z, label_input(label, self.num_classes, z.shape[-1], z.dtype)],
                                -1)
        h = nn.Dense(start * start * width, use_bias=False, kernel_init=weight_init,
                     dtype=dtype, name="project")(z)
        h = h.reshape((z.shape[0], start, start, width))
        h = nn.relu(normalize(h, "batch", train, self.axis_name, "bn_project"))
        for i in range(n - 1):
            width //= 2
            h = ConvTranspose2D(width, use_bias=False, impl=self.conv_impl, name=f"deconv_{i}")(h)
            h = nn.relu(normalize(h, "batch", train, self.axis_name, f"bn_{i}"))
        h = ConvTranspose2D(self.image_shape[-1], use_bias=True, impl=self.conv_impl,
                            name="deconv_out")(h)
        return jnp.tanh(h).astype(jnp.float32)


class DCGANDiscriminator(nn.Module):
    """images [B, H, W, C] (H == W in IMAGE_SIZES, values in [-1, 1]), and labels [B] when
    conditional -> one logit per example [B]. D(x) = sigmoid(logit)."""
    base_width: int = 64
    axis_name: Optional[str] = "batch"
    conv_impl: str = "fast"             # per layer, see gan_jax.ops.choice; or one of CONV_IMPLS
    compute_dtype: str = "float32"      # | bfloat16: activations and GEMMs (see module doc)
    norm: str = "batch"                 # after every conv but the first: batch | layer | none
    spectral_norm: bool = False         # spectrally normalise every convolution
    num_classes: int = 0                # > 0: conditioned on a class label
    conditioning: str = "concat"        # concat | projection (when conditional)
    mbstd_group: int = 0                # > 0: minibatch standard deviation before the logit

    @nn.compact
    def __call__(self, x, train: bool = True, label=None):
        dtype = resolve_dtype(self.compute_dtype)
        check_norm(self.norm)
        if x.ndim != 4:
            raise GanJaxError(f"DCGANDiscriminator takes images [B, H, W, C], got shape "
                              f"{tuple(x.shape)}.")
        if not jnp.issubdtype(x.dtype, jnp.floating):
            raise GanJaxError(f"DCGANDiscriminator takes float images in [-1, 1], got dtype "
                              f"{x.dtype}; scale uint8 data with x / 127.5 - 1.")
        if self.conditioning not in CONDITIONINGS:
            raise GanJaxError(f"unknown conditioning {self.conditioning!r}; valid: "
                              f"{CONDITIONINGS}")
        _, n = check_image_shape(x.shape[1:], "DCGANDiscriminator input image shape")
        label = check_label(label, self.num_classes, x.shape[0], "DCGANDiscriminator")
        h = x.astype(dtype)
        if label is not None and self.conditioning == "concat":
            side = x.shape[1]
            maps = nn.Embed(self.num_classes, side * side, embedding_init=label_init,
                            name="label_maps")(label)
            h = jnp.concatenate([h, maps.reshape((x.shape[0], side, side, 1)).astype(dtype)], -1)
        for i in range(n):
            first = i == 0
            conv = StridedConv4x4(self.base_width * 2 ** i, use_bias=first or self.norm == "none",
                                  impl=self.conv_impl, name=f"conv_{i}")
            h = spectral(conv, self.spectral_norm, train)(h)
            if not first:
                name = f"bn_{i}" if self.norm == "batch" else f"{self.norm}_norm_{i}"
                h = normalize(h, self.norm, train, self.axis_name, name)
            h = nn.leaky_relu(h, negative_slope=0.2)
        if self.mbstd_group:
            h = minibatch_stddev(h, self.mbstd_group)
        logit_layer = nn.Conv(1, h.shape[1:3], padding="VALID", kernel_init=weight_init,
                              dtype=dtype, name="logit")            # covers the remaining 4x4 (7x7)
        logit = spectral(logit_layer, self.spectral_norm, train)(h).reshape((x.shape[0],))
        if label is not None and self.conditioning == "projection":
            phi = h.astype(jnp.float32).sum(axis=(1, 2))                    # [B, C]
            embed = nn.Embed(self.num_classes, phi.shape[-1], embedding_init=weight_init,
                             name="label_projection")(label)
            logit = logit.astype(jnp.float32) + jnp.sum(embed * phi, axis=-1)
        return logit.astype(jnp.float32)


def generator(config, info, num_classes: int = 0):
    """G of model.* (g_width, conv_impl, compute_dtype) for image data `info`."""
    m = config.model
    _check_images(info)
    return DCGANGenerator(image_shape=tuple(info.example_shape), base_width=m.g_width,
                          conv_impl=m.conv_impl, compute_dtype=m.compute_dtype,
                          num_classes=num_classes)


def discriminator(config, info, num_classes: int = 0, conditioning: str = "concat"):
    """D of model.* (d_width, conv_impl, compute_dtype, d_norm, spectral_norm)."""
    m = config.model
    _check_images(info)
    return DCGANDiscriminator(base_width=m.d_width, conv_impl=m.conv_impl,
                              compute_dtype=m.compute_dtype, norm=m.d_norm,
                              spectral_norm=m.spectral_norm, num_classes=num_classes,
                              conditioning=conditioning, mbstd_group=m.mbstd_group)


def has_batch_norm(config, player: str) -> bool:
    """Whether G ('g') or D ('d') normalises over the batch."""
    return player == "g" or config.model.d_norm == "batch"


def _check_images(info):
    if info.kind != "image":
        raise GanJaxError(f"model.arch='dcgan' needs image data, got data.name {info.name!r}; "
                          "use arch 'mlp' for the toy distributions")
