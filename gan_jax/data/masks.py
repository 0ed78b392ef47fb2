"""Masks of the missing region for inpainting (`gan.family='inpaint'`): 1 marks a missing pixel,
0 a known one; float32 [H, W, 1] per image, [B, H, W, 1] per batch.

- `centre`: the centre square of side `size` (Pathak et al. 2016's central region: 64 of 128).
- `rectangles`: 1 to MAX_RECTANGLES axis-aligned rectangles, each side uniform in
  [size / 4, size], placed uniformly inside the image (the paper's "random block").
- `strokes`: free-form brush strokes (Yu et al. 2019's irregular masks): 1 to MAX_STROKES
  polylines of STROKE_VERTICES segments, each segment a random direction and a length up to
  a quarter of the side, drawn with a round brush of width uniform in [size / 2, size].
- A user's mask: `load_mask(path, (H, W))`, a picture whose white (>= 128) pixels are missing.

Random masks are keyed and per example: `draw(kind, key, index, (H, W), size)` draws example
i's mask from fold_in(key, index[i]) only, so a batch split over devices draws the same masks,
and the same key and index give the same mask (the pure functions `centre`, `rectangles`,
`strokes` take one key). `size` 0 means the default for the kind: half the side for the
square and rectangles (the paper's 64 of 128), an eighth of the side for the brush width.
"""
import functools
import os
from typing import Tuple

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.errors import GanJaxError

KINDS = ("centre", "rectangles", "strokes")
MAX_RECTANGLES = 3
MAX_STROKES = 4
STROKE_VERTICES = 5          # segments per stroke


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise GanJaxError(f"unknown mask {kind!r} (inpaint.mask); valid: {KINDS}, or a user's "
                          "mask through python -m gan_jax.inpaint --mask")
    return kind


