"""k-NN manifold metrics: precision/recall and density/coverage of generated samples.

Let R = {r_i}_{i=1..N} be real and F = {f_j}_{j=1..M} generated feature vectors, and
NND_k(x; S) the distance from x in S to its k-th nearest neighbour in S, **the point itself
excluded** (so for k = 1 it is the distance to the closest *other* point; duplicates of x count
as neighbours at distance 0). B(x, r) is the ball of radius r around x.

* Improved precision and recall (Kynkäänniemi et al., NeurIPS 2019; official code
  github.com/kynkaat/improved-precision-and-recall-metric):

      precision = (1/M) sum_j 1[ exists i: ||f_j - r_i|| <= NND_k(r_i; R) ]
      recall    = (1/N) sum_i 1[ exists j: ||r_i - f_j|| <= NND_k(f_j; F) ]

  (closed balls, ``<=``, as in the official code; the paper's default is k = 3, here k = 5
  for all four metrics, the default of Naeem et al.'s code).

* Density and coverage (Naeem et al., "Reliable Fidelity and Diversity Metrics for Generative
  Models", ICML 2020; official code github.com/clovaai/generative-evaluation-prdc):

      density  = 1/(k M) sum_j sum_i 1[ ||f_j - r_i|| < NND_k(r_i; R) ]
      coverage = (1/N) sum_i 1[ exists j: ||r_i - f_j|| < NND_k(r_i; R) ]

  (open balls, ``<``, as in the official code). Density is not bounded by 1: it is ~1 when F
  is distributed like R. With F = R exactly (points in general position) it is exactly 1: the
  open ball around r_i holds r_i itself and its k-1 nearest neighbours, but not the k-th
  (which lies on the sphere), so the double sum is k N = k M.

With continuous features the two ball conventions differ only on a set of measure zero. The
convention matters for identical sets: with ``<=`` density would be (k+1)/k.

Distances are computed in float64 as ||a||^2 + ||b||^2 - 2 a.b (clipped at 0) in row chunks
of at most ``CHUNK_ELEMENTS`` entries (128 MiB), so 10,000 x 10,000 sets never hold the full
N x M matrix; squared distances are compared with squared radii (no square roots).
"""

from typing import Dict, Tuple

import numpy as np

from gan_jax.errors import GanJaxError

CHUNK_ELEMENTS = 1 << 24


def _check(real: np.ndarray, fake: np.ndarray, k: int) -> Tuple[np.ndarray, np.ndarray]:
    real = np.asarray(real, dtype=np.float64)
    fake = np.asarray(fake, dtype=np.float64)
    for name, x in (('real', real), ('fake', fake)):
        if x.ndim != 2:
            raise GanJaxError(f'{name} must have shape (num_samples, dim), got shape {x.shape}.')
        if not np.all(np.isfinite(x)):
            raise GanJaxError(f'{name} contains NaN or inf values.')
    if real.shape[1] != fake.shape[1]:
        raise GanJaxError(f'feature dimensions differ: real {real.shape[1]} vs fake '
                          f'{fake.shape[1]}; use the same feature extractor for both sets.')
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise GanJaxError(f'k must be a positive integer, got {k!r}.')
    for name, x in (('real', real), ('fake', fake)):
        if x.shape[0] < k + 1:
            raise GanJaxError(f'{name} has {x.shape[0]} samples; the k-th nearest neighbour '
                              f'(self excluded) needs at least k + 1 = {k + 1}.')
    return real, fake


def _row_chunks(n_rows: int, n_cols: int):
    step = max(1, CHUNK_ELEMENTS // max(n_cols, 1))
    for start in range(0, n_rows, step):
        yield start, min(start + step, n_rows)


def _sq_dists(a: np.ndarray, a_sq: np.ndarray, b: np.ndarray, b_sq: np.ndarray) -> np.ndarray:
    """||a_i - b_j||^2 for all pairs, float64, clipped at 0 against rounding."""
    d = a @ b.T
    d *= -2.0
    d += a_sq[:, None]
    d += b_sq[None, :]
    np.maximum(d, 0.0, out=d)
    return d


def kth_nn_sq_radii(x: np.ndarray, k: int) -> np.ndarray:
    """Squared distance from each x_i to its k-th nearest neighbour in x, x_i excluded."""
    x_sq = np.einsum('ij,ij->i', x, x)
    radii = np.empty(x.shape[0], dtype=np.float64)
    for start, stop in _row_chunks(x.shape[0], x.shape[0]):
        d = _sq_dists(x[start:stop], x_sq[start:stop], x, x_sq)
        rows = np.arange(stop - start)
        d[rows, rows + start] = np.inf
        radii[start:stop] = np.partition(d, k - 1, axis=1)[:, k - 1]
    return radii


def prdc(real: np.ndarray, fake: np.ndarray, k: int = 5) -> Dict[str, float]:
    """Precision, recall, density and coverage in one pass over the real x fake distances.

    Args:
      real: real features, shape (N, d); fake: generated features, shape (M, d).
      k: neighbourhood size (k-th nearest neighbour, self excluded); N, M >= k + 1.
    Returns:
      dict with float entries 'precision', 'recall', 'density', 'coverage'.
    """
    real, fake = _check(real, fake, k)
    return _manifold_metrics(real, fake, k, with_recall=True)


def _manifold_metrics(real: np.ndarray, fake: np.ndarray, k: int,
                      with_recall: bool) -> Dict[str, float]:
    n, m = real.shape[0], fake.shape[0]
    r_real = kth_nn_sq_radii(real, k)
    r_fake = kth_nn_sq_radii(fake, k) if with_recall else None
    real_sq = np.einsum('ij,ij->i', real, real)
    fake_sq = np.einsum('ij,ij->i', fake, fake)
    fake_in_real_closed = np.zeros(m, dtype=bool)
    fake_count_open = np.zeros(m, dtype=np.int64)
    real_in_fake_closed = np.zeros(n, dtype=bool)
    real_covered = np.zeros(n, dtype=bool)
    for start, stop in _row_chunks(n, m):
        d = _sq_dists(real[start:stop], real_sq[start:stop], fake, fake_sq)
        radius = r_real[start:stop, None]
        fake_in_real_closed |= (d <= radius).any(axis=0)
        fake_count_open += (d < radius).sum(axis=0)
        real_covered[start:stop] = d.min(axis=1) < r_real[start:stop]
        if with_recall:
            real_in_fake_closed[start:stop] = (d <= r_fake[None, :]).any(axis=1)
    out = {
        'precision': float(fake_in_real_closed.mean()),
        'density': float(fake_count_open.sum() / (k * m)),
        'coverage': float(real_covered.mean()),
    }
    if with_recall:
        out['recall'] = float(real_in_fake_closed.mean())
    return out


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 5) -> Tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019), k-NN balls, self excluded.

    precision: fraction of fake samples inside the real manifold (some real ball of radius
    NND_k); recall: fraction of real samples inside the fake manifold. Returns
    (precision, recall).
    """
    out = prdc(real, fake, k)
    return out['precision'], out['recall']


def density_coverage(real: np.ndarray, fake: np.ndarray, k: int = 5) -> Tuple[float, float]:
    """Density and coverage (Naeem et al. 2020) around the real k-NN balls (self excluded).

    density = 1/(kM) sum_j #{i: f_j in B(r_i, NND_k(r_i))}; coverage = fraction of real balls
    holding at least one fake sample. Returns (density, coverage).
    """
    real, fake = _check(real, fake, k)
    out = _manifold_metrics(real, fake, k, with_recall=False)
    return out['density'], out['coverage']
