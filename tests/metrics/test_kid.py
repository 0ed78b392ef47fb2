"""Tests for gan_jax.metrics.kid against a direct double-loop unbiased MMD^2."""

import numpy as np
import pytest

from gan_jax.errors import GanJaxError
from gan_jax.metrics.kid import kernel_inception_distance, mmd2_unbiased


def _slow_mmd2(x, y):
    """Unbiased MMD^2 (Gretton et al. 2012, eq. 3) by explicit loops, k = (x.y/d + 1)^3."""
    d = x.shape[1]

    def k(a, b):
        return (sum(a[t] * b[t] for t in range(d)) / d + 1.0) ** 3

    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2.0 * xy


@pytest.mark.parametrize('m,n', [(2, 2), (7, 7), (12, 9)])
def test_mmd2_matches_double_loop(m, n):
    rng = np.random.default_rng(m * 100 + n)
    x, y = rng.normal(size=(m, 4)), rng.normal(size=(n, 4)) + 0.3
    assert mmd2_unbiased(x, y) == pytest.approx(_slow_mmd2(x, y), rel=1e-12, abs=1e-12)


def test_kid_matches_double_loop_on_the_same_subsets():
    rng = np.random.default_rng(0)
    f1, f2 = rng.normal(size=(15, 3)), rng.normal(size=(12, 3)) + 0.5
    mean, std = kernel_inception_distance(f1, f2, num_subsets=4, subset_size=8, seed=3)
    draw = np.random.RandomState(3)
    values = []
    for _ in range(4):
        x = f1[draw.choice(15, 8, replace=False)]
        y = f2[draw.choice(12, 8, replace=False)]
        values.append(_slow_mmd2(x, y))
    assert mean == pytest.approx(np.mean(values), rel=1e-12)
    assert std == pytest.approx(np.std(values), rel=1e-10)


def test_subset_size_capped_at_number_of_samples():
    rng = np.random.default_rng(1)
    f1, f2 = rng.normal(size=(10, 3)), rng.normal(size=(20, 3))
    mean, std = kernel_inception_distance(f1, f2, num_subsets=1, subset_size=1000, seed=0)
    draw = np.random.RandomState(0)
    x, y = f1[draw.choice(10, 10, replace=False)], f2[draw.choice(20, 10, replace=False)]
    assert mean == pytest.approx(_slow_mmd2(x, y), rel=1e-12) and std == 0.0


def test_same_distribution_near_zero_and_shift_positive():
    rng = np.random.default_rng(2)
    d = 16
    real, fake = rng.normal(size=(2000, d)), rng.normal(size=(2000, d))
    same, same_std = kernel_inception_distance(real, fake, num_subsets=10, subset_size=300)
    shifted, _ = kernel_inception_distance(real, fake + 0.5, num_subsets=10, subset_size=300)
    # For equal distributions E[MMD^2_u] = 0; a single subset has std ~ same_std.
    assert abs(same) < 3.0 * same_std / np.sqrt(10) + 1e-3
    assert shifted > 20.0 * max(abs(same), same_std)


def test_deterministic_for_a_seed():
    rng = np.random.default_rng(3)
    f1, f2 = rng.normal(size=(300, 8)), rng.normal(size=(300, 8)) + 0.1
    a = kernel_inception_distance(f1, f2, num_subsets=5, subset_size=100, seed=7)
    b = kernel_inception_distance(f1, f2, num_subsets=5, subset_size=100, seed=7)
    c = kernel_inception_distance(f1, f2, num_subsets=5, subset_size=100, seed=8)
    assert a == b and a != c


def test_bad_inputs_raise():
    good = np.zeros((5, 3))
    with pytest.raises(GanJaxError, match='shape'):
        kernel_inception_distance(np.zeros(5), good)
    with pytest.raises(GanJaxError, match='at least 2'):
        kernel_inception_distance(np.zeros((1, 3)), good)
    with pytest.raises(GanJaxError, match='dimensions differ'):
        kernel_inception_distance(np.zeros((5, 4)), good)
    with pytest.raises(GanJaxError, match='NaN'):
        kernel_inception_distance(good * np.nan, good)
    with pytest.raises(GanJaxError, match='subset_size'):
        kernel_inception_distance(good, good, subset_size=1)
    with pytest.raises(GanJaxError, match='num_subsets'):
        kernel_inception_distance(good, good, num_subsets=0)
