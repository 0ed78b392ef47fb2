"""Tests for gan_jax.metrics.inception_score against closed forms and a hand-made table."""

import numpy as np
import pytest

from gan_jax.errors import GanJaxError
from gan_jax.metrics.inception_score import inception_score


def test_uniform_rows_give_one():
    mean, std = inception_score(np.full((100, 10), 0.1), splits=10)
    assert mean == pytest.approx(1.0, abs=1e-12) and std == pytest.approx(0.0, abs=1e-12)


def test_identical_rows_give_one():
    row = np.array([0.7, 0.2, 0.1])
    mean, _ = inception_score(np.tile(row, (30, 1)), splits=3)
    assert mean == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize('num_classes', [2, 10, 1000])
def test_balanced_one_hot_gives_num_classes(num_classes):
    probs = np.tile(np.eye(num_classes), (2, 1))  # each split holds every class once
    mean, std = inception_score(probs, splits=2)
    assert mean == pytest.approx(num_classes, rel=1e-12) and std == pytest.approx(0.0, abs=1e-9)


def test_hand_made_table():
    # p(y|x) rows [1, 0] and [1/2, 1/2]; p(y) = [3/4, 1/4].
    # KL1 = log(4/3); KL2 = 1/2 log(2/3) + 1/2 log(2) = 1/2 log(4/3).
    # IS = exp((KL1 + KL2) / 2) = exp(3/4 log(4/3)) = (4/3)^(3/4).
    probs = np.array([[1.0, 0.0], [0.5, 0.5]])
    mean, std = inception_score(probs, splits=1)
    assert mean == pytest.approx((4.0 / 3.0) ** 0.75, rel=1e-14) and std == 0.0


def test_splits_use_per_split_marginal_and_population_std():
    # split 1: balanced one-hot over 2 classes -> 2; split 2: uniform rows -> 1.
    probs = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.5, 0.5]])
    mean, std = inception_score(probs, splits=2)
    assert mean == pytest.approx(1.5) and std == pytest.approx(0.5)
    # one split: p(y) = [1/2, 1/2]; KL = log 2, log 2, 0, 0 -> exp(log(2)/2) = sqrt(2)
    assert inception_score(probs, splits=1)[0] == pytest.approx(np.sqrt(2.0))


def test_remainder_spread_like_original_code():
    # N = 5, splits = 2: rows [0, 2) and [2, 5) (i N // splits boundaries), none dropped.
    probs = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    part2 = probs[2:]
    kl = np.sum(np.where(part2 > 0, part2 * np.log(np.where(part2 > 0, part2, 1.0)
                                                   / part2.mean(0)), 0.0), axis=1)
    expected = np.mean([2.0, np.exp(kl.mean())])
    assert inception_score(probs, splits=2)[0] == pytest.approx(expected, rel=1e-12)


def test_random_probs_within_bounds():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(1000, 10)) * 3
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    mean, std = inception_score(probs.astype(np.float32))
    assert 1.0 < mean < 10.0 and std > 0.0


def test_bad_inputs_raise():
    with pytest.raises(GanJaxError, match='shape'):
        inception_score(np.full(10, 0.1))
    with pytest.raises(GanJaxError, match='sum to 1'):
        inception_score(np.ones((10, 3)))
    with pytest.raises(GanJaxError, match='negative'):
        inception_score(np.array([[1.5, -0.5]] * 4), splits=1)
    with pytest.raises(GanJaxError, match='NaN'):
        inception_score(np.full((4, 2), np.nan), splits=1)
    with pytest.raises(GanJaxError, match='splits'):
        inception_score(np.full((4, 2), 0.5), splits=5)
    with pytest.raises(GanJaxError, match='splits'):
        inception_score(np.full((4, 2), 0.5), splits=0)
