"""Tests for gan_jax.metrics.precision_recall (Kynkäänniemi et al. 2019; Naeem et al. 2020)."""

import numpy as np
import pytest
from scipy.spatial.distance import cdist
from scipy.special import comb

import gan_jax.metrics.precision_recall as pr_module
from gan_jax.errors import GanJaxError
from gan_jax.metrics.precision_recall import density_coverage, prdc, precision_recall


def _brute_force(real, fake, k):
    """Direct formulas with scipy cdist; radius = (k+1)-th smallest distance incl. self (0)."""
    r_real = np.sort(cdist(real, real), axis=1)[:, k]
    r_fake = np.sort(cdist(fake, fake), axis=1)[:, k]
    d = cdist(real, fake)
    return {
        'precision': (d <= r_real[:, None]).any(axis=0).mean(),
        'recall': (d <= r_fake[None, :]).any(axis=1).mean(),
        'density': (d < r_real[:, None]).sum() / (k * fake.shape[0]),
        'coverage': (d.min(axis=1) < r_real).mean(),
    }


@pytest.mark.parametrize('k', [1, 3, 5])
def test_matches_brute_force_and_chunking_is_invisible(k, monkeypatch):
    rng = np.random.default_rng(k)
    real = rng.normal(size=(300, 6))
    fake = rng.normal(size=(250, 6)) * 1.2 + 0.3
    expected = _brute_force(real, fake, k)
    got = prdc(real, fake, k)
    assert got == pytest.approx(expected, abs=1e-12)
    monkeypatch.setattr(pr_module, 'CHUNK_ELEMENTS', 1000)  # 3-4 rows per chunk
    assert prdc(real, fake, k) == got
    assert precision_recall(real, fake, k) == (got['precision'], got['recall'])
    assert density_coverage(real, fake, k) == (got['density'], got['coverage'])


def test_self_excluded_and_ball_conventions_by_hand():
    # real 0, 1, 3 in 1-D, k = 1: radii (nearest *other* point) 1, 1, 2.
    real = np.array([[0.0], [1.0], [3.0]])
    fake = np.array([[-1.0], [10.0]])  # fake radii 11, 11
    # -1 is exactly on the closed ball of 0 (|-1 - 0| = 1): in for precision (<=), not for
    # density / coverage (<). 10 is outside every real ball. Every real is within 11 of -1.
    assert precision_recall(real, fake, k=1) == (0.5, 1.0)
    assert density_coverage(real, fake, k=1) == (0.0, 0.0)
    # with self included the radii would be 0 and 2.5 (0.5 from 3) would not count
    assert precision_recall(real, np.array([[2.5], [10.0]]), k=1)[0] == 0.5


@pytest.mark.parametrize('k', [1, 5])
def test_identical_sets(k):
    """F = R: each fake equals a real point (distance 0 < radius), so P = R = C = 1; the open
    ball of r_i holds r_i and its k-1 nearest others, so density = kN / (kN) = 1 exactly."""
    real = np.random.default_rng(0).normal(size=(400, 8))
    got = prdc(real, real.copy(), k)
    assert got == pytest.approx({'precision': 1.0, 'recall': 1.0, 'density': 1.0,
                                 'coverage': 1.0}, abs=1e-12)


def test_disjoint_far_apart_sets_give_zero():
    rng = np.random.default_rng(1)
    real = rng.normal(size=(200, 4))
    fake = rng.normal(size=(150, 4)) + 1000.0
    assert prdc(real, fake, 5) == {'precision': 0.0, 'recall': 0.0, 'density': 0.0,
                                   'coverage': 0.0}


def test_fake_is_half_of_real():
    rng = np.random.default_rng(2)
    n, k = 2000, 5
    real = rng.normal(size=(n, 3))
    fake = real[rng.permutation(n)[:n // 2]]
    got = prdc(real, fake, k)
    assert got['precision'] == 1.0
    assert 0.5 < got['recall'] < 1.0
    # A real point outside F is covered iff one of its k-1 nearest others (inside its open
    # ball) is in F: a uniform n/2-subset of the other n-1 points misses all k-1 with
    # probability C(n-k, n/2) / C(n-1, n/2).
    miss = comb(n - k, n // 2, exact=True) / comb(n - 1, n // 2, exact=True)
    expected_coverage = 0.5 + 0.5 * (1.0 - miss)  # ~0.969 for k = 5
    assert got['coverage'] == pytest.approx(expected_coverage, abs=0.015)
    # E[density] = 1: summed over all of R the counts are k n, and F is a uniform half.
    assert got['density'] == pytest.approx(1.0, abs=0.1)


def test_bad_inputs_raise():
    good = np.zeros((10, 3))
    with pytest.raises(GanJaxError, match='shape'):
        precision_recall(np.zeros(10), good)
    with pytest.raises(GanJaxError, match='dimensions differ'):
        precision_recall(np.zeros((10, 2)), good)
    with pytest.raises(GanJaxError, match='k \\+ 1'):
        density_coverage(np.zeros((5, 3)), good, k=5)
    with pytest.raises(GanJaxError, match='NaN'):
        precision_recall(good * np.nan, good)
    with pytest.raises(GanJaxError, match='positive integer'):
        precision_recall(good, good, k=0)
