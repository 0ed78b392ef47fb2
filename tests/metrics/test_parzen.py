"""Tests for gan_jax.metrics.parzen: analytic Gaussian KDE expectation, direct logsumexp."""

import numpy as np
import pytest
from scipy.special import logsumexp

from gan_jax.errors import GanJaxError
from gan_jax.metrics.parzen import (DEFAULT_SIGMAS, parzen_evaluation, parzen_log_densities,
                                    parzen_log_likelihood, select_sigma)


def _direct(samples, test, sigma):
    """log p(x) by broadcasting differences and scipy's logsumexp."""
    d = samples.shape[1]
    sq = np.sum((test[:, None, :] - samples[None, :, :]) ** 2, axis=2)
    return (logsumexp(-sq / (2 * sigma ** 2), axis=1) - np.log(len(samples))
            - 0.5 * d * np.log(2 * np.pi * sigma ** 2))


def _log_normal(x, var):
    """log N(x; 0, var I) per row of x."""
    return -0.5 * x.shape[1] * np.log(2 * np.pi * var) - np.sum(x ** 2, axis=1) / (2 * var)


def _jensen_bias(x, a, sigma, n):
    """E[log KDE(x)] - log E[KDE(x)] ~ -Var[KDE(x)] / (2 E[KDE(x)]^2) (delta method), with
    E[K] = N(x; 0, (a^2 + sigma^2) I) and, as K^2 = (4 pi sigma^2)^(-d/2) N(x; s, sigma^2/2 I),
    E[K^2] = (4 pi sigma^2)^(-d/2) N(x; 0, (a^2 + sigma^2 / 2) I); Var[KDE] = Var[K] / n."""
    d = x.shape[1]
    mean_k = np.exp(_log_normal(x, a ** 2 + sigma ** 2))
    mean_k2 = (4 * np.pi * sigma ** 2) ** (-d / 2) * np.exp(_log_normal(x, a ** 2 + sigma ** 2 / 2))
    return -(mean_k2 - mean_k ** 2) / n / (2 * mean_k ** 2)


@pytest.mark.parametrize('dim,a,sigma', [(1, 1.0, 0.2), (2, 1.5, 0.3)])
def test_gaussian_kde_against_closed_form(dim, a, sigma):
    """Samples s_i ~ N(0, a^2 I): E_s[KDE(x)] = N(x; 0, (a^2 + sigma^2) I). With N large the
    log-KDE concentrates on log N(x; 0, v I), v = a^2 + sigma^2, whose mean over x ~ N(0, a^2 I)
    is -(d/2) log(2 pi v) - d a^2 / (2 v); the remaining O(1/N) Jensen bias of the log is
    computed analytically too."""
    rng = np.random.default_rng(dim)
    n_samples, n_test = 5000, 1000
    samples = rng.normal(scale=a, size=(n_samples, dim))
    test = rng.normal(scale=a, size=(n_test, dim))
    v = a ** 2 + sigma ** 2
    ll = parzen_log_densities(samples, test, sigma, batch_size=250)
    mean, std_error = ll.mean(), ll.std() / np.sqrt(n_test)
    bias = _jensen_bias(test, a, sigma, n_samples)
    analytic = -0.5 * dim * np.log(2 * np.pi * v) - dim * a ** 2 / (2 * v) + bias.mean()
    # test-set sampling error: std of log N(x) is a^2 sqrt(d / 2) / v, over sqrt(n_test)
    assert 0.5 * (a ** 2 * np.sqrt(dim / 2) / v) / np.sqrt(n_test) < std_error
    assert abs(mean - analytic) < 4.0 * std_error
    # same test points: only the KDE's own noise (relative ~ (N sigma^d p)^-1/2) remains
    deviation = ll - _log_normal(test, v)
    assert abs(np.mean(deviation - bias)) < 4.0 * np.std(deviation) / np.sqrt(n_test)
    assert abs(np.mean(deviation - bias)) < 0.01


