"""Mode-collapse measure for Stacked MNIST (1,000 modes).

Data set (``gan_jax.data.stacked_mnist``): three MNIST digits stacked as the R, G, B channels of
a 28x28x3 image; an image's *mode* is the triple (r, g, b) of its channels' digit classes,
encoded as the integer ``100 r + 10 g + b`` in 0..999 (Metz et al., 2017, "Unrolled Generative
Adversarial Networks", Sec. 3.3.2; VEEGAN, Srivastava et al., 2017; PacGAN, Lin et al., 2018).

Statistics of N generated images, following VEEGAN and PacGAN (reference code: ``log_metrics``
in github.com/fjxmlzn/PacGAN, stacked_MNIST_experiments/VEEGAN_experiment/model.py):

* each channel of each image is classified on its own (as a 28x28x1 image in [-1, 1]) by a
  pretrained MNIST classifier, passed in as ``classify``; the image's mode is the triple of the
  three predicted classes. Every image counts: there is no quality threshold (unlike the 2-D
  mixtures of ``gan_jax.metrics.modes``), a poor image simply lands in whichever mode the
  classifier picks;
* ``modes_captured``: the number of the 1,000 modes hit by at least ``min_count`` images.
  **Default: min_count = 1**, the literature's convention ("modes captured" = distinct
  triples predicted; PacGAN's code counts the keys of the histogram). The papers use
  N = 26,000 images (VEEGAN, PacGAN; ``PAPER_NUM_SAMPLES``); Metz et al. used 25,600. Both
  numbers depend on N: compare values only at equal N. Pass a larger ``min_count`` to ignore
  stray images (with N = 26,000 a perfect generator puts ~26 in each mode);
* ``kl_to_uniform``: KL(p || u) in nats, where p is the normalised histogram of the N images'
  modes and u = 1/1000 the data's (uniform) mode distribution:
  KL = sum_k p_k log(1000 p_k) = log 1000 - H(p), with 0 log 0 = 0 -- modes the generator
  misses contribute nothing (PacGAN's code sums over non-zero p_k only). This is the
  direction the papers use, the generated mode distribution against the true one; it is
  always finite because u > 0 everywhere, unlike KL(u || p), which is infinite as soon as one
  mode is missed. It lies in [0, log 1000 ~ 6.908]: 0 for exactly balanced modes, log 1000
  when all images fall in one mode. It is a plug-in estimate, biased upwards at finite N: a
  perfect generator (modes i.i.d. uniform) scores about (K - 1) / (2 N) ~ 0.019 nats at
  K = 1,000, N = 26,000 (0.0197 averaged over 20 simulated draws), and covers
  K (1 - (1 - 1/K)^N) ~ 1,000 modes.

The classifier's own errors move both numbers (a digit misread in any one channel moves the
image to another mode); scoring real Stacked MNIST images with the same classifier gives the
reference a generator can be compared against.
"""

import math
from typing import Any, Callable, Dict, Optional

import numpy as np

from gan_jax.errors import GanJaxError

NUM_CLASSES = 10
NUM_CHANNELS = 3
NUM_MODES = NUM_CLASSES ** NUM_CHANNELS        # 1,000
IMAGE_SHAPE = (28, 28, NUM_CHANNELS)
PAPER_NUM_SAMPLES = 26_000                      # VEEGAN / PacGAN
DEFAULT_MIN_COUNT = 1
DEFAULT_BATCH_SIZE = 1_000


def mode_labels(digits: np.ndarray) -> np.ndarray:
    """Modes ``100 r + 10 g + b`` (int64 ``(...)``) of digit-class triples ``(..., 3)``."""
    digits = np.asarray(digits, np.int64)
    return (digits[..., 0] * NUM_CLASSES + digits[..., 1]) * NUM_CLASSES + digits[..., 2]


def mode_coverage(modes: np.ndarray, min_count: Optional[int] = None) -> Dict[str, Any]:
    """Modes captured and KL to uniform of a set of mode labels (see module doc).

    Args:
        modes: ``(N,)`` integer mode labels in 0..999, e.g. ``mode_labels(digits)``, or the
            'label' of real Stacked MNIST records.
        min_count: images a mode needs to count as captured; None means
            ``DEFAULT_MIN_COUNT`` = 1 (VEEGAN / PacGAN).

    Returns:
        dict with ``num_samples`` (N), ``modes_captured`` (int), ``num_modes`` (1,000),
        ``kl_to_uniform`` (float in [0, log 1000], nats) and ``mode_counts`` (list of 1,000 ints:
        images per mode).
    """
    modes = np.asarray(modes)
    if modes.ndim != 1 or modes.shape[0] == 0:
        raise GanJaxError(f'modes must be a non-empty (N,) array, got shape {modes.shape}.')
    if not np.issubdtype(modes.dtype, np.integer):
        raise GanJaxError(f'modes must be integers in 0..{NUM_MODES - 1}, got dtype '
                          f'{modes.dtype}.')
    if modes.min() < 0 or modes.max() >= NUM_MODES:
        raise GanJaxError(f'modes must lie in 0..{NUM_MODES - 1}, got values in '
                          f'[{modes.min()}, {modes.max()}].')
    min_count = DEFAULT_MIN_COUNT if min_count is None else int(min_count)
    if min_count < 1:
        raise GanJaxError(f'min_count must be at least 1, got {min_count}.')

    counts = np.bincount(modes.astype(np.int64), minlength=NUM_MODES)
    p = counts[counts > 0] / modes.shape[0]            # 0 log 0 = 0: empty modes drop out
    kl = float(np.sum(p * np.log(NUM_MODES * p)))
    return {
        'num_samples': int(modes.shape[0]),
        'modes_captured': int(np.sum(counts >= min_count)),
        'num_modes': NUM_MODES,
        'kl_to_uniform': min(max(kl, 0.0), math.log(NUM_MODES)),   # clip float rounding
        'mode_counts': [int(c) for c in counts],
    }


