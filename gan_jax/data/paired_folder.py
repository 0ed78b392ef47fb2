"""`paired_folder`: the aligned A|B format of the official pix2pix data (facades, cityscapes,
maps, edges2shoes, edges2handbags, night2day), for users who have downloaded it.

    data.path/
      train/  1.jpg 2.jpg ...     each image: A (left half) and B (right half), side by side
      val/    ...
      test/   ...

`data.direction` 'AtoB' translates the left half into the right one, 'BtoA' the right into the
left (facades: BtoA, labels -> photo). Each half is resized to data.image_size (default 256,
Pillow bicubic, as the official code). The official training jitter (resize to 286, random
256 crop, random flip, the same for A and B) is `data.augment='jitter'`, applied on device with
keys from the run (`gan_jax.data.augment`). Files are read in sorted name order; .jpg, .jpeg,
.png and .bmp are read.

Errors name the problem: a missing folder or split, a folder without images, an odd width (not
two halves), images of different sizes.
"""
import os

import numpy as np

from gan_jax.errors import GanJaxError

EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")
DIRECTIONS = ("AtoB", "BtoA")
SPLITS = ("train", "val", "test")


def image_files(root: str, split: str):
    if not root:
        raise GanJaxError("data.name='paired_folder' needs data.path, the folder holding "
                          "train/, val/ and test/ of A|B images (the official pix2pix layout)")
    folder = os.path.join(os.path.expanduser(root), split)
    if not os.path.isdir(folder):
        raise GanJaxError(f"paired_folder: {folder} does not exist; data.path must hold "
                          f"{'/, '.join(SPLITS)}/ folders of side-by-side A|B images")
    files = sorted(f for f in os.listdir(folder) if f.lower().endswith(EXTENSIONS))
    if not files:
        raise GanJaxError(f"paired_folder: {folder} holds no images ({', '.join(EXTENSIONS)})")
    return [os.path.join(folder, f) for f in files]


def read_pairs(root: str, split: str, direction: str = "AtoB", image_size: int = 256) -> dict:
    """{'a': uint8 [N, S, S, 3], 'b': uint8 [N, S, S, 3]} (S = image_size) of one split."""
    from PIL import Image
    if direction not in DIRECTIONS:
        raise GanJaxError(f"unknown data.direction {direction!r}; valid: {DIRECTIONS}")
    size = int(image_size) or 256
    a, b, first = [], [], None
    for path in image_files(root, split):
        try:
            with Image.open(path) as img:
                img = img.convert("RGB")
                w, h = img.size
                if first is None:
                    first = (w, h)
                elif (w, h) != first:
                    raise GanJaxError(f"paired_folder: {path} is {w}x{h} but the first image of "
                                      f"{split}/ is {first[0]}x{first[1]}; every A|B image of "
                                      "a split must have the same size")
                if w % 2:
                    raise GanJaxError(f"paired_folder: {path} has an odd width {w}; an A|B "
                                      "image holds two halves of equal width side by side")
                halves = [img.crop((0, 0, w // 2, h)), img.crop((w // 2, 0, w, h))]
                left, right = (np.asarray(x.resize((size, size), Image.BICUBIC), np.uint8)
                               for x in halves)
        except OSError as err:
            raise GanJaxError(f"paired_folder: cannot read {path} ({err})") from None
        a.append(left)
        b.append(right)
    if direction == "BtoA":
        a, b = b, a
    return {"a": np.stack(a), "b": np.stack(b)}
