"""Tests for gan_jax.theory: Proposition 1 and Theorem 1 of the GAN paper on discrete supports."""

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.spatial.distance import jensenshannon
from scipy.special import softmax

from gan_jax import theory
from gan_jax.errors import GanJaxError

LOG4 = np.log(4.0)
SEEDS = range(8)


def _pair(seed, n=7, zeros=True):
    """Dirichlet p_data, p_g; with ``zeros``, each gets a zero and they share one zero point."""
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(n))
    q = rng.dirichlet(np.full(n, 0.5))
    if zeros:
        p[0] = q[0] = 0.0  # outside both supports
        p[1] = 0.0         # only p_g has mass here: D* = 0
        q[2] = 0.0         # only p_data has mass here: D* = 1
        p, q = p / p.sum(), q / q.sum()
    return p, q


CASES = [(s, z) for s in SEEDS for z in (False, True)]


@pytest.mark.parametrize('seed,zeros', CASES)
def test_optimal_discriminator_maximises_value(seed, zeros):
    p, q = _pair(seed, zeros=zeros)
    d_star = theory.optimal_discriminator(p, q)
    v_star = theory.value_discrete(d_star, p, q)
    assert np.isfinite(v_star)
    rng = np.random.default_rng(100 + seed)
    for _ in range(200):  # arbitrary discriminators
        d = rng.uniform(0.0, 1.0, size=p.shape)
        assert theory.value_discrete(d, p, q) <= v_star
    for scale in (1e-1, 1e-3, 1e-6):  # small perturbations of D*
        for _ in range(50):
            d = np.clip(d_star + scale * rng.normal(size=p.shape), 0.0, 1.0)
            assert theory.value_discrete(d, p, q) <= v_star + 1e-15


@pytest.mark.parametrize('seed,zeros', CASES)
def test_gradient_of_value_vanishes_at_optimum(seed, zeros):
    # dV/dd_i = p_data_i / d_i - p_g_i / (1 - d_i); check it by central differences.
    p, q = _pair(seed, zeros=zeros)
    d_star = theory.optimal_discriminator(p, q)
    interior = (p > 0) & (q > 0)
    for i in np.flatnonzero(interior):
        # Step relative to the distance to the boundary keeps the O(h^2 V''') error small.
        h = 1e-4 * min(d_star[i], 1 - d_star[i])
        e = np.zeros_like(d_star)
        e[i] = h
        grad = (theory.value_discrete(d_star + e, p, q)
                - theory.value_discrete(d_star - e, p, q)) / (2 * h)
        assert abs(grad) < 1e-7, (i, grad)
        # ... while a 1% move off D* gives a gradient orders of magnitude larger.
        e[i] = 0.01 * min(d_star[i], 1 - d_star[i])
        off = (theory.value_discrete(d_star + 2 * e, p, q)
               - theory.value_discrete(d_star, p, q)) / (2 * e[i])
        assert abs(off) > 1e3 * abs(grad)
        analytic = p[i] / d_star[i] - q[i] / (1 - d_star[i])
        assert abs(analytic) < 1e-12
    # Boundary points (one distribution is zero there): D* sits on the boundary 0 or 1 and V
    # decreases moving inwards (a KKT maximum); where both are zero V does not depend on d.
    for i in np.flatnonzero(~interior):
        e = np.zeros_like(d_star)
        if p[i] == 0 and q[i] == 0:
            assert d_star[i] == 0.5
            e[i] = 0.3
            assert theory.value_discrete(d_star + e, p, q) == theory.value_discrete(d_star, p, q)
        else:
            assert d_star[i] == (1.0 if q[i] == 0 else 0.0)
            e[i] = -1e-3 if q[i] == 0 else 1e-3
            assert theory.value_discrete(d_star + e, p, q) < theory.value_discrete(d_star, p, q)


@pytest.mark.parametrize('seed,zeros', CASES)
def test_value_at_optimum_is_jsd_identity(seed, zeros):
    p, q = _pair(seed, zeros=zeros)
    v_star = theory.value_discrete(theory.optimal_discriminator(p, q), p, q)
    assert abs(v_star - (-LOG4 + 2.0 * theory.jensen_shannon(p, q))) < 1e-12


