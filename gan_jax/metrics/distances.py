"""Distances between two 1-D samples (e.g. real data and G's samples in the 1-D toy problem).

Both work on the empirical CDFs F_a(t) = #{a_i <= t} / n and F_b(t) = #{b_j <= t} / m.

* Wasserstein-1 (earth mover's) distance

      W1(a, b) = integral |F_a(t) - F_b(t)| dt.

  Both CDFs are step functions that only jump at sample points, so with all points sorted,
  t_0 <= ... <= t_{n+m-1}, the integral is the exact finite sum
  sum_k |F_a(t_k) - F_b(t_k)| (t_{k+1} - t_k). For n = m it equals the optimal matching of sorted
  samples, (1/n) sum_i |a_(i) - b_(i)| (in 1-D the monotone coupling is optimal).

* Two-sample Kolmogorov-Smirnov statistic

      D(a, b) = sup_t |F_a(t) - F_b(t)|,

  attained at a sample point (the CDFs are right-continuous steps), so the sup is a max over the
  pooled sample.
"""

import numpy as np

from gan_jax.errors import GanJaxError


def _as_sample(x: np.ndarray, name: str) -> np.ndarray:
    """``x`` flattened to a float64 1-D sample; GanJaxError if empty or not finite."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim > 1 and x.size != max(x.shape):
        raise GanJaxError(f'{name} must be a 1-D sample, got shape {x.shape}.')
    x = x.reshape(-1)
    if x.size == 0:
        raise GanJaxError(f'{name} is empty; pass at least one sample.')
    if not np.all(np.isfinite(x)):
        raise GanJaxError(f'{name} has NaN or inf values.')
    return x


def _cdfs_on_pooled(a: np.ndarray, b: np.ndarray):
    """Sorted pooled sample t and the two empirical CDFs F_a(t), F_b(t) evaluated on it."""
    a = np.sort(a)
    b = np.sort(b)
    t = np.sort(np.concatenate([a, b]))
    cdf_a = np.searchsorted(a, t, side='right') / a.size
    cdf_b = np.searchsorted(b, t, side='right') / b.size
    return t, cdf_a, cdf_b


def wasserstein_1d(a: np.ndarray, b: np.ndarray) -> float:
    """W1 distance between the empirical distributions of 1-D samples ``a`` and ``b``.

    Equal sizes: the mean absolute difference of the sorted samples. Otherwise: the integral of
    |F_a - F_b| computed exactly as a sum over the gaps of the pooled sorted sample.
    """
    a = _as_sample(a, 'a')
    b = _as_sample(b, 'b')
    if a.size == b.size:
        return float(np.mean(np.abs(np.sort(a) - np.sort(b))))
    t, cdf_a, cdf_b = _cdfs_on_pooled(a, b)
    return float(np.sum(np.abs(cdf_a[:-1] - cdf_b[:-1]) * np.diff(t)))


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic D = max_t |F_a(t) - F_b(t)|, in [0, 1]."""
    a = _as_sample(a, 'a')
    b = _as_sample(b, 'b')
    _, cdf_a, cdf_b = _cdfs_on_pooled(a, b)
    return float(np.max(np.abs(cdf_a - cdf_b)))
