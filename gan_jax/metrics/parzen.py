"""Parzen-window (Gaussian KDE) log-likelihood of test data under a generator's samples.

The evaluation of Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014, Table 1,
following Breuleux, Bengio & Vincent, "Quickly generating representative samples from an
RBM-derived process", Neural Computation 2011 (the GAN code's ``parzen_ll.py``). A Gaussian of
width sigma is centred on each of the N generated samples s_i in R^d:

    p(x) = (1/N) sum_i N(x; s_i, sigma^2 I)
    log p(x) = logsumexp_i( -||x - s_i||^2 / (2 sigma^2) ) - log N - (d/2) log(2 pi sigma^2).

The reported number is the mean of log p(x) over the test set with its standard error
std(log p) / sqrt(n_test) (population std, ddof=0, as in ``parzen_ll.py``). sigma is chosen by
grid search, maximising the mean log-likelihood of a validation split; the original grid is
``np.logspace(-1, 0, 10)`` (its ``--sigma_start -1 --sigma_end 0 --cross_val 10``), meant for
pixels in [0, 1]: pass a grid suited to other data scales.

Everything is float64. Test points are processed ``batch_size`` at a time (memory
batch_size x N), with a max-shifted log-sum-exp per row; the result does not depend on
``batch_size``. Squared distances are ||x||^2 + ||s||^2 - 2 x.s, clipped at 0.

Known caveat (Theis, van den Oord & Bethge, "A note on the evaluation of generative models",
ICLR 2016): in high dimensions this estimate is strongly biased and can rank models wrongly;
it is here to reproduce the 2014 table, not as a recommended metric.
"""

from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from gan_jax.errors import GanJaxError

DEFAULT_SIGMAS = np.logspace(-1, 0, 10)


def _as_points(x: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise GanJaxError(f'{name} must have shape (num_points, dim) (or (num_points,) for 1-D '
                          f'data), got shape {x.shape}; flatten images first.')
    if x.shape[0] < 1:
        raise GanJaxError(f'{name} is empty.')
    if not np.all(np.isfinite(x)):
        raise GanJaxError(f'{name} contains NaN or inf values.')
    return x


def _logsumexp_rows(a: np.ndarray) -> np.ndarray:
    """log sum_j exp(a_ij) per row, max-shifted: m_i + log sum_j exp(a_ij - m_i); a is
    overwritten. Rows here always hold finite values, so m_i is finite."""
    m = a.max(axis=1)
    a -= m[:, None]
    np.exp(a, out=a)
    return m + np.log(a.sum(axis=1))


def _check_sigma(sigma: float) -> float:
    sigma = float(sigma)
    if not (np.isfinite(sigma) and sigma > 0):
        raise GanJaxError(f'sigma must be a positive finite number, got {sigma}.')
    return sigma


def parzen_log_densities(samples: np.ndarray, points: np.ndarray, sigma: float,
                         batch_size: int = 100) -> np.ndarray:
    """log p(x) for each row x of ``points`` under the Parzen window on ``samples``, float64."""
    samples = _as_points(samples, 'samples')
    points = _as_points(points, 'test points')
    sigma = _check_sigma(sigma)
    if samples.shape[1] != points.shape[1]:
        raise GanJaxError(f'dimensions differ: samples have {samples.shape[1]}, test points '
                          f'{points.shape[1]}.')
    if batch_size < 1:
        raise GanJaxError(f'batch_size must be >= 1, got {batch_size}.')
    n, d = samples.shape
    s_sq = np.einsum('ij,ij->i', samples, samples)
    log_norm = np.log(n) + 0.5 * d * np.log(2.0 * np.pi * sigma ** 2)
    out = np.empty(points.shape[0], dtype=np.float64)
    for start in range(0, points.shape[0], batch_size):
        x = points[start:start + batch_size]
        x_sq = np.einsum('ij,ij->i', x, x)
        a = x @ samples.T  # becomes -||x - s||^2 / (2 sigma^2), in place
        a *= 2.0
        a -= x_sq[:, None]
        a -= s_sq[None, :]
        np.minimum(a, 0.0, out=a)
        a *= 1.0 / (2.0 * sigma ** 2)
        out[start:start + batch_size] = _logsumexp_rows(a) - log_norm
    return out


def parzen_log_likelihood(samples: np.ndarray, test: np.ndarray, sigma: float,
                          batch_size: int = 100) -> Tuple[float, float]:
    """Mean Parzen log-likelihood of ``test`` and its standard error.

    Args:
      samples: generated samples (N, d) (or (N,) for 1-D), the kernel centres.
      test: held-out data (n, d).
      sigma: kernel width.
      batch_size: test points per batch.
    Returns:
      (mean, std / sqrt(n)) of log p(x) over the test set, in nats.
    """
    ll = parzen_log_densities(samples, test, sigma, batch_size)
    return float(ll.mean()), float(ll.std() / np.sqrt(ll.shape[0]))


def select_sigma(samples: np.ndarray, validation: np.ndarray,
                 sigmas: Optional[Sequence[float]] = None, batch_size: int = 100) -> float:
    """The sigma in ``sigmas`` (default ``np.logspace(-1, 0, 10)``) maximising the mean
    validation log-likelihood (first one on ties), as ``cross_validate_sigma`` in the original."""
    grid = DEFAULT_SIGMAS if sigmas is None else np.asarray(sigmas, dtype=np.float64).ravel()
    if grid.size == 0:
        raise GanJaxError('sigmas is empty; pass at least one kernel width.')
    lls = [parzen_log_densities(samples, validation, s, batch_size).mean() for s in grid]
    return float(grid[int(np.argmax(lls))])


def parzen_evaluation(samples: np.ndarray, validation: np.ndarray, test: np.ndarray,
                      sigmas: Optional[Sequence[float]] = None,
                      batch_size: int = 100) -> Dict[str, float]:
    """Select sigma on ``validation``, then evaluate on ``test``: dict(sigma, mean, std_error)."""
    sigma = select_sigma(samples, validation, sigmas, batch_size)
    mean, std_error = parzen_log_likelihood(samples, test, sigma, batch_size)
    return {'sigma': sigma, 'mean': mean, 'std_error': std_error}
