"""InceptionV3 as used for FID: the 2015-12-05 TensorFlow Inception graph, as ported to PyTorch
by pytorch-fid, as a Flax module with its weight loader and a batched feature extractor.

The network (`InceptionV3`) is torchvision's Inception3 layout with pytorch-fid's FID patches:
each conv is `BasicConv2d` (conv without bias, BatchNorm with eps 0.001 and running statistics,
ReLU); the pooling branches of the Mixed_5b-d (A), Mixed_6b-e (C) and Mixed_7b (E) blocks are
3x3 average pools that ignore the zero padding (TensorFlow's behaviour, `count_include_pad=False`)
and Mixed_7c's pool branch is a 3x3 *max* pool (a quirk of that graph). After Mixed_7c a global
average pool gives `pool3`, the 2048-d features of FID, and `fc` (2048 -> 1008, the 2015 graph's
1008 classes: 1000 ImageNet classes and 8 unused) gives the class logits. NHWC, inference only.

Input convention (`inception_extractor.InceptionExtractor`, `preprocess`):
- images NHWC float32 in [-1, 1], any height and width, with 3 channels or 1 (grey, repeated
  to 3); uint8 images in [0, 255] go through `to_model_range` (x / 127.5 - 1, from
  gan_jax.pixels and importable from here) first;
- resized to 299x299 exactly as pytorch-fid does, `F.interpolate(mode='bilinear',
  align_corners=False)`: half-pixel centres (source coordinate (i + 0.5) * in / out - 0.5,
  clamped at 0), two-tap linear interpolation, and NO antialiasing, even when shrinking
  (`resize_bilinear`). pytorch-fid resizes images in [0, 1] and then maps them to [-1, 1];
  bilinear resizing is a convex combination of pixels, so it commutes with that affine map and
  resizing in [-1, 1] gives the same result (to float rounding).
- TTUR's original TensorFlow FID code feeds [0, 255] images to the 2015 graph, which resizes
  them with TF1's `ResizeBilinear` (`tf.image.resize_bilinear`: no half-pixel centres, source
  coordinate i * in / out, so the image is sampled at slightly shifted positions) and then
  normalises with (x - 128) / 128 rather than x / 127.5 - 1. Its numbers can therefore differ
  slightly from pytorch-fid's and these (torch-fidelity reproduces the TF path instead).

Outputs (`inception_extractor.InceptionExtractor.__call__ -> Features`):
- `features`: pool3, [N, 2048] float32, as pytorch-fid's FID (and TTUR's);
- `logits`: [N, 1008] float32. By default `pool3 @ W` WITHOUT the fc bias, which is what the
  original Inception Score code computes (openai/improved-gan `inception_score/model.py`
  multiplies pool3 by the weight of the graph's `softmax/logits/MatMul`, skipping the bias) and
  what torch-fidelity's `logits_unbiased` reproduces; `logits_bias=True` gives the fc layer's full
  output `pool3 @ W + b` (the graph's `softmax/logits`, pytorch-fid's `fc`). The Inception
  Score uses softmax(logits) over all 1008 classes.

Weights (`inception_weights.py`): pytorch-fid's file `pt_inception-2015-12-05-6726825d.pth` (a
torch state dict, read here without torch by `torch_pickle`), or an `.npz` with the same keys
made by

    python -m gan_jax.metrics.features.inception_weights convert IN.pth OUT.npz

gan_jax never downloads them. It looks, in order, at: the explicit `path` argument, the
environment variable GAN_JAX_INCEPTION_WEIGHTS, then
~/.cache/gan_jax/pt_inception-2015-12-05-6726825d.pth. Get the file from
https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth

Convolutions run at `lax.Precision.HIGHEST` by default, so results do not depend on the device
(on recent GPUs the default precision can use TF32 for float32 convolutions, which keeps only
about 3 significant digits).
"""
import functools
import os
from typing import Optional, Tuple, Union

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.pixels import to_model_range  # noqa: F401 (re-exported)

PathLike = Union[str, os.PathLike]


INPUT_SIZE = 299          # the network's input side
NUM_FEATURES = 2048       # pool3
NUM_CLASSES = 1008        # the 2015 graph's softmax
BN_EPSILON = 1e-3
DEFAULT_BATCH_SIZE = 50

Pad = Tuple[Tuple[int, int], Tuple[int, int]]
_NO_PAD: Pad = ((0, 0), (0, 0))


# ---------------------------------------------------------------------------------------------
# The network.

