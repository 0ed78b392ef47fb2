"""Section 4 of Goodfellow et al. (2014) for discrete distributions, in exact float64 numpy.

Take p_data and p_g on the same finite support {x_1, ..., x_n} and a discriminator given by its
values d_i = D(x_i) in [0, 1]. The value function is

    V(D, G) = sum_i p_data(x_i) log d_i + sum_i p_g(x_i) log(1 - d_i).

Proposition 1 (optimal discriminator). For fixed G, each term a log d + b log(1 - d) with
a, b >= 0 and a + b > 0 is maximised on [0, 1] at d = a / (a + b) (its derivative
a/d - b/(1-d) vanishes there and it is concave), so

    D*_G(x) = p_data(x) / (p_data(x) + p_g(x)).

Theorem 1. Substituting D*,

    V(D*_G, G) = sum p_data log(p_data / (p_data + p_g)) + sum p_g log(p_g / (p_data + p_g))
               = -log 4 + KL(p_data || m) + KL(p_g || m),       m = (p_data + p_g) / 2
               = -log 4 + 2 JSD(p_data || p_g),

and since JSD >= 0 with equality iff p_g = p_data, the global minimum of the generator's
criterion C(G) = max_D V(D, G) is -log 4, reached exactly when p_g = p_data.

Conventions: natural logarithms throughout; 0 log 0 = 0 (a point with zero probability under a
distribution contributes nothing to that distribution's sum, whatever d is there).
"""

from typing import Tuple

import numpy as np
from scipy.special import xlogy

from gan_jax.errors import GanJaxError

_SUM_TOL = 1e-9


def _as_distribution(p: np.ndarray, name: str) -> np.ndarray:
    """``p`` as a float64 1-D probability vector; GanJaxError if it is not one."""
    p = np.asarray(p, dtype=np.float64)
    if p.ndim != 1 or p.size == 0:
        raise GanJaxError(
            f'{name} must be a non-empty 1-D probability vector, got shape {p.shape}.')
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise GanJaxError(f'{name} must have finite, non-negative entries.')
    if abs(p.sum() - 1.0) > _SUM_TOL:
        raise GanJaxError(f'{name} must sum to 1 (got {p.sum()!r}); normalise it first.')
    return p


def _check_pair(p: np.ndarray, q: np.ndarray,
                names: Tuple[str, str] = ('p', 'q')) -> Tuple[np.ndarray, np.ndarray]:
    p = _as_distribution(p, names[0])
    q = _as_distribution(q, names[1])
    if p.shape != q.shape:
        raise GanJaxError(
            f'{names[0]} and {names[1]} must share one support; shapes {p.shape} != {q.shape}.')
    return p, q


def value_discrete(d: np.ndarray, p_data: np.ndarray, p_g: np.ndarray) -> float:
    """V(D, G) = sum p_data log d + sum p_g log(1 - d), with 0 log 0 = 0.

    ``d`` holds D's values in [0, 1] on the support. The result is -inf when D assigns d = 0 to a
    point of p_data's support, or d = 1 to a point of p_g's support.
    """
    p_data, p_g = _check_pair(p_data, p_g, ('p_data', 'p_g'))
    d = np.asarray(d, dtype=np.float64)
    if d.shape != p_data.shape:
        raise GanJaxError(f'd must have the support shape {p_data.shape}, got {d.shape}.')
    if np.any(d < 0) or np.any(d > 1) or not np.all(np.isfinite(d)):
        raise GanJaxError('d holds probabilities D(x): every entry must be in [0, 1].')
    with np.errstate(divide='ignore'):
        return float(np.sum(xlogy(p_data, d)) + np.sum(xlogy(p_g, 1.0 - d)))


def optimal_discriminator(p_data: np.ndarray, p_g: np.ndarray) -> np.ndarray:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)) (Proposition 1).

    Where p_data(x) = p_g(x) = 0 the point does not enter V at all, so every d is optimal there;
    we define D* = 1/2 (the value D* takes where the two distributions agree, and the answer of a
    discriminator that has no evidence either way).
    """
    p_data, p_g = _check_pair(p_data, p_g, ('p_data', 'p_g'))
    total = p_data + p_g
    safe = np.where(total > 0, total, 1.0)
    return np.where(total > 0, p_data / safe, 0.5)


def kl_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """KL(p || q) = sum p log(p / q) in nats, with 0 log(0/q) = 0; inf if p > 0 where q = 0."""
    p, q = _check_pair(p, q)
    with np.errstate(divide='ignore'):
        return float(np.sum(xlogy(p, p) - xlogy(p, q)))


def jensen_shannon(p: np.ndarray, q: np.ndarray) -> float:
    """JSD(p || q) = KL(p || m)/2 + KL(q || m)/2 with m = (p + q)/2, in nats (<= log 2).

    Always finite: m > 0 wherever p or q is. ``scipy.spatial.distance.jensenshannon`` returns the
    square root of this (the Jensen-Shannon distance).
    """
    p, q = _check_pair(p, q)
    m = 0.5 * (p + q)
    jsd = 0.5 * kl_divergence(p, m) + 0.5 * kl_divergence(q, m)
    return max(jsd, 0.0)  # clip -1e-17 rounding when p == q
