"""Tests for the MNIST LeNet extractor and its shipped weights (gan_jax.metrics.features.lenet)."""
import json

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.data.images import load_images, to_model_range
from gan_jax.errors import GanJaxError
from gan_jax.metrics.features import Features, lenet

PROMISED_TEST_ACCURACY = 0.98     # on the 500 held-out mnist_offline test digits


@pytest.fixture(scope="module")
def extractor():
    return lenet.MnistExtractor(batch_size=16)


def _random_images(n, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, 28, 28, 1)).astype(np.float32)


def test_shipped_weights_load_with_metadata():
    module, variables, metadata = lenet.load_weights()
    assert lenet.DEFAULT_WEIGHTS.stat().st_size < 1_000_000
    assert lenet.architecture(module) == metadata["architecture"]
    assert lenet.param_count(variables) == metadata["param_count"]
    assert metadata["train_examples"] == 4500 and metadata["test_examples"] == 500
    assert metadata["test_accuracy"] >= PROMISED_TEST_ACCURACY
    chex.assert_tree_all_finite(variables)
    sidecar = json.loads(lenet.DEFAULT_WEIGHTS.with_suffix(".json").read_text())
    assert sidecar == metadata


def test_shapes_and_dtypes(extractor):
    out = extractor(jnp.asarray(_random_images(5)))       # jax input works too
    assert isinstance(out, Features)
    assert isinstance(out.features, np.ndarray) and isinstance(out.logits, np.ndarray)
    chex.assert_shape(out.features, (5, extractor.feature_dim))
    chex.assert_shape(out.logits, (5, lenet.NUM_CLASSES))
    chex.assert_type([out.features, out.logits], np.float32)
    chex.assert_tree_all_finite(out)
    assert extractor.feature_dim == 128
    assert (out.features >= 0).all()                       # after ReLU
    p = extractor.probabilities(_random_images(5))
    np.testing.assert_allclose(p.sum(-1), 1.0, rtol=1e-5)
    labels = extractor.classify(_random_images(5))
    assert labels.dtype == np.int32 and labels.shape == (5,)


def test_held_out_test_accuracy_meets_promise(data_dir, extractor):
    images, labels = load_images("mnist_offline", "test", data_dir)
    predicted = extractor.classify(to_model_range(images))
    accuracy = float(np.mean(predicted == labels))
    assert accuracy >= PROMISED_TEST_ACCURACY
    # The stored figure is what this machine measures (to within one digit of float noise).
    assert abs(accuracy - extractor.metadata["test_accuracy"]) <= 1 / len(labels) + 1e-9
    np.testing.assert_array_equal(lenet.classify(to_model_range(images[:20])), predicted[:20])


def test_batched_equals_unbatched_and_one_compile(extractor):
    x = _random_images(37, seed=1)                          # 37 = 2 * 16 + 5: padded last batch
    extractor(x[:1])
    compiled = extractor._forward._cache_size()
    batched = extractor(x)
    features, logits = extractor.module.apply(extractor.variables, jnp.asarray(x))
    chex.assert_trees_all_close(tuple(batched), (np.asarray(features), np.asarray(logits)),
                                atol=1e-5, rtol=1e-5)
    first = extractor(x[:3])
    chex.assert_trees_all_close(tuple(first), (batched.features[:3], batched.logits[:3]),
                                atol=1e-5, rtol=1e-5)
    extractor(_random_images(50))
    assert extractor._forward._cache_size() == compiled     # any N: no new compilation


def test_features_are_deterministic(extractor):
    x = _random_images(20, seed=2)
    a, b = extractor(x), extractor(x)
    np.testing.assert_array_equal(a.features, b.features)
    np.testing.assert_array_equal(a.logits, b.logits)
    c = lenet.MnistExtractor(batch_size=16)(x)
    np.testing.assert_array_equal(a.features, c.features)


def test_patch_conv_equals_flax_conv():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 12, 12, 3)).astype(np.float32)
    variables = {"params": {"kernel": rng.normal(size=(5, 5, 3, 8)).astype(np.float32),
                            "bias": rng.normal(size=(8,)).astype(np.float32)}}
    reference = jax.jit(nn.Conv(8, (5, 5), padding="VALID").apply)(variables, x)
    patch = jax.jit(lenet.PatchConv(8).apply)(variables, x)
    chex.assert_trees_all_close(patch, reference, atol=1e-4)


