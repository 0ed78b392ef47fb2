"""Tests for gan_jax.metrics.frechet: the pytorch-fid formula, closed forms, singular cases."""

import os

import numpy as np
import pytest
import scipy.linalg

from gan_jax.errors import GanJaxError
from gan_jax.metrics.frechet import frechet_distance, gaussian_statistics

SLOW = pytest.mark.skipif(not os.environ.get('GAN_JAX_SLOW_TESTS'),
                          reason='scipy sqrtm reference at d >= 512 takes 10-70 s on 2 cores; '
                                 'set GAN_JAX_SLOW_TESTS=1')


def _reference_fid(mu1, s1, mu2, s2, eps=1e-6):
    """pytorch-fid's calculate_frechet_distance (sqrtm, eps*I retry, real part)."""
    diff = mu1 - mu2
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    if not np.isfinite(covmean).all():
        offset = np.eye(s1.shape[0]) * eps
        covmean = scipy.linalg.sqrtm((s1 + offset) @ (s2 + offset))
    covmean = np.real(covmean)
    return diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean)


def _random_stats(rng, d):
    w = rng.normal(size=(d, d + 10))
    sigma = w @ w.T / d + 0.1 * np.eye(d)
    return rng.normal(size=d), sigma


@pytest.mark.parametrize('d', [2, 64, 128, pytest.param(512, marks=SLOW),
                               pytest.param(2048, marks=SLOW)])
def test_matches_pytorch_fid_formula(d):
    rng = np.random.default_rng(d)
    mu1, s1 = _random_stats(rng, d)
    mu2, s2 = _random_stats(rng, d)
    ours = frechet_distance(mu1, s1, mu2, s2)
    ref = _reference_fid(mu1, s1, mu2, s2)
    assert isinstance(ours, float)
    assert abs(ours - ref) <= 1e-6 * abs(ref)


def test_matches_pytorch_fid_formula_on_features():
    rng = np.random.default_rng(1)
    f1 = rng.normal(size=(500, 32))
    f2 = rng.normal(size=(400, 32)) @ rng.normal(size=(32, 32)) * 0.3 + 0.5
    stats1, stats2 = gaussian_statistics(f1), gaussian_statistics(f2)
    ref = _reference_fid(*stats1, *stats2)
    assert abs(frechet_distance(*stats1, *stats2) - ref) <= 1e-6 * ref


def test_commuting_closed_form():
    """S1 = Q diag(a) Q^T, S2 = Q diag(b) Q^T: Tr (S1 S2)^{1/2} = sum sqrt(a b)."""
    rng = np.random.default_rng(2)
    d = 256
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    a, b = rng.uniform(0.01, 3.0, d), rng.uniform(0.01, 3.0, d)
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    got = frechet_distance(mu1, (q * a) @ q.T, mu2, (q * b) @ q.T)
    assert abs(got - expected) <= 1e-8 * expected


def test_diagonal_closed_form():
    rng = np.random.default_rng(3)
    d = 50
    a, b = rng.uniform(0.0, 2.0, d), rng.uniform(0.0, 2.0, d)
    a[:5] = 0.0  # singular covariances too
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    got = frechet_distance(mu1, np.diag(a), mu2, np.diag(b))
    assert got == pytest.approx(expected, rel=1e-10)


def test_one_dimensional_gaussians():
    # W2^2 between N(m1, v1) and N(m2, v2) = (m1 - m2)^2 + (sqrt v1 - sqrt v2)^2
    got = frechet_distance(np.array([1.0]), np.array([[4.0]]), np.array([-2.0]), np.array([[1.0]]))
    assert got == pytest.approx(9.0 + 1.0, rel=1e-12)


def test_zero_for_identical_statistics():
    rng = np.random.default_rng(4)
    mu, sigma = _random_stats(rng, 128)
    value = frechet_distance(mu, sigma, mu, sigma)
    assert 0.0 <= value <= 1e-9 * np.trace(sigma)


def test_rank_deficient_covariances_exact():
    """Fewer samples than dimensions: S = A A^T of rank < d; Tr (S1 S2)^{1/2} = ||A1^T A2||_*."""
    rng = np.random.default_rng(5)
    n, d = 20, 64
    f1 = rng.normal(size=(n, d))
    f2 = rng.normal(size=(n, d)) * 2.0 + 0.1
    (mu1, s1), (mu2, s2) = gaussian_statistics(f1), gaussian_statistics(f2)
    assert np.linalg.matrix_rank(s1) == n - 1
    a1 = (f1 - mu1).T / np.sqrt(n - 1)
    a2 = (f2 - mu2).T / np.sqrt(n - 1)
    nuclear = np.sum(scipy.linalg.svdvals(a1.T @ a2))
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2.0 * nuclear
    got = frechet_distance(mu1, s1, mu2, s2)
    assert np.isfinite(got) and got >= 0.0
    assert abs(got - expected) <= 1e-6 * expected
    same = frechet_distance(mu1, s1, mu1, s1)
    assert np.isfinite(same) and 0.0 <= same <= 1e-6 * np.trace(s1)


def test_gaussian_statistics_matches_numpy():
    rng = np.random.default_rng(6)
    f = rng.normal(size=(100, 7)).astype(np.float32)
    mu, sigma = gaussian_statistics(f)
    assert mu.dtype == np.float64 and sigma.dtype == np.float64
    np.testing.assert_allclose(mu, f.astype(np.float64).mean(0), rtol=1e-12)
    np.testing.assert_allclose(sigma, np.cov(f.astype(np.float64), rowvar=False), rtol=1e-10)


def test_bad_inputs_raise():
    with pytest.raises(GanJaxError, match='shape'):
        gaussian_statistics(np.zeros(10))
    with pytest.raises(GanJaxError, match='at least 2'):
        gaussian_statistics(np.zeros((1, 3)))
    with pytest.raises(GanJaxError, match='NaN'):
        gaussian_statistics(np.full((4, 3), np.nan))
    mu, sigma = np.zeros(3), np.eye(3)
    with pytest.raises(GanJaxError, match='shape'):
        frechet_distance(mu, np.eye(4), mu, sigma)
    with pytest.raises(GanJaxError, match='differ'):
        frechet_distance(mu, sigma, np.zeros(4), np.eye(4))
    with pytest.raises(GanJaxError, match='NaN'):
        frechet_distance(mu, sigma * np.nan, mu, sigma)


def test_one_singular_covariance_and_symmetry():
    """S1 full rank, S2 = A2 A2^T of rank 9 (10 samples in 40 dims), both argument orders.

    The zero eigenvalues of L1^T S2 L1 come out as +-eps ||S||, and sqrt(eps ||S||) ~ 1e-8
    each: ~1e-8 relative is the float64 floor for singular products (any method)."""
    rng = np.random.default_rng(7)
    mu1, s1 = _random_stats(rng, 40)
    mu2, s2 = gaussian_statistics(rng.normal(size=(10, 40)))
    a2 = (np.linalg.cholesky(s1).T @ np.linalg.svd(s2)[0][:, :9]
          * np.sqrt(np.linalg.svd(s2)[1][:9]))
    expected = (np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2)
                - 2.0 * np.sum(scipy.linalg.svdvals(a2)))
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-7)
    assert frechet_distance(mu2, s2, mu1, s1) == pytest.approx(expected, rel=1e-7)
