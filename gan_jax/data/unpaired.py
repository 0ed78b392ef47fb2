"""Unpaired data (two image domains A and B, no correspondence: CycleGAN): the splits as arrays
(which sets exist and their shapes are in `gan_jax.data.catalog`).

- `digits_mnist` (offline): A = scikit-learn's 8x8 digits upscaled to 28x28
  (`gan_jax.data.sklearn_digits`), B = the offline MNIST digits (`mnist_offline`); both carry
  their labels ('a_label', 'b_label'), which training never sees and the label-preservation
  scores use (the USPS <-> MNIST kind of domain-adaptation task).
- `grass_gravel` (offline): A = 128x128 crops of scikit-image's grass photograph, B = of its
  gravel photograph; train and test crops from disjoint regions (`gan_jax.data.textures`).
- `cycle_gan`: the tfds `cycle_gan/<data.variant>` sets (horse2zebra, apple2orange,
  summer2winter_yosemite, monet2photo, ...) where a user has prepared them (splits trainA,
  trainB, testA, testB); read, never downloaded.
- `unpaired_folder`: the official code's layout at data.path: `trainA/`, `trainB/`, `testA/`,
  `testB/` of images (.jpg, .jpeg, .png, .bmp; sorted names), resized to data.image_size
  (default 256, bicubic) as RGB.

`load_unpaired(config, split)` returns `{'a': uint8 [N_a, H, W, C_a], 'b': uint8 [N_b, H, W,
C_b]}` (+ 'a_label', 'b_label' where known); N_a and N_b differ. The training stream shuffles
the two independently (`gan_jax.data.stream.UnpairedStream`); the official code's random
jitter (resize to 286/256, random crop, flip) is `data.augment='jitter'`, drawn per example from
the run's key.
"""
import os

import numpy as np

from gan_jax.data.catalog import UNPAIRED_SPLITS, unpaired_shapes
from gan_jax.data.paired import _resize
from gan_jax.errors import GanJaxError

EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")


def load_unpaired(config, split: str) -> dict:
    """The two domains of one split ('train' or 'test') of config.data."""
    c = config.data
    unpaired_shapes(config)                       # an unknown name fails here
    if split not in UNPAIRED_SPLITS:
        raise GanJaxError(f"unknown split {split!r} of {c.name!r}; valid: {UNPAIRED_SPLITS}")
    data_dir = c.data_dir or None
    if c.name == "digits_mnist":
        from gan_jax.data.images import load_images, load_records
        a = load_records("sklearn_digits", split, data_dir)
        b, b_label = load_images("mnist_offline", split, data_dir)
        out = {"a": a["image"], "a_label": a["label"].astype(np.int32), "b": b,
               "b_label": b_label}
    elif c.name == "grass_gravel":
        from gan_jax.data.images import load_records
        r = load_records("skimage_textures", split, data_dir)
        out = {"a": r["image"][r["label"] == 0], "b": r["image"][r["label"] == 1]}
    elif c.name == "cycle_gan":
        out = {d.lower(): _tfds_domain(c, f"{split}{d}") for d in ("A", "B")}
    else:
        out = {d.lower(): read_folder(c.path, f"{split}{d}", int(c.image_size) or 256)
               for d in ("A", "B")}
    size = int(c.image_size)
    if size and c.name != "unpaired_folder":
        out["a"], out["b"] = _resize(out["a"], size), _resize(out["b"], size)
    return out


def _tfds_domain(c, split: str) -> np.ndarray:
    from gan_jax.data.images import load_prepared
    if not c.variant:
        raise GanJaxError("data.name='cycle_gan' needs data.variant, the tfds config: "
                          "horse2zebra, apple2orange, summer2winter_yosemite, monet2photo, ...")
    images, _ = load_prepared(f"cycle_gan/{c.variant}", split, c.data_dir or None)
    return images


def read_folder(root: str, sub: str, size: int) -> np.ndarray:
    """uint8 RGB [N, size, size, 3] of the images in root/sub (sorted names, bicubic)."""
    from PIL import Image
    if not root:
        raise GanJaxError("data.name='unpaired_folder' needs data.path, the folder holding "
                          "trainA/, trainB/, testA/, testB/ (the official CycleGAN layout)")
    folder = os.path.join(os.path.expanduser(root), sub)
    if not os.path.isdir(folder):
        raise GanJaxError(f"unpaired_folder: {folder} does not exist; data.path must hold "
                          "trainA/, trainB/, testA/ and testB/ folders of images")
    files = sorted(f for f in os.listdir(folder) if f.lower().endswith(EXTENSIONS))
    if not files:
        raise GanJaxError(f"unpaired_folder: {folder} holds no images ({', '.join(EXTENSIONS)})")
    out = []
    for name in files:
        path = os.path.join(folder, name)
        try:
            with Image.open(path) as img:
                out.append(np.asarray(img.convert("RGB").resize((size, size), Image.BICUBIC),
                                      np.uint8))
        except OSError as err:
            raise GanJaxError(f"unpaired_folder: cannot read {path} ({err})") from None
    return np.stack(out)