@pytest.mark.parametrize('seed,zeros', CASES)
def test_jensen_shannon_matches_scipy(seed, zeros):
    p, q = _pair(seed, zeros=zeros)
    jsd = theory.jensen_shannon(p, q)
    assert abs(jsd - jensenshannon(p, q) ** 2) < 1e-12
    assert 0.0 <= jsd <= np.log(2.0)
    assert abs(jsd - theory.jensen_shannon(q, p)) < 1e-15


def test_jensen_shannon_extremes():
    p = np.array([1.0, 0.0, 0.0])
    q = np.array([0.0, 0.5, 0.5])
    assert abs(theory.jensen_shannon(p, q) - np.log(2.0)) < 1e-15  # disjoint supports
    assert theory.jensen_shannon(q, q) == 0.0


@pytest.mark.parametrize('seed,zeros', CASES)
def test_global_minimum_is_minus_log_4_at_p_data(seed, zeros):
    p, q = _pair(seed, zeros=zeros)

    def criterion(p_g):  # C(G) = max_D V(D, G)
        return theory.value_discrete(theory.optimal_discriminator(p, p_g), p, p_g)

    assert abs(criterion(p) - (-LOG4)) < 1e-15
    assert criterion(q) > -LOG4
    rng = np.random.default_rng(200 + seed)
    for _ in range(50):
        assert criterion(rng.dirichlet(np.ones(p.size))) > -LOG4
    for eps in (1e-2, 1e-4):  # near p_data: strictly above, by ~ chi^2 / 4 (JSD ~ chi^2 / 8)
        p_g = (1 - eps) * p + eps * q
        assert criterion(p_g) > -LOG4


def test_minimising_over_p_g_recovers_p_data():
    p, _ = _pair(3, n=5, zeros=False)

    def objective(logits):
        p_g = softmax(logits)
        return theory.value_discrete(theory.optimal_discriminator(p, p_g), p, p_g)

    result = minimize(objective, np.zeros(p.size), method='BFGS', options={'gtol': 1e-10})
    assert abs(result.fun - (-LOG4)) < 1e-9
    np.testing.assert_allclose(softmax(result.x), p, atol=1e-4)


def test_zero_log_zero_convention():
    p = np.array([0.5, 0.5, 0.0])
    q = np.array([0.0, 0.5, 0.5])
    d = np.array([1.0, 0.5, 0.0])  # d = 1 where p_g = 0 and d = 0 where p_data = 0: no -inf
    assert theory.value_discrete(d, p, q) == pytest.approx(np.log(0.5))
    assert theory.value_discrete(np.array([0.0, 0.5, 0.5]), p, q) == -np.inf


def test_optimal_discriminator_convention_and_values():
    p = np.array([0.5, 0.5, 0.0, 0.0])
    q = np.array([0.25, 0.0, 0.75, 0.0])
    q = q / q.sum()
    np.testing.assert_array_equal(theory.optimal_discriminator(p, q), [2 / 3, 1.0, 0.0, 0.5])
    np.testing.assert_array_equal(theory.optimal_discriminator(p, p), [0.5] * 4)


@pytest.mark.parametrize('bad', [np.array([0.5, 0.6]), np.array([-0.5, 1.5]),
                                 np.ones((2, 2)) / 4, np.array([np.nan, 1.0])])
def test_rejects_non_distributions(bad):
    with pytest.raises(GanJaxError):
        theory.jensen_shannon(bad, bad)


def test_rejects_mismatched_support_and_bad_d():
    with pytest.raises(GanJaxError, match='support'):
        theory.optimal_discriminator(np.array([1.0]), np.array([0.5, 0.5]))
    with pytest.raises(GanJaxError, match=r'\[0, 1\]'):
        theory.value_discrete(np.array([1.5, 0.5]), np.array([0.5, 0.5]), np.array([0.5, 0.5]))
