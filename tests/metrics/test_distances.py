"""Tests for gan_jax.metrics.distances against scipy and closed forms."""

import numpy as np
import pytest
from scipy import stats

from gan_jax.errors import GanJaxError
from gan_jax.metrics.distances import ks_statistic, wasserstein_1d

SIZES = [(1, 1), (5, 5), (200, 200), (1, 7), (13, 200), (300, 17), (1000, 999)]


def _samples(seed, n, m):
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, 1.0, n), rng.standard_t(3, m) * 0.7 + 0.3


@pytest.mark.parametrize('n,m', SIZES)
@pytest.mark.parametrize('seed', range(3))
def test_wasserstein_matches_scipy(seed, n, m):
    a, b = _samples(seed, n, m)
    assert abs(wasserstein_1d(a, b) - stats.wasserstein_distance(a, b)) < 1e-10
    assert abs(wasserstein_1d(b, a) - wasserstein_1d(a, b)) < 1e-12


@pytest.mark.filterwarnings('ignore::RuntimeWarning:scipy.*')  # scipy's p-value at n = m = 1
@pytest.mark.parametrize('n,m', SIZES)
@pytest.mark.parametrize('seed', range(3))
def test_ks_matches_scipy(seed, n, m):
    a, b = _samples(seed, n, m)
    assert abs(ks_statistic(a, b) - stats.ks_2samp(a, b, method='asymp').statistic) < 1e-10


def test_ties_match_scipy():
    rng = np.random.default_rng(7)
    a = rng.integers(0, 5, 40).astype(float)  # many ties, within and across samples
    b = rng.integers(1, 7, 25).astype(float)
    assert abs(wasserstein_1d(a, b) - stats.wasserstein_distance(a, b)) < 1e-10
    assert abs(ks_statistic(a, b) - stats.ks_2samp(a, b, method='asymp').statistic) < 1e-10


@pytest.mark.parametrize('c', [0.0, 0.5, 3.25, -2.0])
def test_shift_gives_w1_equal_to_shift(c):
    a = np.random.default_rng(1).normal(size=500)
    assert abs(wasserstein_1d(a, a + c) - abs(c)) < 1e-12


def test_closed_forms():
    assert wasserstein_1d([0.0], [1.0]) == 1.0
    # Two points vs one: mass 1/2 moves 1 and 1/2 moves 0.
    assert abs(wasserstein_1d([0.0, 1.0], [0.0]) - 0.5) < 1e-15
    assert ks_statistic([0.0, 1.0], [0.0, 1.0]) == 0.0
    assert ks_statistic([0.0, 1.0], [2.0, 3.0, 4.0]) == 1.0  # disjoint ranges
    a = np.arange(10.0)
    assert abs(ks_statistic(a, a + 0.5) - 0.1) < 1e-15


def test_accepts_column_vectors():
    a, b = _samples(0, 50, 60)
    assert wasserstein_1d(a[:, None], b[:, None]) == wasserstein_1d(a, b)
    assert ks_statistic(a[:, None], b) == ks_statistic(a, b)


@pytest.mark.parametrize('fn', [wasserstein_1d, ks_statistic])
def test_rejects_bad_samples(fn):
    with pytest.raises(GanJaxError):
        fn([], [1.0])
    with pytest.raises(GanJaxError):
        fn([np.nan], [1.0])
    with pytest.raises(GanJaxError):
        fn(np.ones((3, 2)), [1.0])
