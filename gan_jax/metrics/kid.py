"""Kernel Inception Distance (Bińkowski et al., "Demystifying MMD GANs", ICLR 2018).

KID is the squared maximum mean discrepancy between the feature distributions of real and
generated samples under the cubic polynomial kernel

    k(x, y) = (x . y / d + 1)^3,       d = feature dimension,

estimated without bias (Gretton et al., JMLR 2012, eq. 3) on samples X = {x_i}_{i=1..m},
Y = {y_j}_{j=1..m}:

    MMD^2_u = 1/(m(m-1)) sum_{i != i'} k(x_i, x_i') + 1/(m(m-1)) sum_{j != j'} k(y_j, y_j')
              - 2/m^2 sum_{i, j} k(x_i, y_j).

Unlike FID it has an unbiased estimator, so it can be (slightly) negative when the two
distributions are equal. It is averaged over ``num_subsets`` random subsets of size m drawn
without replacement from each set; the result is (mean, std) over subsets (ddof=0).

Conventions follow torch-fidelity (``torch_fidelity/metric_kid.py``) and the authors' code
(github.com/mbinkowski/MMD-GAN, ``gan/compute_scores.py``): subsets are drawn with
``np.random.RandomState(seed).choice(n, m, replace=False)``, first for set 1 then for set 2,
in each round, so a given seed draws the same subsets as torch-fidelity. Where torch-fidelity
raises if ``subset_size`` exceeds a set's size, here m = min(subset_size, n1, n2), as in the
authors' code (both subsets always have the same size m). Everything is float64.
"""

from typing import Tuple

import numpy as np

from gan_jax.errors import GanJaxError


def _check_features(f: np.ndarray, name: str) -> np.ndarray:
    f = np.asarray(f, dtype=np.float64)
    if f.ndim != 2:
        raise GanJaxError(f'{name} must have shape (num_samples, dim), got shape {f.shape}.')
    if f.shape[0] < 2:
        raise GanJaxError(f'{name} needs at least 2 samples for the unbiased MMD, got '
                          f'{f.shape[0]}.')
    if not np.all(np.isfinite(f)):
        raise GanJaxError(f'{name} contains NaN or inf values.')
    return f


def polynomial_kernel(x: np.ndarray, y: np.ndarray, degree: int = 3,
                      coef0: float = 1.0) -> np.ndarray:
    """k(x_i, y_j) = (x_i . y_j / d + coef0)^degree for all pairs, shape (len(x), len(y))."""
    g = x @ y.T
    g /= x.shape[1]
    g += coef0
    if degree == 3:  # the KID kernel: two in-place products are ~6x faster than np.power
        k = g * g
        k *= g
        return k
    return g ** degree


def mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 of samples x (m, d) and y (n, d) with the cubic polynomial kernel.

    1/(m(m-1)) sum_{i != i'} k_xx + 1/(n(n-1)) sum_{j != j'} k_yy - 2/(mn) sum_{i,j} k_xy.
    """
    m, n = x.shape[0], y.shape[0]
    k_xx = polynomial_kernel(x, x)
    k_yy = polynomial_kernel(y, y)
    k_xy = polynomial_kernel(x, y)
    term_xx = (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
    term_yy = (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
    return float(term_xx + term_yy - 2.0 * k_xy.sum() / (m * n))


def kernel_inception_distance(f1: np.ndarray, f2: np.ndarray, num_subsets: int = 100,
                              subset_size: int = 1000, seed: int = 0) -> Tuple[float, float]:
    """KID: mean and std of the unbiased cubic-kernel MMD^2 over random subsets.

    Args:
      f1, f2: features of the two sets, shapes (n1, d) and (n2, d).
      num_subsets: number of random subset pairs (100 in torch-fidelity / the paper's code).
      subset_size: subset size m, capped at min(n1, n2) (1000 by default).
      seed: seed of the ``np.random.RandomState`` drawing the subsets.
    Returns:
      (mean, std) over subsets, Python floats.
    """
    f1 = _check_features(f1, 'f1')
    f2 = _check_features(f2, 'f2')
    if f1.shape[1] != f2.shape[1]:
        raise GanJaxError(f'feature dimensions differ: {f1.shape[1]} vs {f2.shape[1]}; use the '
                          'same feature extractor for both sets.')
    if num_subsets < 1:
        raise GanJaxError(f'num_subsets must be >= 1, got {num_subsets}.')
    if subset_size < 2:
        raise GanJaxError(f'subset_size must be >= 2 for the unbiased MMD, got {subset_size}.')
    m = min(subset_size, f1.shape[0], f2.shape[0])
    rng = np.random.RandomState(seed)
    mmds = np.empty(num_subsets, dtype=np.float64)
    for i in range(num_subsets):
        x = f1[rng.choice(f1.shape[0], m, replace=False)]
        y = f2[rng.choice(f2.shape[0], m, replace=False)]
        mmds[i] = mmd2_unbiased(x, y)
    return float(mmds.mean()), float(mmds.std())