def _classify_channels(x: np.ndarray, classify: Callable, batch_size: int) -> np.ndarray:
    """Class of every channel of ``x`` [N, 28, 28, 3]: int64 [N, 3], ``batch_size`` images
    (3 * batch_size channel images) per ``classify`` call."""
    n = x.shape[0]
    digits = np.empty((n, NUM_CHANNELS), np.int64)
    for start in range(0, n, batch_size):
        chunk = x[start:start + batch_size]
        m = chunk.shape[0]
        # [m, 28, 28, 3] -> [m, 3, 28, 28] -> [3m, 28, 28, 1]: image i's channel c at 3i + c.
        channels = np.ascontiguousarray(chunk.transpose(0, 3, 1, 2)).reshape(
            (m * NUM_CHANNELS,) + IMAGE_SHAPE[:2] + (1,))
        labels = np.asarray(classify(channels))
        if labels.shape != (m * NUM_CHANNELS,):
            raise GanJaxError(
                f'classify returned shape {labels.shape} for {m * NUM_CHANNELS} images; it must '
                'return one integer class per image, shape (M,) (for logits or probabilities '
                'wrap it: lambda x: np.argmax(f(x), -1)).')
        if not np.issubdtype(labels.dtype, np.integer):
            raise GanJaxError(
                f'classify returned dtype {labels.dtype}; it must return integer class labels '
                '(for logits or probabilities wrap it: lambda x: np.argmax(f(x), -1)).')
        if labels.min() < 0 or labels.max() >= NUM_CLASSES:
            raise GanJaxError(
                f'classify returned labels in [{labels.min()}, {labels.max()}]; MNIST classes '
                f'are 0..{NUM_CLASSES - 1}.')
        digits[start:start + m] = labels.reshape(m, NUM_CHANNELS)
    return digits


def stacked_mnist_modes(images, classify: Callable[[np.ndarray], np.ndarray], *,
                        min_count: Optional[int] = None,
                        batch_size: int = DEFAULT_BATCH_SIZE) -> Dict[str, Any]:
    """Modes captured and KL to uniform of generated Stacked MNIST ``images`` (see module doc).

    Args:
        images: ``(N, 28, 28, 3)`` float images in [-1, 1] (NHWC), e.g. generator samples;
            use ``N = PAPER_NUM_SAMPLES`` (26,000) to compare with the papers.
        classify: a pretrained MNIST classifier as a function from ``(M, 28, 28, 1)`` float32
            images in [-1, 1] to ``(M,)`` integer classes in 0..9 (numpy or jax arrays). Each
            channel is classified on its own.
        min_count: images a mode needs to count as captured; None means 1 (VEEGAN / PacGAN).
        batch_size: images per ``classify`` call (each call gets their ``3 * batch_size``
            channels).

    Returns:
        ``mode_coverage``'s dict (``num_samples``, ``modes_captured``, ``num_modes`` = 1,000,
        ``kl_to_uniform``, ``mode_counts``) plus ``channel_histograms``: three lists (R, G, B)
        of 10 ints, how many images' channel was classified as each digit -- a collapse
        confined to one channel shows there.
    """
    from gan_jax.pixels import check_images   # shape / dtype / range checks with hints

    if not callable(classify):
        raise GanJaxError(f'classify must be a function from (M, 28, 28, 1) images to (M,) '
                          f'integer classes, got {type(classify).__name__}.')
    if int(batch_size) < 1:
        raise GanJaxError(f'batch_size must be at least 1, got {batch_size}.')
    x = np.asarray(check_images(np.asarray(images), IMAGE_SHAPE), np.float32)
    digits = _classify_channels(x, classify, int(batch_size))
    result = mode_coverage(mode_labels(digits), min_count)
    result['channel_histograms'] = [
        [int(c) for c in np.bincount(digits[:, ch], minlength=NUM_CLASSES)]
        for ch in range(NUM_CHANNELS)]
    return result