@pytest.mark.parametrize("images, match", [
    (np.zeros((4, 28, 28), np.float32), r"x\[\.\.\., None\]"),
    (np.zeros((4, 32, 32, 1), np.float32), r"expected \[N, 28, 28, 1\]"),
    (np.zeros((4, 1, 28, 28), np.float32), "NCHW"),
    (np.zeros((4, 28, 28, 1), np.uint8), "to_model_range"),
    (np.full((4, 28, 28, 1), 255.0, np.float32), "to_model_range"),
    (np.full((4, 28, 28, 1), np.nan, np.float32), "non-finite"),
])
def test_bad_images_raise_with_fix(extractor, images, match):
    with pytest.raises(GanJaxError, match=match):
        extractor(images)


def test_missing_weights_file_names_file_and_fix(tmp_path):
    path = tmp_path / "nope.npz"
    with pytest.raises(GanJaxError, match="does not exist") as err:
        lenet.MnistExtractor(path)
    assert str(path) in str(err.value) and "train_mnist_classifier.py" in str(err.value)


def test_corrupt_weights_file_names_file_and_fix(tmp_path):
    path = tmp_path / "corrupt.npz"
    path.write_bytes(lenet.DEFAULT_WEIGHTS.read_bytes()[:5000])      # truncated download
    with pytest.raises(GanJaxError, match="could not be read") as err:
        lenet.MnistExtractor(path)
    assert str(path) in str(err.value) and "train_mnist_classifier.py" in str(err.value)
    path.write_bytes(b"not a zip file at all")
    with pytest.raises(GanJaxError, match="could not be read"):
        lenet.load_weights(path)


def test_weights_not_matching_architecture_raise(tmp_path):
    _, variables, metadata = lenet.load_weights()
    params = dict(variables["params"])
    del params["fc"]
    path = lenet.save_weights(tmp_path / "partial.npz", params, metadata)
    with pytest.raises(GanJaxError, match="missing.*fc/kernel"):
        lenet.load_weights(path)
    no_meta = tmp_path / "no_meta.npz"
    np.savez(no_meta, **{"params/fc/bias": np.zeros(128, np.float32)})
    with pytest.raises(GanJaxError, match="metadata"):
        lenet.load_weights(no_meta)


def test_save_load_round_trip(tmp_path):
    _, variables, metadata = lenet.load_weights()
    path = lenet.save_weights(tmp_path / "copy.npz", variables["params"], metadata)
    _, loaded, loaded_meta = lenet.load_weights(path)
    chex.assert_trees_all_equal(loaded, variables)
    assert loaded_meta == metadata


def test_bad_batch_size_raises():
    with pytest.raises(GanJaxError, match="batch_size"):
        lenet.MnistExtractor(batch_size=0)


# ------------------------------------------------------------------------------------------------
# The training script's core (experiments/train_mnist_classifier.py)
# ------------------------------------------------------------------------------------------------

def test_augment_identity_and_range():
    from experiments.train_mnist_classifier import TrainConfig, augment
    augment = jax.jit(augment, static_argnums=2)
    x = jnp.asarray(_random_images(6, seed=3))
    none = TrainConfig(max_rotate=0.0, max_scale=0.0, max_shear=0.0, max_shift=0.0)
    chex.assert_trees_all_close(augment(jax.random.key(0), x, none), x, atol=1e-5)
    cfg = TrainConfig(elastic_alpha=30.0)
    a = augment(jax.random.key(1), x, cfg)
    chex.assert_shape(a, x.shape)
    assert float(a.min()) >= -1 - 1e-5 and float(a.max()) <= 1 + 1e-5
    np.testing.assert_array_equal(a, augment(jax.random.key(1), x, cfg))   # from the key only
    assert not np.allclose(a, augment(jax.random.key(2), x, cfg))


def test_training_smoke_loss_decreases(data_dir):
    from experiments.train_mnist_classifier import TrainConfig, train
    images, labels = load_images("mnist_offline", "train[:300]", data_dir)
    cfg = TrainConfig(epochs=6, batch_size=50, channels=(8, 16), hidden=32, learning_rate=1e-2,
                      dropout=0.0)
    params, history = train(to_model_range(images), labels, cfg, seed=0, progress=False)
    assert len(history) == 6
    assert history[-1]["loss"] < 0.7 * history[0]["loss"]      # measured: 2.36 -> 1.24
    chex.assert_tree_all_finite(params)
    chex.assert_shape(params["logits"]["kernel"], (32, 10))