class BasicConv2d(nn.Module):
    """conv (no bias) -> BatchNorm (running statistics, eps 0.001) -> ReLU."""
    features: int
    kernel: Tuple[int, int]
    strides: Tuple[int, int] = (1, 1)
    padding: Pad = _NO_PAD
    precision: Optional[jax.lax.Precision] = jax.lax.Precision.HIGHEST

    @nn.compact
    def __call__(self, x):
        x = nn.Conv(self.features, self.kernel, self.strides, self.padding, use_bias=False,
                    precision=self.precision, kernel_init=nn.initializers.zeros, name="conv")(x)
        x = nn.BatchNorm(use_running_average=True, epsilon=BN_EPSILON, name="bn")(x)
        return nn.relu(x)


def _same(kh: int, kw: int) -> Pad:
    """Zero padding that keeps the size of a stride-1 (kh, kw) conv (odd kernels)."""
    return ((kh // 2, kh // 2), (kw // 2, kw // 2))


def _avg_pool_3x3(x):
    """3x3, stride 1, padding 1, averaging only over the pixels inside the image (TF)."""
    return nn.avg_pool(x, (3, 3), (1, 1), ((1, 1), (1, 1)), count_include_pad=False)


def _max_pool_3x3_s2(x):
    return nn.max_pool(x, (3, 3), (2, 2), "VALID")


class InceptionA(nn.Module):
    """Mixed_5b/c/d at 35x35: 1x1 | 1x1-5x5 | 1x1-3x3-3x3 | avgpool-1x1 (pool_features)."""
    pool_features: int
    precision: Optional[jax.lax.Precision] = jax.lax.Precision.HIGHEST

    @nn.compact
    def __call__(self, x):
        conv = functools.partial(BasicConv2d, precision=self.precision)
        b1 = conv(64, (1, 1), name="branch1x1")(x)
        b5 = conv(48, (1, 1), name="branch5x5_1")(x)
        b5 = conv(64, (5, 5), padding=_same(5, 5), name="branch5x5_2")(b5)
        b3 = conv(64, (1, 1), name="branch3x3dbl_1")(x)
        b3 = conv(96, (3, 3), padding=_same(3, 3), name="branch3x3dbl_2")(b3)
        b3 = conv(96, (3, 3), padding=_same(3, 3), name="branch3x3dbl_3")(b3)
        bp = conv(self.pool_features, (1, 1), name="branch_pool")(_avg_pool_3x3(x))
        return jnp.concatenate([b1, b5, b3, bp], axis=-1)


class InceptionB(nn.Module):
    """Mixed_6a, 35x35 -> 17x17: 3x3/2 | 1x1-3x3-3x3/2 | maxpool/2."""
    precision: Optional[jax.lax.Precision] = jax.lax.Precision.HIGHEST

    @nn.compact
    def __call__(self, x):
        conv = functools.partial(BasicConv2d, precision=self.precision)
        b3 = conv(384, (3, 3), strides=(2, 2), name="branch3x3")(x)
        bd = conv(64, (1, 1), name="branch3x3dbl_1")(x)
        bd = conv(96, (3, 3), padding=_same(3, 3), name="branch3x3dbl_2")(bd)
        bd = conv(96, (3, 3), strides=(2, 2), name="branch3x3dbl_3")(bd)
        return jnp.concatenate([b3, bd, _max_pool_3x3_s2(x)], axis=-1)


class InceptionC(nn.Module):
    """Mixed_6b-e at 17x17, factorised 7x7 convs: 1x1 | 1x1-1x7-7x1 | 1x1-7x1-1x7-7x1-1x7 |
    avgpool-1x1; `channels_7x7` wide inside the 7x7 branches."""
    channels_7x7: int
    precision: Optional[jax.lax.Precision] = jax.lax.Precision.HIGHEST

    @nn.compact
    def __call__(self, x):
        conv = functools.partial(BasicConv2d, precision=self.precision)
        c7 = self.channels_7x7
        b1 = conv(192, (1, 1), name="branch1x1")(x)
        b7 = conv(c7, (1, 1), name="branch7x7_1")(x)
        b7 = conv(c7, (1, 7), padding=_same(1, 7), name="branch7x7_2")(b7)
        b7 = conv(192, (7, 1), padding=_same(7, 1), name="branch7x7_3")(b7)
        bd = conv(c7, (1, 1), name="branch7x7dbl_1")(x)
        bd = conv(c7, (7, 1), padding=_same(7, 1), name="branch7x7dbl_2")(bd)
        bd = conv(c7, (1, 7), padding=_same(1, 7), name="branch7x7dbl_3")(bd)
        bd = conv(c7, (7, 1), padding=_same(7, 1), name="branch7x7dbl_4")(bd)
        bd = conv(192, (1, 7), padding=_same(1, 7), name="branch7x7dbl_5")(bd)
        bp = conv(192, (1, 1), name="branch_pool")(_avg_pool_3x3(x))
        return jnp.concatenate([b1, b7, bd, bp], axis=-1)


class InceptionD(nn.Module):
    """Mixed_7a, 17x17 -> 8x8: 1x1-3x3/2 | 1x1-1x7-7x1-3x3/2 | maxpool/2."""
    precision: Optional[jax.lax.Precision] = jax.lax.Precision.HIGHEST

    @nn.compact
    def __call__(self, x):
        conv = functools.partial(BasicConv2d, precision=self.precision)
        b3 = conv(192, (1, 1), name="branch3x3_1")(x)
        b3 = conv(320, (3, 3), strides=(2, 2), name="branch3x3_2")(b3)
        b7 = conv(192, (1, 1), name="branch7x7x3_1")(x)
        b7 = conv(192, (1, 7), padding=_same(1, 7), name="branch7x7x3_2")(b7)
        b7 = conv(192, (7, 1), padding=_same(7, 1), name="branch7x7x3_3")(b7)
        b7 = conv(192, (3, 3), strides=(2, 2), name="branch7x7x3_4")(b7)
        return jnp.concatenate([b3, b7, _max_pool_3x3_s2(x)], axis=-1)


class InceptionE(nn.Module):
    """Mixed_7b/c at 8x8, expanded filter banks: 1x1 | 1x1-(1x3, 3x1) | 1x1-3x3-(1x3, 3x1) |
    pool-1x1. The pool is a 3x3 average (padding ignored) in Mixed_7b and a 3x3 *max* pool in
    Mixed_7c (`max_pool=True`), as in the 2015 graph (pytorch-fid's FIDInceptionE_1/_2)."""
    max_pool: bool = False
    precision: Optional[jax.lax.Precision] = jax.lax.Precision.HIGHEST

    @nn.compact
    def __call__(self, x):
        conv = functools.partial(BasicConv2d, precision=self.precision)
        b1 = conv(320, (1, 1), name="branch1x1")(x)
        b3 = conv(384, (1, 1), name="branch3x3_1")(x)
        b3 = jnp.concatenate([
            conv(384, (1, 3), padding=_same(1, 3), name="branch3x3_2a")(b3),
            conv(384, (3, 1), padding=_same(3, 1), name="branch3x3_2b")(b3)], axis=-1)
        bd = conv(448, (1, 1), name="branch3x3dbl_1")(x)
        bd = conv(384, (3, 3), padding=_same(3, 3), name="branch3x3dbl_2")(bd)
        bd = jnp.concatenate([
            conv(384, (1, 3), padding=_same(1, 3), name="branch3x3dbl_3a")(bd),
            conv(384, (3, 1), padding=_same(3, 1), name="branch3x3dbl_3b")(bd)], axis=-1)
        if self.max_pool:
            pooled = nn.max_pool(x, (3, 3), (1, 1), ((1, 1), (1, 1)))
        else:
            pooled = _avg_pool_3x3(x)
        bp = conv(192, (1, 1), name="branch_pool")(pooled)
        return jnp.concatenate([b1, b3, bd, bp], axis=-1)


class Logits(nn.Module):
    """The fc layer (2048 -> 1008), torch's `fc`; applies its bias only if `use_bias`."""
    use_bias: bool = False
    precision: Optional[jax.lax.Precision] = jax.lax.Precision.HIGHEST

    @nn.compact
    def __call__(self, x):
        kernel = self.param("kernel", nn.initializers.zeros, (x.shape[-1], NUM_CLASSES))
        bias = self.param("bias", nn.initializers.zeros, (NUM_CLASSES,))
        y = jnp.dot(x, kernel, precision=self.precision)
        return y + bias if self.use_bias else y


class InceptionV3(nn.Module):
    """The FID InceptionV3 on [N, 299, 299, 3] images in [-1, 1] -> (pool3 [N, 2048],
    logits [N, 1008]). Submodule and parameter names follow pytorch-fid's state dict. The
    initialisers are zeros (cheap to trace): the weights always come from `load_inception_params`.
    """
    logits_bias: bool = False
    precision: Optional[jax.lax.Precision] = jax.lax.Precision.HIGHEST

    @nn.compact
    def __call__(self, x):
        p = self.precision
        conv = functools.partial(BasicConv2d, precision=p)
        x = conv(32, (3, 3), strides=(2, 2), name="Conv2d_1a_3x3")(x)        # 149x149x32
        x = conv(32, (3, 3), name="Conv2d_2a_3x3")(x)                         # 147x147x32
        x = conv(64, (3, 3), padding=_same(3, 3), name="Conv2d_2b_3x3")(x)    # 147x147x64
        x = _max_pool_3x3_s2(x)                                               # 73x73x64
        x = conv(80, (1, 1), name="Conv2d_3b_1x1")(x)                         # 73x73x80
        x = conv(192, (3, 3), name="Conv2d_4a_3x3")(x)                        # 71x71x192
        x = _max_pool_3x3_s2(x)                                               # 35x35x192
        x = InceptionA(32, p, name="Mixed_5b")(x)                             # 35x35x256
        x = InceptionA(64, p, name="Mixed_5c")(x)                             # 35x35x288
        x = InceptionA(64, p, name="Mixed_5d")(x)                             # 35x35x288
        x = InceptionB(p, name="Mixed_6a")(x)                                 # 17x17x768
        x = InceptionC(128, p, name="Mixed_6b")(x)
        x = InceptionC(160, p, name="Mixed_6c")(x)
        x = InceptionC(160, p, name="Mixed_6d")(x)
        x = InceptionC(192, p, name="Mixed_6e")(x)                            # 17x17x768
        x = InceptionD(p, name="Mixed_7a")(x)                                 # 8x8x1280
        x = InceptionE(False, p, name="Mixed_7b")(x)                          # 8x8x2048
        x = InceptionE(True, p, name="Mixed_7c")(x)                           # 8x8x2048
        pool3 = jnp.mean(x, axis=(1, 2))                                      # 2048
        return pool3, Logits(self.logits_bias, p, name="fc")(pool3)


# ---------------------------------------------------------------------------------------------
# Resizing, as torch.nn.functional.interpolate(mode='bilinear', align_corners=False).

def interpolation_matrix(in_size: int, out_size: int) -> np.ndarray:
    """[out_size, in_size] float32 weights of 1-D linear interpolation as PyTorch's
    `align_corners=False`: output i reads source coordinate s = (i + 0.5) * in / out - 0.5,
    clamped below at 0, and mixes pixels floor(s) and floor(s) + 1 (the last pixel repeats at
    the edge) with weights 1 - frac(s) and frac(s). Two taps whatever the scale: no antialias.
    Weights are computed in float64 and rounded once."""
    scale = in_size / out_size
    src = np.maximum((np.arange(out_size) + 0.5) * scale - 0.5, 0.0)
    lo = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    hi = np.minimum(lo + 1, in_size - 1)
    frac = src - lo
    m = np.zeros((out_size, in_size), np.float64)
    rows = np.arange(out_size)
    np.add.at(m, (rows, lo), 1.0 - frac)
    np.add.at(m, (rows, hi), frac)
    return m.astype(np.float32)


def resize_bilinear(images, size: Tuple[int, int] = (INPUT_SIZE, INPUT_SIZE)):
    """[N, H, W, C] -> [N, size[0], size[1], C] bilinear, exactly as pytorch-fid's
    `F.interpolate(x, size, mode='bilinear', align_corners=False)` (no antialias); an axis that
    already has its size is left untouched. Separable: two matrix products (jit-friendly)."""
    _, h, w, _ = images.shape
    x = images
    if h != size[0]:
        x = jnp.einsum("oh,nhwc->nowc", interpolation_matrix(h, size[0]), x,
                       precision=jax.lax.Precision.HIGHEST)
    if w != size[1]:
        x = jnp.einsum("pw,nhwc->nhpc", interpolation_matrix(w, size[1]), x,
                       precision=jax.lax.Precision.HIGHEST)
    return x


def preprocess(images):
    """[N, H, W, 1 or 3] in [-1, 1] -> [N, 299, 299, 3] network input (resize, grey -> RGB).
    Grey images are resized first and repeated after: the same numbers, a third of the work."""
    x = resize_bilinear(jnp.asarray(images, jnp.float32))
    if x.shape[-1] == 1:
        x = jnp.repeat(x, 3, axis=-1)
    return x
