"""Inception Score (Salimans et al., "Improved Techniques for Training GANs", NeurIPS 2016).

    IS = exp( E_x KL( p(y|x) || p(y) ) ),   p(y) = E_x p(y|x),

from a classifier's class probabilities p(y|x) on generated samples x. It is 1 when every
p(y|x) equals p(y) (uninformative or identical predictions) and at most C, the number of
classes, reached by confident one-hot predictions spread evenly over all C classes.

Convention (the original code, github.com/openai/improved-gan ``inception_score/model.py``,
also used by TTUR and torch-fidelity): the N samples are cut into ``splits`` consecutive
parts; within each part p(y) is that part's mean prediction and the part's score is
exp(mean_x KL); the result is the mean and the (population, ddof=0) standard deviation of
the per-part scores. Part i is rows [i N // splits, (i+1) N // splits), exactly as in the
original: when ``splits`` does not divide N the remainder is spread, parts differing in
size by at most one row; no row is dropped.

KL terms use 0 log 0 = 0 (``scipy.special.rel_entr``), so exact zeros in p(y|x) are fine
(the original would give NaN there).
"""

from typing import Tuple

import numpy as np
from scipy.special import rel_entr

from gan_jax.errors import GanJaxError


def _check_probs(probs: np.ndarray, atol: float = 1e-3) -> np.ndarray:
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2:
        raise GanJaxError(f'probs must have shape (num_samples, num_classes), got shape '
                          f'{p.shape}.')
    if p.shape[0] < 1 or p.shape[1] < 1:
        raise GanJaxError(f'probs is empty (shape {p.shape}).')
    if not np.all(np.isfinite(p)):
        raise GanJaxError('probs contains NaN or inf values.')
    if np.any(p < 0):
        raise GanJaxError('probs has negative entries; pass softmax probabilities, not logits.')
    row_sums = p.sum(axis=1)
    if np.max(np.abs(row_sums - 1.0)) > atol:
        raise GanJaxError('each row of probs must sum to 1 (within 1e-3); pass softmax '
                          'probabilities, not logits.')
    return p


def inception_score(probs: np.ndarray, splits: int = 10) -> Tuple[float, float]:
    """Mean and std over ``splits`` parts of exp(mean_x KL(p(y|x) || p_part(y))).

    Args:
      probs: p(y|x), shape (N, C), rows summing to 1.
      splits: number of parts, 1 <= splits <= N (10 in the original papers, N = 50,000).
    Returns:
      (mean, std) of the per-part scores, float64 Python floats.
    """
    p = _check_probs(probs)
    n = p.shape[0]
    if not isinstance(splits, (int, np.integer)) or splits < 1:
        raise GanJaxError(f'splits must be a positive integer, got {splits!r}.')
    if splits > n:
        raise GanJaxError(f'splits={splits} is larger than the number of samples {n}; '
                          'use fewer splits or more samples.')
    scores = np.empty(splits, dtype=np.float64)
    for i in range(splits):
        part = p[i * n // splits:(i + 1) * n // splits]
        marginal = part.mean(axis=0, keepdims=True)
        kl = rel_entr(part, marginal).sum(axis=1)
        scores[i] = np.exp(kl.mean())
    return float(scores.mean()), float(scores.std())
