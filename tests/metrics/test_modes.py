"""Tests for gan_jax.metrics.modes on hand-made sample sets."""

import math

import numpy as np
import pytest

from gan_jax.errors import GanJaxError
from gan_jax.data import toy
from gan_jax.metrics import modes


def test_ring_centres():
    c = toy.ring_centres()
    assert c.shape == (8, 2)
    np.testing.assert_allclose(np.linalg.norm(c, axis=1), 2.0, atol=1e-15)
    np.testing.assert_allclose(c[0], [2.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(c[2], [0.0, 2.0], atol=1e-15)
    assert toy.ring_centres(5, 1.0).shape == (5, 2)


def test_grid_centres():
    c = toy.grid_centres()
    assert c.shape == (25, 2)
    assert set(np.unique(c[:, 0])) == {-4.0, -2.0, 0.0, 2.0, 4.0}
    assert len({tuple(p) for p in c}) == 25
    np.testing.assert_array_equal(c[0], [-4.0, -4.0])
    np.testing.assert_array_equal(c[1], [-4.0, -2.0])


@pytest.mark.parametrize('centres,std', [(toy.ring_centres(), toy.RING_STD),
                                         (toy.grid_centres(), toy.GRID_STD)])
def test_samples_at_every_centre(centres, std):
    samples = np.repeat(centres, 4, axis=0)
    stats = modes.mode_statistics(samples, centres, std)
    k = len(centres)
    assert stats['high_quality_fraction'] == 1.0
    assert stats['modes_covered'] == k
    assert stats['num_modes'] == k
    assert stats['mode_counts'] == [4] * k
    assert abs(stats['kl_to_uniform']) < 1e-15


def test_all_samples_at_one_centre():
    centres = toy.grid_centres()
    samples = np.repeat(centres[7:8], 100, axis=0)
    stats = modes.mode_statistics(samples, centres, toy.GRID_STD)
    assert stats['modes_covered'] == 1
    assert stats['high_quality_fraction'] == 1.0
    assert stats['mode_counts'][7] == 100 and sum(stats['mode_counts']) == 100
    assert abs(stats['kl_to_uniform'] - math.log(25)) < 1e-12


def test_far_away_points_are_not_high_quality():
    centres = toy.ring_centres()
    samples = np.array([[0.0, 0.0], [10.0, 10.0], [1.0, 1.0], [-3.0, 0.5]])
    stats = modes.mode_statistics(samples, centres, toy.RING_STD)
    assert stats['high_quality_fraction'] == 0.0
    assert stats['modes_covered'] == 0
    assert stats['mode_counts'] == [0] * 8
    assert stats['kl_to_uniform'] == math.log(8)  # documented value with no HQ samples


@pytest.mark.parametrize('direction', [(1.0, 0.0), (0.0, -1.0), (0.6, 0.8)])
def test_three_std_boundary(direction):
    centres = toy.ring_centres()
    std = toy.RING_STD
    u = np.asarray(direction)
    inside = centres[3] + 2.9 * std * u
    outside = centres[3] + 3.1 * std * u
    stats = modes.mode_statistics(np.stack([inside, outside]), centres, std)
    assert stats['high_quality_fraction'] == 0.5
    assert stats['mode_counts'][3] == 1
    assert stats['modes_covered'] == 1


def test_min_count_and_kl():
    centres = toy.ring_centres()
    counts = np.array([10, 10, 10, 10, 2, 0, 1, 7])
    samples = np.repeat(centres, counts, axis=0)
    stats = modes.mode_statistics(samples, centres, toy.RING_STD)
    assert stats['modes_covered'] == 7  # default min_count = 1
    assert modes.mode_statistics(samples, centres, toy.RING_STD, min_count=5)[
        'modes_covered'] == 5
    h = counts / counts.sum()
    h = h[h > 0]
    assert abs(stats['kl_to_uniform'] - np.sum(h * np.log(8 * h))) < 1e-12
    assert 0.0 < stats['kl_to_uniform'] < math.log(8)


def test_noisy_samples_from_the_mixture():
    rng = np.random.default_rng(0)
    centres = toy.grid_centres()
    idx = rng.integers(0, 25, 2500)
    samples = centres[idx] + toy.GRID_STD * rng.normal(size=(2500, 2))
    stats = modes.mode_statistics(samples, centres, toy.GRID_STD)
    # P(|N(0, I_2)| < 3) = 1 - exp(-9/2) ~ 0.989
    assert abs(stats['high_quality_fraction'] - (1 - math.exp(-4.5))) < 0.01
    assert stats['modes_covered'] == 25
    assert stats['kl_to_uniform'] < 0.02


def test_nan_samples_are_not_high_quality():
    centres = toy.ring_centres()
    samples = np.array([[np.nan, np.nan], [2.0, 0.0]])
    stats = modes.mode_statistics(samples, centres, toy.RING_STD)
    assert stats['high_quality_fraction'] == 0.5
    assert stats['mode_counts'][0] == 1


def test_bad_inputs():
    centres = toy.ring_centres()
    with pytest.raises(GanJaxError):
        modes.mode_statistics(np.zeros((4, 3)), centres, 0.02)
    with pytest.raises(GanJaxError):
        modes.mode_statistics(np.zeros((4, 2)), centres, 0.0)
    with pytest.raises(GanJaxError):
        modes.mode_statistics(np.zeros((4, 2)), centres, 0.02, min_count=0)
