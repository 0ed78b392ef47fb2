"""gan_jax.metrics.compare: the metric set from two feature sets, against the metric modules
called directly and against closed forms."""
import math

import numpy as np
import pytest
from scipy.special import softmax

from gan_jax.errors import GanJaxError
from gan_jax.metrics import compare
from gan_jax.metrics.features import Features
from gan_jax.metrics.frechet import frechet_distance, gaussian_statistics
from gan_jax.metrics.inception_score import inception_score
from gan_jax.metrics.kid import kernel_inception_distance
from gan_jax.metrics.parzen import parzen_evaluation
from gan_jax.metrics.precision_recall import density_coverage, precision_recall


def _features(seed, n=300, d=8, c=5, shift=0.0):
    rng = np.random.default_rng(seed)
    return Features(features=(rng.normal(size=(n, d)) + shift).astype(np.float32),
                    logits=rng.normal(size=(n, c)).astype(np.float32) * 3)


def test_parse_metrics():
    assert compare.parse_metrics("kid, fid") == ("fid", "kid")  # METRICS order, spaces ok
    assert compare.parse_metrics(["modes", "is"]) == ("is", "modes")
    with pytest.raises(GanJaxError, match="unknown metric.*'fdi'.*valid: fid,is,kid"):
        compare.parse_metrics("fdi,kid")
    with pytest.raises(GanJaxError, match="unknown metric"):
        compare.parse_metrics("")


def test_feature_metrics_equal_the_metric_modules():
    real, fake = _features(0), _features(1, shift=0.5)
    out = compare.feature_metrics(real, fake, compare.FEATURE_METRICS, seed=3)
    fid = frechet_distance(*gaussian_statistics(real.features), *gaussian_statistics(fake.features))
    assert out["fid"] == pytest.approx(fid, rel=1e-12)
    is_mean, is_std = inception_score(softmax(fake.logits.astype(np.float64), -1), splits=10)
    assert (out["is"], out["is_std"]) == pytest.approx((is_mean, is_std), rel=1e-10)
    assert (out["kid"], out["kid_std"]) == pytest.approx(
        kernel_inception_distance(real.features, fake.features, seed=3), rel=1e-12)
    assert (out["precision"], out["recall"]) == precision_recall(real.features, fake.features)
    assert (out["density"], out["coverage"]) == density_coverage(real.features, fake.features)
    assert out["fid"] > 1.0  # the shift of 0.5 in 8 dims: ||mu1 - mu2||^2 ~ 2


def test_feature_metrics_computes_only_what_is_asked():
    real, fake = _features(0), _features(1)
    assert set(compare.feature_metrics(real, fake, ("pr",))) == {"precision", "recall"}
    assert set(compare.feature_metrics(real, fake, ("dc", "parzen"))) == {"density", "coverage"}
    stats = (np.zeros(8), np.eye(8))  # precomputed real statistics are used as given
    fid = compare.feature_metrics(real, fake, ("fid",), real_statistics=stats)["fid"]
    assert fid == pytest.approx(frechet_distance(*stats, *gaussian_statistics(fake.features)))


def test_identical_sets_score_as_a_perfect_generator():
    real = _features(0)
    out = compare.feature_metrics(real, real, ("fid", "pr", "dc"))
    assert out["fid"] == pytest.approx(0.0, abs=1e-9)
    assert out["precision"] == out["recall"] == out["coverage"] == 1.0


def test_probabilities_are_a_stable_softmax():
    logits = np.array([[1000.0, 0.0, -1000.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(compare.probabilities(logits), [[1, 0, 0], [1 / 3] * 3], atol=1e-15)


def test_parzen_metrics_scale_pixels_to_unit_range():
    rng = np.random.default_rng(0)
    fake, val, test = (rng.uniform(-1, 1, size=(n, 4, 4, 1)) for n in (200, 50, 50))
    out = compare.parzen_metrics(fake, val, test)
    ref = parzen_evaluation((fake.reshape(200, -1) + 1) / 2, (val.reshape(50, -1) + 1) / 2,
                            (test.reshape(50, -1) + 1) / 2)
    assert out == {"parzen_ll": ref["mean"], "parzen_se": ref["std_error"],
                   "parzen_sigma": ref["sigma"]}


@pytest.mark.parametrize("labels,covered,kl", [
    (np.repeat(np.arange(10), 100), 10, 0.0),                # balanced
    (np.zeros(1000, int), 1, math.log(10)),                  # one class
    (np.r_[np.zeros(995, int), np.arange(1, 6)], 1, None),   # strays below 10% of a fair share
])
def test_class_modes(labels, covered, kl):
    out = compare.class_modes(labels, 10)
    assert out["classes_covered"] == covered
    assert sum(out["class_histogram"]) == len(labels) and len(out["class_histogram"]) == 10
    h = np.bincount(labels, minlength=10) / len(labels)
    direct = sum(p * math.log(10 * p) for p in h if p > 0)
    assert out["class_kl_to_uniform"] == pytest.approx(direct if kl is None else kl, abs=1e-12)
    with pytest.raises(GanJaxError, match="non-empty vector"):
        compare.class_modes(np.zeros((2, 2), int), 10)
