"""Toy distributions: moments, mixture modes, determinism per example index, densities."""
import jax
import numpy as np
import pytest
from ml_collections import ConfigDict

from gan_jax.data.stream import ToyStream
from gan_jax.data.toy import make_toy
from gan_jax.errors import GanJaxError


def _cfg(name="toy_1d", distribution="gaussian", mean=1.5, std=0.5, separation=4.0):
    return ConfigDict(dict(name=name, distribution=distribution, mean=mean, std=std,
                           separation=separation))


def test_gaussian_moments_and_pdf():
    dist = make_toy(_cfg())
    x = np.asarray(dist.sample(jax.random.key(0), np.arange(20_000)))[:, 0]
    assert abs(x.mean() - 1.5) < 0.02 and abs(x.std() - 0.5) < 0.02
    grid = np.linspace(-3, 6, 2001)
    assert abs(np.trapezoid(dist.pdf(grid), grid) - 1) < 1e-6
    assert dist.std == pytest.approx(0.5)


def test_mixture_has_two_equal_modes():
    dist = make_toy(_cfg(distribution="mixture", mean=0.0, std=0.3, separation=4.0))
    x = np.asarray(dist.sample(jax.random.key(1), np.arange(20_000)))[:, 0]
    left = np.mean(x < 0)
    assert abs(left - 0.5) < 0.02
    assert abs(np.median(x[x < 0]) + 2) < 0.02 and abs(np.median(x[x > 0]) - 2) < 0.02
    assert dist.std == pytest.approx(np.sqrt(0.3 ** 2 + 2 ** 2))


@pytest.mark.parametrize("name,modes,std", [("ring", 8, 0.02), ("grid", 25, 0.05)])
def test_2d_mixtures_put_every_sample_near_a_mode(name, modes, std):
    dist = make_toy(_cfg(name=name))
    x = np.asarray(dist.sample(jax.random.key(2), np.arange(5000)))
    d = np.linalg.norm(x[:, None] - dist.centres[None], axis=-1)
    assert np.mean(d.min(1) < 4 * std) > 0.99
    assert len(np.unique(d.argmin(1))) == modes


def test_examples_depend_only_on_their_index():
    stream = ToyStream(make_toy(_cfg()), seed=0)
    whole = stream.transform(stream.batches(0, 4, 8))["x"]
    tail = stream.transform(stream.batches(16, 2, 8))["x"]
    np.testing.assert_array_equal(np.asarray(whole)[2:], np.asarray(tail))
    other_seed = ToyStream(make_toy(_cfg()), seed=1).transform(stream.batches(0, 4, 8))["x"]
    assert not np.allclose(whole, other_seed)


def test_unknown_toy_distribution():
    with pytest.raises(GanJaxError, match="unknown data.distribution 'cauchy'"):
        make_toy(_cfg(distribution="cauchy"))
