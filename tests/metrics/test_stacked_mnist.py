"""Tests for gan_jax.metrics.stacked_mnist with a fake classifier that reads pixel-coded digits.

Each channel of a test image is a constant whose value encodes a digit d as -1 + 2 d / 9, and
the fake classifier decodes it, so every mode count is known exactly.
"""

import itertools
import math

import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

from gan_jax.errors import GanJaxError
from gan_jax.metrics import stacked_mnist as sm

ALL_TRIPLES = np.array(list(itertools.product(range(10), repeat=3)))   # mode order 000..999


def coded_images(digits):
    """[N, 28, 28, 3] float32 images whose channel c is the constant coding digits[:, c]."""
    digits = np.asarray(digits)
    values = (-1.0 + 2.0 * digits / 9.0).astype(np.float32)              # [N, 3]
    return np.broadcast_to(values[:, None, None, :], (len(digits), 28, 28, 3)).copy()


def read_digit(x):
    """The fake classifier: (M, 28, 28, 1) in [-1, 1] -> (M,) int64 digits."""
    assert x.ndim == 4 and x.shape[1:] == (28, 28, 1), x.shape
    return np.rint((np.asarray(x).mean(axis=(1, 2, 3)) + 1.0) * 4.5).astype(np.int64)


def direct_statistics(digits, min_count=1):
    """Independent reference: distinct triples by tuple counting, KL with scipy."""
    counts = {}
    for triple in map(tuple, np.asarray(digits)):
        counts[triple] = counts.get(triple, 0) + 1
    p = np.array(list(counts.values()), np.float64)
    p_full = np.concatenate([p, np.zeros(1000 - len(p))])
    kl = scipy.stats.entropy(p_full, np.full(1000, 1e-3))      # sum p log(p/q), normalised
    return sum(c >= min_count for c in counts.values()), kl, counts


def test_mode_labels_encoding():
    assert sm.mode_labels([1, 2, 3]) == 123
    np.testing.assert_array_equal(sm.mode_labels([[0, 0, 0], [9, 9, 9], [0, 4, 7]]),
                                  [0, 999, 47])
    np.testing.assert_array_equal(sm.mode_labels(ALL_TRIPLES), np.arange(1000))


def test_fake_classifier_reads_every_digit():
    x = coded_images(ALL_TRIPLES[:: 37])
    channels = x.transpose(0, 3, 1, 2).reshape(-1, 28, 28, 1)
    np.testing.assert_array_equal(read_digit(channels), ALL_TRIPLES[:: 37].reshape(-1))


def test_every_mode_equally_often():
    digits = np.concatenate([ALL_TRIPLES, ALL_TRIPLES])
    stats = sm.stacked_mnist_modes(coded_images(digits), read_digit)
    assert stats['num_samples'] == 2000
    assert stats['modes_captured'] == 1000
    assert stats['num_modes'] == 1000
    assert stats['mode_counts'] == [2] * 1000
    assert abs(stats['kl_to_uniform']) < 1e-12
    assert stats['channel_histograms'] == [[200] * 10] * 3


def test_all_samples_in_one_mode():
    stats = sm.stacked_mnist_modes(coded_images(np.tile([3, 5, 7], (50, 1))), read_digit)
    assert stats['modes_captured'] == 1
    assert stats['mode_counts'][357] == 50 and sum(stats['mode_counts']) == 50
    assert abs(stats['kl_to_uniform'] - math.log(1000)) < 1e-12
    assert stats['channel_histograms'] == [[50 if d == k else 0 for d in range(10)]
                                           for k in (3, 5, 7)]


def test_channel_order_is_red_green_blue():
    stats = sm.stacked_mnist_modes(coded_images([[1, 2, 3]]), read_digit)
    assert stats['mode_counts'][123] == 1 and stats['modes_captured'] == 1


@pytest.mark.parametrize('min_count', [1, 3])
def test_partial_coverage_matches_direct_computation(min_count):
    rng = np.random.default_rng(0)
    # A skewed generator: channels favour small digits, so some modes are missed and the
    # histogram is uneven.
    weights = np.arange(10, 0, -1) ** 2 / np.sum(np.arange(10, 0, -1) ** 2)
    digits = rng.choice(10, size=(3000, 3), p=weights)
    stats = sm.stacked_mnist_modes(coded_images(digits), read_digit, min_count=min_count)
    captured, kl, counts = direct_statistics(digits, min_count)
    assert 100 < captured < 1000
    assert stats['modes_captured'] == captured
    assert abs(stats['kl_to_uniform'] - kl) < 1e-12
    assert 0 < stats['kl_to_uniform'] < math.log(1000)
    for (r, g, b), c in counts.items():
        assert stats['mode_counts'][100 * r + 10 * g + b] == c
    assert sum(stats['mode_counts']) == 3000
    for ch in range(3):
        np.testing.assert_array_equal(stats['channel_histograms'][ch],
                                      np.bincount(digits[:, ch], minlength=10))


