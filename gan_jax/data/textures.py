"""`skimage_textures`: 128x128 crops of the grass and gravel photographs that scikit-image ships.

The data of the CycleGAN task `grass <-> gravel`. The sources are `skimage.data.grass()` and
`skimage.data.gravel()`, both 512x512 grey uint8 photographs (no download).

Train and test crops come from disjoint regions of each photo: a 'test' crop lies inside the
bottom-right 256x256 quadrant (rows and columns 256..511: its top-left corner in 256..384), a
'train' crop does not overlap that quadrant (top-left corner in 0..384 on both axes with top <=
128 or left <= 128; drawn uniformly over those positions by rejection). So no test pixel is
seen in training; the train region is the L-shaped remaining 3/4 of each photo. Positions are
random with fixed seeds (one numpy generator per split, seed 21 for 'train' and 22 for 'test',
drawing grass's crops then gravel's): 400 train + 50 test crops per texture (800 / 100 in all).
The test crops overlap each other heavily (129x129 possible positions), as they must in a
256x256 region. Each split is then shuffled once by the same generator, so the classes mix, and
records are written in that order (tfds' key-hash shuffle disabled): every preparation yields
the same records.

Each record: 'image' uint8 (128, 128, 1) (a `tfds.features.Tensor` stored as raw bytes),
'label' int32 () (0 grass, 1 gravel) and 'position' int32 (2,) (the crop's top, left in its
512x512 photo). Needs scikit-image (pip). Importing this module registers the builder with tfds;
`gan_jax.data.images.load_records('skimage_textures', split)` prepares it on first use.
"""
import functools
from typing import Dict, Iterator, Tuple

import numpy as np
import tensorflow_datasets as tfds
from etils import epath

from gan_jax.data import offline_mnist

NAME = "skimage_textures"
TEXTURES = ("grass", "gravel")          # label = index
SIDE = 128
PHOTO_SIDE = 512
TEST_CORNER = 256                       # the test region: rows and columns TEST_CORNER..511
CROPS_PER_TEXTURE = {"train": 400, "test": 50}
SEEDS = {"train": 21, "test": 22}
IMAGE_SHAPE = (SIDE, SIDE, 1)


@functools.lru_cache(maxsize=2)
def photo(name: str) -> np.ndarray:
    """The named scikit-image texture photograph as uint8 [512, 512], read-only."""
    try:
        import skimage.data
    except ImportError as err:
        raise ImportError(f"the texture tasks need scikit-image: pip install scikit-image ({err})")
    image = np.asarray(getattr(skimage.data, name)())
    if image.shape != (PHOTO_SIDE, PHOTO_SIDE) or image.dtype != np.uint8:
        raise ValueError(f"skimage.data.{name}() is {image.dtype} {image.shape}; expected uint8 "
                         f"({PHOTO_SIDE}, {PHOTO_SIDE})")
    image.setflags(write=False)
    return image


def in_test_region(top, left) -> np.ndarray:
    """Whether a crop at (top, left) overlaps the test quadrant (rows and columns >= 256)."""
    return (np.asarray(top) + SIDE > TEST_CORNER) & (np.asarray(left) + SIDE > TEST_CORNER)


def _positions(rng: np.random.Generator, split: str, n: int) -> np.ndarray:
    """int32 [n, 2] (top, left) crop corners of `split`, uniform over its allowed corners."""
    last = PHOTO_SIDE - SIDE                                  # 384
    if split == "test":
        return rng.integers(TEST_CORNER, last + 1, size=(n, 2)).astype(np.int32)
    out = []
    while len(out) < n:
        top, left = (int(v) for v in rng.integers(0, last + 1, size=2))
        if not in_test_region(top, left):
            out.append((top, left))
    return np.asarray(out, np.int32)


def make_split(split: str) -> Dict[str, np.ndarray]:
    """{'image': uint8 [N, 128, 128, 1], 'label': int32 [N], 'position': int32 [N, 2]} of
    `split`, in record order."""
    if split not in SEEDS:
        raise ValueError(f"unknown split {split!r}; valid: {sorted(SEEDS)}")
    rng = np.random.default_rng(SEEDS[split])
    images, labels, positions = [], [], []
    for label, name in enumerate(TEXTURES):
        image = photo(name)
        corners = _positions(rng, split, CROPS_PER_TEXTURE[split])
        for top, left in corners:
            images.append(image[top:top + SIDE, left:left + SIDE, None])
        labels.append(np.full(len(corners), label, np.int32))
        positions.append(corners)
    order = rng.permutation(len(images))
    return {"image": np.stack(images)[order], "label": np.concatenate(labels)[order],
            "position": np.concatenate(positions)[order]}


class SkimageTextures(offline_mnist.OfflineBuilder):
    """128x128 crops of scikit-image's grass and gravel photos, 800 train / 100 test."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release: 400 train / 50 test crops per texture, test "
                              "crops in the bottom-right quadrant."}
    code_path = epath.Path(__file__)   # see offline_mnist.MnistOffline.code_path

    def _info(self) -> tfds.core.DatasetInfo:
        return tfds.core.DatasetInfo(
            builder=self,
            description=__doc__.split("\n\n")[0],
            features=tfds.features.FeaturesDict({
                "image": tfds.features.Tensor(shape=IMAGE_SHAPE, dtype=np.uint8,
                                              encoding="bytes"),
                "label": tfds.features.Tensor(shape=(), dtype=np.int32),
                "position": tfds.features.Tensor(shape=(2,), dtype=np.int32),
            }),
            supervised_keys=("image", "label"),
            disable_shuffling=True,
        )

    def _split_generators(self, dl_manager):
        del dl_manager
        return {split: self._generate_examples(split) for split in SEEDS}

    def _generate_examples(self, split: str) -> Iterator[Tuple[int, dict]]:
        data = make_split(split)
        for key in range(len(data["label"])):
            yield key, {k: v[key] for k, v in data.items()}
