"""Differentiable augmentation (DiffAugment, Zhao et al. 2020, "Differentiable Augmentation for
Data-Efficient GAN Training"): random transforms applied to both real and generated images
before the discriminator, in D's loss and in G's, so that D cannot memorise a small training set
while G still gets D's gradient through the transform.

`augment(x, key, index, policy)` transforms a batch x [B, H, W, C] of images in [-1, 1] by each
transform of `policy` (a tuple of names from POLICIES, applied in the order given). Example e's
randomness comes from fold_in(key, index[e]) only (then from fold_in of that with the transform's
position in the policy), so a batch split over n devices is transformed exactly as on 1 device.
Every transform is differentiable w.r.t. x (a translation and a cutout are linear in x).

The transforms follow the official code (github.com/mit-han-lab/data-efficient-gans,
DiffAugment_pytorch.py / DiffAugment_tf.py), NHWC here:
- `color`: brightness x + (u - 1/2); saturation (x - mean_c) * 2u + mean_c, mean_c over the
  channels (the identity for one channel); contrast (x - mean) * (u + 1/2) + mean, the mean over
  the whole image; each u ~ U[0, 1) per example, in that order;
- `translation`: shift by (dy, dx), each uniform in {-s, ..., s} with s = int(side/8 + 1/2)
  (4 for 28 px), out[i, j] = x[i + dy, j + dx], and 0 where that falls outside the image (the
  official code pads with zeros: 0 is mid-grey in [-1, 1] data, as there);
- `cutout`: a square of int(side/2 + 1/2) px (14 for 28 px) set to 0, its centre row uniform in
  {0, ..., H - (size mod 2)} (likewise the column) and the top at centre - size // 2; the part
  of it outside the image is dropped.
"""
from typing import Tuple

import jax
import jax.numpy as jnp

from gan_jax.errors import GanJaxError

POLICIES = ("color", "translation", "cutout")
TRANSLATION_RATIO = 0.125     # the largest shift, as a fraction of the side
CUTOUT_RATIO = 0.5            # the cutout square's side, as a fraction of the image's side


def parse_policy(text: str) -> Tuple[str, ...]:
    """'none' or '' -> (); 'translation,cutout' -> ('translation', 'cutout')."""
    names = tuple(n.strip() for n in str(text).split(",") if n.strip() and n.strip() != "none")
    unknown = [n for n in names if n not in POLICIES]
    if unknown:
        raise GanJaxError(f"unknown vanilla.diffaugment transform(s) {unknown}; valid: "
                          f"{POLICIES} as a comma list, or 'none'")
    return names


# ---------------------------------------------------------------------------------------------
# Deterministic pieces of one example [H, W, C]: pure functions of the image and the draw.

def shift_amounts(shape) -> Tuple[int, int]:
    """The largest translation (rows, columns) of an [H, W, ...] image: int(side / 8 + 1/2)."""
    return tuple(int(side * TRANSLATION_RATIO + 0.5) for side in shape[:2])


def cutout_size(shape) -> Tuple[int, int]:
    """The cutout square's (rows, columns) for an [H, W, ...] image: int(side / 2 + 1/2)."""
    return tuple(int(side * CUTOUT_RATIO + 0.5) for side in shape[:2])


def translate(x: jax.Array, dy, dx) -> jax.Array:
    """One image [H, W, C] with out[i, j] = x[i + dy, j + dx], 0 outside the image; |dy|, |dx|
    at most shift_amounts(x.shape)."""
    sy, sx = shift_amounts(x.shape)
    padded = jnp.pad(x, ((sy, sy), (sx, sx), (0, 0)))
    return jax.lax.dynamic_slice(padded, (sy + dy, sx + dx, 0), x.shape)


def cutout_mask(shape, top, left) -> jax.Array:
    """[H, W, 1] float32: 0 on the cutout square whose top-left corner is (top, left) (which may
    lie outside the image: only the square's part inside counts), 1 elsewhere."""
    h, w = shape[:2]
    ch, cw = cutout_size(shape)
    rows = jnp.arange(h)[:, None]
    cols = jnp.arange(w)[None, :]
    inside = (rows >= top) & (rows < top + ch) & (cols >= left) & (cols < left + cw)
    return jnp.where(inside, 0.0, 1.0)[..., None].astype(jnp.float32)


def adjust_color(x: jax.Array, brightness, saturation, contrast) -> jax.Array:
    """One image [H, W, C]: + brightness; channel spread about the per-pixel channel mean times
    saturation; spread about the image mean times contrast (in that order)."""
    x = x + brightness
    mean_c = jnp.mean(x, axis=-1, keepdims=True)
    x = (x - mean_c) * saturation + mean_c
    mean = jnp.mean(x)
    return (x - mean) * contrast + mean


# ---------------------------------------------------------------------------------------------
# The random transforms of one example: (image [H, W, C], key) -> image.

def color(x: jax.Array, key: jax.Array) -> jax.Array:
    """Random brightness in [-1/2, 1/2), saturation in [0, 2), contrast in [1/2, 3/2)."""
    u = jax.random.uniform(key, (3,), jnp.float32)
    return adjust_color(x, u[0] - 0.5, u[1] * 2.0, u[2] + 0.5).astype(x.dtype)


def translation(x: jax.Array, key: jax.Array) -> jax.Array:
    """A random shift by up to 1/8 of the side each way, zero padding."""
    sy, sx = shift_amounts(x.shape)
    d = jax.random.randint(key, (2,), jnp.array([-sy, -sx]), jnp.array([sy + 1, sx + 1]))
    return translate(x, d[0], d[1])


def cutout(x: jax.Array, key: jax.Array) -> jax.Array:
    """A square of half the side, at a random centre, set to 0."""
    h, w = x.shape[:2]
    ch, cw = cutout_size(x.shape)
    centre = jax.random.randint(key, (2,), 0, jnp.array([h + 1 - ch % 2, w + 1 - cw % 2]))
    return x * cutout_mask(x.shape, centre[0] - ch // 2, centre[1] - cw // 2).astype(x.dtype)


TRANSFORMS = {"color": color, "translation": translation, "cutout": cutout}


def augment_one(x: jax.Array, key: jax.Array, policy: Tuple[str, ...]) -> jax.Array:
    """One example [H, W, C] through the policy's transforms, the i-th keyed fold_in(key, i)."""
    for i, name in enumerate(policy):
        x = TRANSFORMS[name](x, jax.random.fold_in(key, i))
    return x


def augment(x: jax.Array, key: jax.Array, index: jax.Array, policy: Tuple[str, ...]):
    """x [B, H, W, C] augmented by each transform of `policy` in turn, example e keyed by
    fold_in(key, index[e]) (identity for an empty policy)."""
    if not policy:
        return x
    unknown = [n for n in policy if n not in TRANSFORMS]
    if unknown:
        raise GanJaxError(f"unknown DiffAugment transform(s) {unknown}; valid: {POLICIES}")
    if x.ndim != 4 or x.shape[0] != jnp.shape(index)[0]:
        raise GanJaxError(f"DiffAugment takes images [B, H, W, C] and B example indices, got "
                          f"shapes {tuple(x.shape)} and {tuple(jnp.shape(index))}")
    keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.asarray(index).astype(jnp.uint32))
    return jax.vmap(lambda xe, ke: augment_one(xe, ke, policy))(x, keys)