def test_batches_and_jax_arrays_give_the_same_answer():
    rng = np.random.default_rng(1)
    digits = rng.integers(0, 10, size=(100, 3))
    images = coded_images(digits)
    calls = []

    def jax_classifier(x):
        calls.append(x.shape)
        assert x.dtype == np.float32 and -1.0 <= x.min() and x.max() <= 1.0
        return jnp.asarray(read_digit(x), jnp.int32)

    whole = sm.stacked_mnist_modes(images, read_digit)
    batched = sm.stacked_mnist_modes(jnp.asarray(images), jax_classifier, batch_size=7)
    assert batched == whole
    assert calls == [(21, 28, 28, 1)] * 14 + [(6, 28, 28, 1)]
    direct, _, _ = direct_statistics(digits)
    assert whole['modes_captured'] == direct


def test_mode_coverage_of_labels():
    stats = sm.mode_coverage(np.array([5, 5, 7, 999]))
    assert stats['modes_captured'] == 3 and stats['num_samples'] == 4
    expected = 0.5 * math.log(500) + 2 * 0.25 * math.log(250)
    assert abs(stats['kl_to_uniform'] - expected) < 1e-12
    assert sm.mode_coverage(np.array([5, 5, 7, 999]), min_count=2)['modes_captured'] == 1


@pytest.mark.parametrize('modes,match', [
    (np.zeros((0,), np.int64), 'non-empty'),
    (np.zeros((2, 3), np.int64), 'non-empty'),
    (np.array([1.0, 2.0]), 'integers'),
    (np.array([0, 1000]), r'0\.\.999'),
    (np.array([-1, 3]), r'0\.\.999'),
])
def test_mode_coverage_rejects_bad_labels(modes, match):
    with pytest.raises(GanJaxError, match=match):
        sm.mode_coverage(modes)


def test_min_count_must_be_positive():
    with pytest.raises(GanJaxError, match='min_count'):
        sm.mode_coverage(np.array([1, 2]), min_count=0)


@pytest.mark.parametrize('images,match', [
    (np.zeros((4, 28, 28, 1), np.float32), r'shape \(4, 28, 28, 1\)'),
    (np.zeros((4, 3, 28, 28), np.float32), 'NCHW'),
    (np.zeros((0, 28, 28, 3), np.float32), 'empty'),
    (np.zeros((4, 28, 28, 3), np.uint8), 'to_model_range'),
    (np.full((4, 28, 28, 3), np.nan, np.float32), 'non-finite'),
    (np.full((4, 28, 28, 3), 255.0, np.float32), 'range'),
])
def test_bad_images_are_refused(images, match):
    with pytest.raises(GanJaxError, match=match):
        sm.stacked_mnist_modes(images, read_digit)


@pytest.mark.parametrize('classify,match', [
    (lambda x: np.zeros((len(x), 10), np.float32), 'argmax'),           # probabilities
    (lambda x: np.zeros((len(x),), np.float32), 'integer'),             # float labels
    (lambda x: np.zeros((len(x) - 1,), np.int64), 'shape'),             # wrong count
    (lambda x: np.full((len(x),), 10, np.int64), r'0\.\.9'),             # not a digit
    (lambda x: np.full((len(x),), -1, np.int64), r'0\.\.9'),
])
def test_bad_classifier_outputs_are_refused(classify, match):
    with pytest.raises(GanJaxError, match=match):
        sm.stacked_mnist_modes(coded_images([[1, 2, 3]] * 4), classify)


def test_bad_arguments_are_refused():
    images = coded_images([[1, 2, 3]])
    with pytest.raises(GanJaxError, match='classify must be a function'):
        sm.stacked_mnist_modes(images, 'lenet')
    with pytest.raises(GanJaxError, match='batch_size'):
        sm.stacked_mnist_modes(images, read_digit, batch_size=0)
    with pytest.raises(GanJaxError, match='min_count'):
        sm.stacked_mnist_modes(images, read_digit, min_count=0)