def default_size(kind: str, side: int) -> int:
    """The `size` that 0 stands for: half the side (square, rectangles), side/8 (brush)."""
    return max(1, side // 8) if check_kind(kind) == "strokes" else max(1, side // 2)


def resolve_size(kind: str, shape: Tuple[int, int], size: int) -> int:
    """`size` checked against the image (`shape` (H, W)), 0 replaced by the default."""
    side = min(shape)
    size = int(size) or default_size(kind, side)
    if not 0 < size <= side:
        raise GanJaxError(f"inpaint.mask_size={size} must lie in 1..{side} for "
                          f"{shape[0]}x{shape[1]} images (0: the default for {kind!r})")
    if kind == "centre" and size == side:
        raise GanJaxError(f"a centre square of side {size} hides the whole {shape[0]}x{shape[1]} "
                          "image: leave some context (the paper hides 64 of 128)")
    return size


def centre_box(shape: Tuple[int, int], size: int) -> Tuple[int, int, int]:
    """(top, left, side) of the centre square of side `size`."""
    h, w = shape
    return (h - size) // 2, (w - size) // 2, size


def _grid(shape):
    rows = jnp.arange(shape[0], dtype=jnp.float32)[:, None]
    cols = jnp.arange(shape[1], dtype=jnp.float32)[None, :]
    return rows, cols


def centre(shape: Tuple[int, int], size: int) -> jax.Array:
    """The centre square of side `size` as a mask [H, W, 1]."""
    top, left, side = centre_box(shape, size)
    rows, cols = _grid(shape)
    inside = (rows >= top) & (rows < top + side) & (cols >= left) & (cols < left + side)
    return inside.astype(jnp.float32)[..., None]


def rectangles(key, shape: Tuple[int, int], size: int) -> jax.Array:
    """1..MAX_RECTANGLES random rectangles, sides uniform in [size / 4, size], as [H, W, 1]."""
    h, w = shape
    k_n, k_side, k_pos = jax.random.split(key, 3)
    count = jax.random.randint(k_n, (), 1, MAX_RECTANGLES + 1)
    lo = max(1, size // 4)
    sides = jax.random.randint(k_side, (MAX_RECTANGLES, 2), lo, size + 1)      # (height, width)
    corner = jax.random.uniform(k_pos, (MAX_RECTANGLES, 2))
    top = jnp.floor(corner[:, 0] * (h - sides[:, 0] + 1))
    left = jnp.floor(corner[:, 1] * (w - sides[:, 1] + 1))
    rows, cols = _grid(shape)
    inside = ((rows[None] >= top[:, None, None]) & (rows[None] < (top + sides[:, 0])[:, None, None])
              & (cols[None] >= left[:, None, None])
              & (cols[None] < (left + sides[:, 1])[:, None, None]))
    active = jnp.arange(MAX_RECTANGLES) < count
    return jnp.any(inside & active[:, None, None], axis=0).astype(jnp.float32)[..., None]


def strokes(key, shape: Tuple[int, int], size: int) -> jax.Array:
    """1..MAX_STROKES free-form strokes (random polylines drawn with a round brush of width
    uniform in [size / 2, size]) as [H, W, 1]."""
    h, w = shape
    k_n, k_start, k_angle, k_len, k_width = jax.random.split(key, 5)
    count = jax.random.randint(k_n, (), 1, MAX_STROKES + 1)
    start = jax.random.uniform(k_start, (MAX_STROKES, 2)) * jnp.array([h - 1, w - 1], jnp.float32)
    angle = jax.random.uniform(k_angle, (MAX_STROKES, STROKE_VERTICES), maxval=2 * jnp.pi)
    length = jax.random.uniform(k_len, (MAX_STROKES, STROKE_VERTICES), minval=0.05,
                                maxval=0.25) * min(h, w)
    step = jnp.stack([jnp.sin(angle), jnp.cos(angle)], -1) * length[..., None]
    limit = jnp.array([h - 1, w - 1], jnp.float32)
    vertices = jnp.concatenate([start[:, None], start[:, None] + jnp.cumsum(step, axis=1)], 1)
    vertices = jnp.clip(vertices, 0.0, limit)                            # [S, V + 1, 2]
    width = jax.random.uniform(k_width, (MAX_STROKES,), minval=max(1.0, size / 2), maxval=size)
    a, b = vertices[:, :-1], vertices[:, 1:]                             # segments [S, V, 2]
    rows, cols = _grid(shape)
    p = jnp.stack(jnp.broadcast_arrays(rows, cols), -1)                  # [H, W, 2]
    ab = b - a
    t = jnp.einsum("hwk,svk->hwsv", p, ab) - jnp.sum(a * ab, -1)
    t = jnp.clip(t / jnp.maximum(jnp.sum(ab * ab, -1), 1e-6), 0.0, 1.0)  # [H, W, S, V]
    nearest = a + t[..., None] * ab                                      # [H, W, S, V, 2]
    dist2 = jnp.sum((p[:, :, None, None] - nearest) ** 2, -1)
    covered = jnp.any(dist2 <= (width[:, None] / 2) ** 2, axis=-1)       # [H, W, S]
    active = jnp.arange(MAX_STROKES) < count
    return jnp.any(covered & active, axis=-1).astype(jnp.float32)[..., None]


def one(kind: str, key, shape: Tuple[int, int], size: int) -> jax.Array:
    """One mask [H, W, 1] of `kind` with `size` (0: the default) from `key`."""
    size = resolve_size(check_kind(kind), shape, size)
    if kind == "centre":
        return centre(shape, size)
    return (rectangles if kind == "rectangles" else strokes)(key, shape, size)


def draw(kind: str, key, index, shape: Tuple[int, int], size: int = 0) -> jax.Array:
    """Masks [B, H, W, 1] of a batch: example i's from fold_in(key, index[i])."""
    index = jnp.asarray(index)
    shape, size = tuple(int(s) for s in shape), int(size)
    if check_kind(kind) == "centre":
        mask = one(kind, None, shape, size)
        return jnp.broadcast_to(mask, index.shape + mask.shape)
    return _draw_random(kind, key, index, shape, size)


@functools.partial(jax.jit, static_argnums=(0, 3, 4))
def _draw_random(kind, key, index, shape, size):
    keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(index.astype(jnp.uint32))
    return jax.vmap(lambda k: one(kind, k, shape, size))(keys)


def hide(images, masks, fill: float = 0.0):
    """The images with their missing pixels set to `fill` (0: mid-grey in [-1, 1])."""
    return images * (1.0 - masks) + fill * masks


def load_mask(path: str, shape: Tuple[int, int]) -> np.ndarray:
    """A user's mask [H, W, 1] (float32, 1 = missing) from a picture: white (>= 128 in grey)
    marks the missing pixels. It must have the image's size and mark some, but not all, of
    its pixels."""
    from PIL import Image
    if not os.path.isfile(path):
        raise GanJaxError(f"the mask {path} does not exist")
    try:
        with Image.open(path) as img:
            grey = np.asarray(img.convert("L"))
    except OSError as err:
        raise GanJaxError(f"cannot read the mask {path} ({err})") from None
    h, w = shape
    if grey.shape != (h, w):
        raise GanJaxError(f"the mask {path} is {grey.shape[1]}x{grey.shape[0]}, but the image is "
                          f"{w}x{h}: they must be the same size")
    mask = (grey >= 128).astype(np.float32)[..., None]
    if not mask.any():
        raise GanJaxError(f"the mask {path} marks no pixel as missing: paint the region to fill "
                          "white (>= 128) on black")
    if mask.all():
        raise GanJaxError(f"the mask {path} marks every pixel as missing: leave some context "
                          "black (< 128)")
    return mask