@pytest.mark.parametrize('offset', [0.0, 50.0])
def test_matches_direct_logsumexp(offset):
    rng = np.random.default_rng(3)
    samples = rng.normal(size=(60, 3))
    test = rng.normal(size=(25, 3)) + offset  # far away: naive exp underflows to log 0
    for sigma in (0.05, 0.3, 2.0):
        got = parzen_log_densities(samples, test, sigma, batch_size=7)
        ref = _direct(samples, test, sigma)
        assert np.all(np.isfinite(got))
        np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-10)
    mean, std_error = parzen_log_likelihood(samples, test, 0.3)
    ref = _direct(samples, test, 0.3)
    assert mean == pytest.approx(ref.mean(), rel=1e-10)
    assert std_error == pytest.approx(ref.std() / np.sqrt(len(ref)), rel=1e-8)


def test_batch_size_does_not_change_result():
    rng = np.random.default_rng(4)
    samples, test = rng.normal(size=(300, 5)), rng.normal(size=(101, 5))
    results = [parzen_log_likelihood(samples, test, 0.5, batch_size=b) for b in (1, 7, 100, 1000)]
    for r in results[1:]:
        np.testing.assert_allclose(r, results[0], rtol=1e-12)


def test_one_dimensional_input_accepted():
    rng = np.random.default_rng(5)
    s, t = rng.normal(size=100), rng.normal(size=10)
    assert parzen_log_likelihood(s, t, 0.3) == parzen_log_likelihood(s[:, None], t[:, None], 0.3)


def test_sigma_selection_order_of_magnitude_and_scale_equivariance():
    rng = np.random.default_rng(6)
    samples = rng.normal(size=(1000, 2))
    validation = rng.normal(size=(300, 2))
    grid = np.logspace(-3, 2, 11)
    best = select_sigma(samples, validation, grid)
    # the likelihood-optimal width for N = 1000 points of N(0, I_2) is a few tenths
    assert 0.1 <= best <= 1.0
    # scaling the data by 10 and the grid by 10 multiplies the chosen width by 10
    assert select_sigma(10 * samples, 10 * validation, 10 * grid) == pytest.approx(10 * best)
    # data of scale 1e-2 pick a width two orders of magnitude smaller
    assert select_sigma(samples / 100, validation / 100, grid) == pytest.approx(best / 100)


def test_parzen_evaluation_and_default_grid():
    np.testing.assert_allclose(DEFAULT_SIGMAS, np.logspace(-1, 0, 10))
    rng = np.random.default_rng(7)
    samples = rng.uniform(size=(500, 4))
    validation, test = rng.uniform(size=(100, 4)), rng.uniform(size=(100, 4))
    out = parzen_evaluation(samples, validation, test)
    assert set(out) == {'sigma', 'mean', 'std_error'}
    assert out['sigma'] in DEFAULT_SIGMAS
    assert out['sigma'] == select_sigma(samples, validation)
    assert (out['mean'], out['std_error']) == parzen_log_likelihood(samples, test, out['sigma'])


def test_bad_inputs_raise():
    good = np.zeros((10, 3))
    with pytest.raises(GanJaxError, match='shape'):
        parzen_log_likelihood(np.zeros((2, 3, 4)), good, 0.1)
    with pytest.raises(GanJaxError, match='dimensions differ'):
        parzen_log_likelihood(np.zeros((10, 2)), good, 0.1)
    with pytest.raises(GanJaxError, match='sigma'):
        parzen_log_likelihood(good, good, 0.0)
    with pytest.raises(GanJaxError, match='NaN'):
        parzen_log_likelihood(good * np.nan, good, 0.1)
    with pytest.raises(GanJaxError, match='empty'):
        parzen_log_likelihood(np.zeros((0, 3)), good, 0.1)
    with pytest.raises(GanJaxError, match='sigmas'):
        select_sigma(good, good, [])
