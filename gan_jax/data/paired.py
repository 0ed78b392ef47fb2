"""Paired data (input 'a' -> target 'b', for Pix2Pix): the splits as arrays (which sets exist and
their shapes are in `gan_jax.data.catalog`).

- `digit_scenes` (offline): layout map (RGB) -> scene of real MNIST digits (grey), 128x128;
  the held-out pairs also carry each digit's box and label (`gan_jax.data.digit_scenes`).
- `photo_edges`, `photo_colour` (offline): edges -> photo and grey -> colour on 256x256 crops of
  scikit-image's photographs (`gan_jax.data.skimage_photos`).
- `paired_folder`: the official pix2pix A|B folders (`gan_jax.data.paired_folder`; data.path,
  data.direction).

`data.image_size` > 0 resizes both fields (Pillow, bicubic; the digit scenes' boxes are scaled
with them). The offline sets are tfds builders prepared on first use like mnist_offline.
"""
import numpy as np

from gan_jax.data.catalog import PAIRED_SPLITS, pair_shapes
from gan_jax.errors import GanJaxError


def _resize(images: np.ndarray, size: int) -> np.ndarray:
    from PIL import Image
    if images.shape[1:3] == (size, size):
        return images
    out = [np.asarray(Image.fromarray(x[..., 0] if x.shape[-1] == 1 else x)
                      .resize((size, size), Image.BICUBIC), np.uint8) for x in images]
    out = np.stack(out)
    return out[..., None] if out.ndim == 3 else out


def load_pairs(config, split: str) -> dict:
    """{'a': uint8 [N, H, W, C_a], 'b': uint8 [N, H, W, C_b], ...extras} of one split."""
    c = config.data
    name = c.name
    pair_shapes(config)
    valid = PAIRED_SPLITS.get(name, ("train", "test"))
    if split not in valid:
        raise GanJaxError(f"unknown split {split!r} of {name!r}; valid: {valid}")
    if name == "paired_folder":
        from gan_jax.data.paired_folder import read_pairs
        return read_pairs(c.path, split, c.direction, c.image_size or 256)
    from gan_jax.data.images import load_records
    if name == "digit_scenes":
        r = load_records("digit_scenes", split, c.data_dir or None)
        out = {"a": r["layout"], "b": r["scene"], "boxes": r["boxes"], "labels": r["labels"]}
        native = out["a"].shape[1]
    else:
        from gan_jax.data.skimage_photos import grey
        r = load_records("skimage_photos", split, c.data_dir or None)
        a = r["edges"] if name == "photo_edges" else grey(r["photo"])
        out, native = {"a": a, "b": r["photo"]}, r["photo"].shape[1]
    size = int(c.image_size)
    if size and size != native:
        out["a"], out["b"] = _resize(out["a"], size), _resize(out["b"], size)
        if "boxes" in out:
            out["boxes"] = np.round(out["boxes"] * (size / native)).astype(np.int32)
    return out
