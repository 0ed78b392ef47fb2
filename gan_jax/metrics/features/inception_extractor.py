"""The FID InceptionV3 as a feature extractor: images in [-1, 1] -> pool3 features and logits.

The network is `gan_jax.metrics.features.inception` (pytorch-fid's port of the 2015 graph, with
its input convention and resize); its weights come from `inception_weights` (a local file, never
downloaded).
"""
from typing import Optional

import jax
import numpy as np

from gan_jax.errors import GanJaxError
from gan_jax.metrics.features import Features
from gan_jax.metrics.features.inception import (DEFAULT_BATCH_SIZE, NUM_CLASSES, NUM_FEATURES,
                                                InceptionV3, PathLike, preprocess)
from gan_jax.metrics.features.inception_weights import load_inception_params
from gan_jax.pixels import check_images


def check_inception_input(images) -> np.ndarray:
    """Concrete NHWC float images in [-1, 1] with 1 or 3 channels -> float32 numpy, or
    GanJaxError saying what is wrong (rank, channels, dtype, range, non-finite values)."""
    images = np.asarray(images)          # one copy to the host for device arrays
    shape = images.shape
    if len(shape) != 4 or shape[-1] not in (1, 3):
        hint = ""
        if len(shape) == 4 and shape[1] in (1, 3):
            hint = ": looks like NCHW, use x.transpose(0, 2, 3, 1)"
        elif len(shape) == 3 and shape[-1] not in (1, 3):
            hint = ": for grey images add the channel axis with x[..., None]"
        elif len(shape) == 3:
            hint = ": add the batch axis with x[None]"
        raise GanJaxError(f"InceptionV3 takes images [N, H, W, C] (NHWC) with C = 1 (grey) or "
                          f"3 (RGB), got shape {shape}{hint}")
    if shape[1] < 1 or shape[2] < 1:
        raise GanJaxError(f"images have shape {shape}: height and width must be at least 1")
    check_images(images, shape[1:])      # non-empty, float dtype, finite, range [-1, 1]
    return images.astype(np.float32, copy=False)


class InceptionExtractor:
    """`extract(images) -> Features(features=pool3 [N, 2048], logits=[N, 1008])` for NHWC float
    images in [-1, 1] of any size with 1 or 3 channels (see the module docstring).

    Images run in batches of `batch_size` (the last one zero-padded), so the network compiles
    once for any N and any image size; the resize compiles once per input shape. `path`: the
    weights (see `resolve_weights_path`); `variables`: already loaded Flax variables instead.
    `logits_bias`: add fc's bias to the logits (default: no bias, as the original IS code).
    """

    def __init__(self, path: Optional[PathLike] = None, batch_size: int = DEFAULT_BATCH_SIZE,
                 *, variables: Optional[dict] = None, logits_bias: bool = False,
                 precision: Optional[jax.lax.Precision] = jax.lax.Precision.HIGHEST):
        if int(batch_size) < 1:
            raise GanJaxError(f"batch_size must be a positive integer, got {batch_size}")
        self.batch_size = int(batch_size)
        if variables is None:
            variables = load_inception_params(path)
        self.variables = jax.device_put(variables)
        self.module = InceptionV3(logits_bias=logits_bias, precision=precision)
        self._network = jax.jit(self.module.apply)
        self._preprocess = jax.jit(preprocess)

    def __call__(self, images) -> Features:
        x = check_inception_input(images)
        n, b = len(x), self.batch_size
        padded = -(-n // b) * b
        if padded != n:
            x = np.concatenate([x, np.zeros((padded - n,) + x.shape[1:], x.dtype)])
        features = np.empty((padded, NUM_FEATURES), np.float32)
        logits = np.empty((padded, NUM_CLASSES), np.float32)
        pending = None     # fetch batch i - 1 after dispatching batch i: the device stays busy
        for start in range(0, padded + b, b):
            if start < padded:
                out = self._network(self.variables, self._preprocess(x[start:start + b]))
            if pending is not None:
                prev, (pool3, logit) = pending
                features[prev:prev + b], logits[prev:prev + b] = pool3, logit
            pending = (start, out) if start < padded else None
        return Features(features=features[:n], logits=logits[:n])
