"""Mode-collapse measures for the 2-D Gaussian-mixture benchmarks.

Data sets (equal-weight mixtures of isotropic Gaussians; their centres and stds are defined in
`gan_jax.data.toy`, and the statistics below take them as arguments):

* ring: 8 Gaussians evenly spaced on a circle of radius 2, std 0.02 (Metz et al., 2017,
  "Unrolled Generative Adversarial Networks", Figure 1);
* grid: 25 Gaussians centred on {-4, -2, 0, 2, 4}^2, std 0.05 (the 2-D grid of VEEGAN,
  Srivastava et al., 2017, and PacGAN, Lin et al., 2018).

Statistics of a set of N generated samples, following VEEGAN (Srivastava et al., 2017, Sec. 5,
"Synthetic data") and PacGAN (Lin et al., 2018, Sec. 5; reference code ``MetricLogger`` in
github.com/fjxmlzn/PacGAN, synthetic_data_experiments/PacGAN/pacgan/extensions.py):

* each sample is assigned to its nearest centre (Euclidean distance);
* a sample is *high quality* if it lies within 3 standard deviations of that centre
  (distance < 3 std; the boundary itself has probability zero);
* a mode is *covered* ("captured") if at least ``min_count`` high-quality samples were assigned
  to it. **Default: min_count = 1**, the literature's convention -- VEEGAN: "the number of modes
  captured [is] the number of mixture components whose mean is nearest to at least one high
  quality sample", evaluated on 2,500 generated samples; PacGAN's code counts the non-zero
  entries of the same histogram. With N = 2,500 samples and 25 modes, a perfect generator puts
  ~100 samples in each mode, so one sample is a low bar: pass e.g. ``min_count = N / (10 K)``
  (10% of a mode's fair share) to ignore stray samples. Compare numbers only at equal N.
* ``kl_to_uniform``: KL(h || u) in nats between the normalised histogram h of the high-quality
  samples over the K modes and the uniform u = 1/K (the data's own mode distribution):
  KL = sum_k h_k log(K h_k) = log K - H(h), with 0 log 0 = 0. It lies in [0, log K]: 0 for a
  perfectly balanced generator, log K when every high-quality sample falls in one mode; it can
  never be infinite because u > 0 everywhere. If there are no high-quality samples at all, h is
  undefined and we report the upper bound log K (as bad as total collapse; read it together
  with ``high_quality_fraction = 0``), so the value stays finite for logs and averages.
"""

import math
from typing import Any, Dict, Optional

import numpy as np

from gan_jax.errors import GanJaxError

HIGH_QUALITY_STDS = 3.0
DEFAULT_MIN_COUNT = 1


def mode_statistics(samples: np.ndarray, centres: np.ndarray, std: float,
                    min_count: Optional[int] = None) -> Dict[str, Any]:
    """High-quality fraction, modes covered and mode balance of 2-D ``samples`` (see module doc).

    Args:
        samples: ``(N, 2)`` generated points.
        centres: ``(K, 2)`` mixture means, e.g. ``ring_centres()``.
        std: the mixture components' standard deviation (``gan_jax.data.toy.RING_STD``, ``GRID_STD``).
        min_count: high-quality samples a mode needs to count as covered; None means
            ``DEFAULT_MIN_COUNT`` = 1 (VEEGAN / PacGAN).

    Returns:
        dict with ``high_quality_fraction`` (float in [0, 1]), ``modes_covered`` (int),
        ``num_modes`` (K), ``mode_counts`` (list of K ints: high-quality samples per mode) and
        ``kl_to_uniform`` (float in [0, log K]).
    """
    samples = np.asarray(samples, dtype=np.float64)
    centres = np.asarray(centres, dtype=np.float64)
    if samples.ndim != 2 or samples.shape[0] == 0:
        raise GanJaxError(f'samples must be a non-empty (N, D) array, got shape {samples.shape}.')
    if centres.ndim != 2 or centres.shape[0] == 0 or centres.shape[1] != samples.shape[1]:
        raise GanJaxError(
            f'centres must be (K, {samples.shape[1]}) to match samples, got {centres.shape}.')
    if not std > 0:
        raise GanJaxError(f'std must be positive, got {std!r}.')
    min_count = DEFAULT_MIN_COUNT if min_count is None else int(min_count)
    if min_count < 1:
        raise GanJaxError(f'min_count must be at least 1, got {min_count}.')

    num_modes = centres.shape[0]
    sq_dist = np.sum((samples[:, None, :] - centres[None, :, :]) ** 2, axis=-1)  # (N, K)
    nearest = np.argmin(sq_dist, axis=1)
    nearest_dist = np.sqrt(sq_dist[np.arange(samples.shape[0]), nearest])
    high_quality = nearest_dist < HIGH_QUALITY_STDS * std  # NaN samples are never high quality
    counts = np.bincount(nearest[high_quality], minlength=num_modes)

    num_hq = int(counts.sum())
    if num_hq == 0:
        kl = math.log(num_modes)
    else:
        h = counts[counts > 0] / num_hq
        kl = float(np.sum(h * np.log(num_modes * h)))
    return {
        'high_quality_fraction': num_hq / samples.shape[0],
        'modes_covered': int(np.sum(counts >= min_count)),
        'num_modes': int(num_modes),
        'mode_counts': [int(c) for c in counts],
        'kl_to_uniform': max(kl, 0.0),
    }
