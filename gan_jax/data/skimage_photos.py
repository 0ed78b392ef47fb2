"""`skimage_photos`: 256x256 crops of the real photographs scikit-image ships, for the Pix2Pix
photo tasks (`photo_edges`: edges -> photo, `photo_colour`: grey -> colour; `gan_jax.data.paired`).

Train crops come from six photos (astronaut, coffee, the left view of stereo_motorcycle,
immunohistochemistry, hubble_deep_field, retina), test crops from two held-out ones (chelsea,
rocket), so no test pixel is seen in training. Photos with a side over 512 are first resized so
that side is 512 (Pillow, Lanczos). Crops are drawn at random positions with fixed seeds: 50 per
train photo (300), 20 per test photo (40). Each record holds the colour crop 'photo' uint8
(256, 256, 3) and its edge map 'edges' uint8 (256, 256, 1): Canny edges (scikit-image, sigma 2)
of the crop's grey image, drawn black on white as in the edges2shoes / edges2handbags data. The
grey input of `photo_colour` is the crop's ITU-R 601 luma (Pillow's 'L'), computed when read.
Needs scikit-image (pip), no download.
"""
from typing import Iterator, Tuple

import numpy as np
import tensorflow_datasets as tfds
from etils import epath

from gan_jax.data import offline_mnist

NAME = "skimage_photos"
SIDE = 256
MAX_SIDE = 512
PHOTOS = {"train": ("astronaut", "coffee", "stereo_motorcycle", "immunohistochemistry",
                    "hubble_deep_field", "retina"),
          "test": ("chelsea", "rocket")}
CROPS_PER_PHOTO = {"train": 50, "test": 20}
SEEDS = {"train": 11, "test": 12}
CANNY_SIGMA = 2.0


def photo(name: str) -> np.ndarray:
    """The named scikit-image photo as uint8 [H, W, 3], its longer side at most 512."""
    try:
        import skimage.data
    except ImportError as err:
        raise ImportError(f"the photo tasks need scikit-image: pip install scikit-image ({err})")
    from PIL import Image
    image = getattr(skimage.data, name)()
    if isinstance(image, tuple):        # stereo_motorcycle: (left, right, disparity)
        image = image[0]
    image = np.asarray(image, np.uint8)[..., :3]
    h, w = image.shape[:2]
    if max(h, w) > MAX_SIDE:
        scale = MAX_SIDE / max(h, w)
        size = (max(SIDE, round(w * scale)), max(SIDE, round(h * scale)))
        image = np.asarray(Image.fromarray(image).resize(size, Image.LANCZOS), np.uint8)
    return image


def edges(crop: np.ndarray) -> np.ndarray:
    """uint8 [H, W, 1]: 0 on the Canny edges of the crop's grey image, 255 elsewhere."""
    from PIL import Image
    from skimage.feature import canny
    grey = np.asarray(Image.fromarray(crop).convert("L"), np.float64) / 255.0
    return np.where(canny(grey, sigma=CANNY_SIGMA), 0, 255).astype(np.uint8)[..., None]


def grey(photos: np.ndarray) -> np.ndarray:
    """uint8 [N, H, W, 1] ITU-R 601 luma of uint8 RGB photos [N, H, W, 3] (Pillow's 'L')."""
    from PIL import Image
    return np.stack([np.asarray(Image.fromarray(p).convert("L"), np.uint8)
                     for p in photos])[..., None]


def make_crops(split: str) -> Iterator[Tuple[np.ndarray, np.ndarray]]:
    """Yields (photo crop uint8 [256, 256, 3], edges uint8 [256, 256, 1]) of `split`."""
    rng = np.random.default_rng(SEEDS[split])
    for name in PHOTOS[split]:
        image = photo(name)
        h, w = image.shape[:2]
        for _ in range(CROPS_PER_PHOTO[split]):
            top, left = int(rng.integers(0, h - SIDE + 1)), int(rng.integers(0, w - SIDE + 1))
            crop = np.ascontiguousarray(image[top:top + SIDE, left:left + SIDE])
            yield crop, edges(crop)


class SkimagePhotos(offline_mnist.OfflineBuilder):
    """256x256 crops of scikit-image's photographs and their edge maps, 300 train / 40 test."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release: 6 train / 2 test photos, Canny sigma 2."}
    code_path = epath.Path(__file__)   # see offline_mnist.MnistOffline.code_path

    def _info(self) -> tfds.core.DatasetInfo:
        return tfds.core.DatasetInfo(
            builder=self,
            description=__doc__.split("\n\n")[1],
            features=tfds.features.FeaturesDict({
                "photo": tfds.features.Tensor(shape=(SIDE, SIDE, 3), dtype=np.uint8,
                                              encoding="bytes"),
                "edges": tfds.features.Tensor(shape=(SIDE, SIDE, 1), dtype=np.uint8,
                                              encoding="bytes"),
            }),
            disable_shuffling=True,
        )

    def _split_generators(self, dl_manager):
        del dl_manager
        return {split: self._generate_examples(split) for split in PHOTOS}

    def _generate_examples(self, split: str) -> Iterator[Tuple[int, dict]]:
        for key, (crop, edge) in enumerate(make_crops(split)):
            yield key, {"photo": crop, "edges": edge}
