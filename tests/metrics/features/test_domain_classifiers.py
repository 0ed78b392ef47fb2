"""The CycleGAN tasks' scoring classifiers and their shipped weights
(gan_jax.metrics.features.domain_classifiers)."""
import json

import jax
import numpy as np
import pytest

from gan_jax.data.images import load_records, to_model_range
from gan_jax.errors import GanJaxError
from gan_jax.metrics.features import Features, domain_classifiers as dc

# Measured when the shipped weights were trained (metadata): digits 0.9967 on the 300
# sklearn_digits test digits, texture 1.0 on the 100 test crops. The bars sit slightly below.
DIGITS_BAR = 0.98
TEXTURE_BAR = 0.96


@pytest.fixture(scope="module")
def digits_test(data_dir):
    r = load_records("sklearn_digits", "test", data_dir)
    return to_model_range(r["image"]), r["label"]


@pytest.fixture(scope="module")
def texture_test(data_dir):
    r = load_records("skimage_textures", "test", data_dir)
    return to_model_range(r["image"]), r["label"]


@pytest.mark.parametrize("path,model,examples", [
    (dc.DIGITS_WEIGHTS, "lenet", (1497, 300)), (dc.TEXTURE_WEIGHTS, "texture_cnn", (800, 100))])
def test_shipped_weights_load_with_metadata(path, model, examples):
    module, variables, metadata = dc.load_weights(path)
    assert path.stat().st_size < 1_000_000
    assert metadata["model"] == model
    assert (metadata["train_examples"], metadata["test_examples"]) == examples
    assert json.loads(path.with_suffix(".json").read_text()) == metadata
    assert all(np.isfinite(v).all() for v in jax.tree_util.tree_leaves(variables))


def test_digits_classifier_accuracy_on_held_out_digits(digits_test):
    clf = dc.digits_classifier()
    assert clf is dc.digits_classifier()                    # built once
    x, y = digits_test
    acc = clf.accuracy(x, y)
    assert acc >= DIGITS_BAR
    assert clf.metadata["test_accuracy"] >= DIGITS_BAR
    out = clf(x[:5])
    assert isinstance(out, Features)
    assert out.features.shape == (5, 128) and out.logits.shape == (5, 10)
    p = clf.probabilities(x[:5])
    np.testing.assert_allclose(p.sum(-1), 1.0, rtol=1e-5)
    labels = clf.classify(x[:5])
    assert labels.dtype == np.int32 and labels.shape == (5,)


def test_texture_classifier_accuracy_on_held_out_crops(texture_test):
    clf = dc.texture_classifier()
    x, y = texture_test
    assert clf.accuracy(x, y) >= TEXTURE_BAR
    assert clf.metadata["test_accuracy"] >= TEXTURE_BAR
    assert clf.class_names == ("grass", "gravel")
    # each class on its own (the task's score: fraction judged as the target texture)
    for c in (0, 1):
        assert np.mean(clf.classify(x[y == c]) == c) >= TEXTURE_BAR
    assert clf.logits(x[:3]).shape == (3, 2)


def test_wrong_shapes_and_ranges_are_clear_errors():
    digits, texture = dc.digits_classifier(), dc.texture_classifier()
    with pytest.raises(GanJaxError, match=r"expected \[N, 28, 28, 1\]"):
        digits.classify(np.zeros((2, 128, 128, 1), np.float32))
    with pytest.raises(GanJaxError, match=r"expected \[N, 128, 128, 1\]"):
        texture.classify(np.zeros((2, 28, 28, 1), np.float32))
    with pytest.raises(GanJaxError, match="to_model_range"):
        texture.classify(np.full((1, 128, 128, 1), 200, np.uint8))
    with pytest.raises(GanJaxError, match="labels for"):
        digits.accuracy(np.zeros((2, 28, 28, 1), np.float32), [1, 2, 3])


def test_missing_or_bad_weights_file_names_the_fix(tmp_path):
    with pytest.raises(GanJaxError, match="train_domain_classifiers.py"):
        dc.digits_classifier(tmp_path / "nope.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(GanJaxError, match="could not be read"):
        dc.texture_classifier(bad)


def test_texture_classifier_is_not_fooled_by_blur_or_noise(texture_test):
    """Sharpness and grain are no cue (trained with blur and noise on both classes): otherwise
    a blurring or noisy generator would pass for a grass <-> gravel translation."""
    from scipy.ndimage import gaussian_filter
    clf = dc.texture_classifier()
    x, y = texture_test
    blurred = np.clip(gaussian_filter(x, (0, 1, 1, 0)), -1, 1).astype(np.float32)
    assert clf.accuracy(blurred, y) >= 0.95
    noisy = np.clip(x + np.random.default_rng(0).normal(0, 0.2, x.shape), -1, 1)
    assert clf.accuracy(noisy.astype(np.float32), y) >= 0.95
