"""Feature networks for the sample-quality metrics, behind one interface.

An extractor is a callable `extract(images) -> Features` where `images` are NHWC float32 in
[-1, 1] (the models' range; `gan_jax.pixels.to_model_range` converts uint8). It runs a
jitted network in fixed-size batches (the last one padded, so one compile serves any N) and
returns numpy arrays:

- `features`: [N, F] float32, the embedding the Fréchet distance, KID, precision/recall and
  density/coverage compare (Inception's 2048-d pool3; the MNIST LeNet's penultimate layer);
- `logits`: [N, C] float32, the class logits the Inception Score (or "MNIST score") uses.

Extractors: `gan_jax.metrics.features.lenet` (MNIST digits, weights shipped in the package) and
`gan_jax.metrics.features.inception` (InceptionV3 of FID, weights from a local file).
"""
from typing import NamedTuple

import numpy as np


class Features(NamedTuple):
    features: np.ndarray   # [N, F] float32
    logits: np.ndarray     # [N, C] float32
