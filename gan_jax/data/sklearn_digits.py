"""`sklearn_digits`: scikit-learn's 1,797 8x8 handwritten digits, upscaled to look like MNIST.

Domain A of the CycleGAN task `digits <-> mnist` (domain B: `mnist_offline`). The source is
`sklearn.datasets.load_digits()` (the UCI optical-recognition digits, shipped inside
scikit-learn: no download), 8x8 images with values 0..16 and labels 0..9 (174..183 per class).

Upscaling, per digit (`upscale`): values x 255/16 -> uint8 8x8 -> Pillow bicubic resize of the
whole 8x8 to 20x20 -> pasted at rows/columns 4..23 of a black 28x28 frame, so the digit sits in a
20x20 box inside 28x28 as MNIST's digits do: a white digit on black, uint8 0..255. (MNIST also
keeps each digit's aspect ratio and centres its mass; cropping to the 8x8 digit's bounding box
and centring the mass changed the MNIST LeNet's accuracy on these digits by under 1 point, so the
plain paste is kept. The upscaled digits stay blurrier and wider than MNIST's: the domain gap.)

Splits are fixed and stratified (`offline_mnist.split_indices`, seed 0): within each class a
numpy permutation sends 30 digits to 'test' and the rest to 'train' (1,497 train / 300 test);
each split is then shuffled once with the same generator, and records are written in that order
(tfds' key-hash shuffle disabled), so every preparation yields the same records.

Each record: 'image' uint8 (28, 28, 1) (a `tfds.features.Tensor` stored as raw bytes: no
TensorFlow to write or read) and 'label' int32 () (the digit, 0..9). Needs scikit-learn (pip).
Importing this module registers the builder with tfds; `gan_jax.data.images.load_records(
'sklearn_digits', split)` prepares it on first use.
"""
import functools
from typing import Dict, Iterator, Tuple

import numpy as np
import tensorflow_datasets as tfds
from etils import epath

from gan_jax.data import offline_mnist

NAME = "sklearn_digits"
NUM_CLASSES = 10
IMAGE_SHAPE = (28, 28, 1)
BOX = 20                     # the digit's box inside the 28x28 frame, as in MNIST
SOURCE_MAX = 16              # load_digits' pixel values are 0..16
TEST_PER_CLASS = 30
SPLIT_SEED = 0
SIZES = {"train": 1497, "test": 300}


@functools.lru_cache(maxsize=1)
def source_digits() -> Tuple[np.ndarray, np.ndarray]:
    """`load_digits()` as (images float64 [1797, 8, 8] in 0..16, labels int64 [1797]), read-only."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as err:
        raise ImportError(f"sklearn_digits needs scikit-learn: pip install scikit-learn ({err})")
    digits = load_digits()
    images = np.asarray(digits.images, np.float64)
    labels = np.asarray(digits.target, np.int64)
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def upscale(digit8: np.ndarray) -> np.ndarray:
    """One 8x8 digit (values 0..16) -> uint8 [28, 28, 1]: bicubic 20x20 in a black 28x28 frame."""
    from PIL import Image
    small = np.clip(np.rint(np.asarray(digit8, np.float64) * (255.0 / SOURCE_MAX)), 0, 255)
    box = np.asarray(Image.fromarray(small.astype(np.uint8)).resize((BOX, BOX), Image.BICUBIC),
                     np.uint8)
    out = np.zeros(IMAGE_SHAPE[:2], np.uint8)
    offset = (IMAGE_SHAPE[0] - BOX) // 2
    out[offset:offset + BOX, offset:offset + BOX] = box
    return out[..., None]


def split_indices() -> Dict[str, np.ndarray]:
    """Rows of `load_digits()` in each split, in record order: {'train': [...], 'test': [...]}."""
    _, labels = source_digits()
    return offline_mnist.split_indices(labels, test_per_class=TEST_PER_CLASS, seed=SPLIT_SEED)


def make_split(split: str) -> Tuple[np.ndarray, np.ndarray]:
    """(images uint8 [N, 28, 28, 1], labels int32 [N]) of `split`, in record order."""
    images, labels = source_digits()
    rows = split_indices()[split]
    return (np.stack([upscale(images[r]) for r in rows]),
            labels[rows].astype(np.int32))


class SklearnDigits(offline_mnist.OfflineBuilder):
    """scikit-learn's 8x8 digits upscaled to 28x28 like MNIST, 1,497 train / 300 test."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release: bicubic 8x8 -> 20x20 in 28x28, 30 test/class."}
    code_path = epath.Path(__file__)   # see offline_mnist.MnistOffline.code_path

    def _info(self) -> tfds.core.DatasetInfo:
        return tfds.core.DatasetInfo(
            builder=self,
            description=__doc__.split("\n\n")[0],
            features=tfds.features.FeaturesDict({
                "image": tfds.features.Tensor(shape=IMAGE_SHAPE, dtype=np.uint8,
                                              encoding="bytes"),
                "label": tfds.features.Tensor(shape=(), dtype=np.int32),
            }),
            supervised_keys=("image", "label"),
            homepage="https://scikit-learn.org/stable/modules/generated/"
                     "sklearn.datasets.load_digits.html",
            disable_shuffling=True,
        )

    def _split_generators(self, dl_manager):
        del dl_manager
        return {split: self._generate_examples(split) for split in SIZES}

    def _generate_examples(self, split: str) -> Iterator[Tuple[int, dict]]:
        images, labels = make_split(split)
        for key, (image, label) in enumerate(zip(images, labels)):
            yield key, {"image": image, "label": np.int32(label)}
