"""Centre-crop images to a square and resize them to a given side (host side, uint8 in and out).

Used where a data set's images do not have the side a network takes: CelebA's 218x178 faces
become 64x64 for DCGAN (crop the central 178x178, then shrink), or MNIST's 28x28 digits 32x32.
The resize is bilinear with antialiasing when shrinking (a triangle filter stretched by the
scale factor), the same filter as Pillow's ``Image.resize(..., BILINEAR)``; a test checks the two
agree to within one grey level.
"""
import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.errors import GanJaxError


def center_crop_square(images: np.ndarray) -> np.ndarray:
    """[N, H, W, C] -> [N, S, S, C] with S = min(H, W), the central square (floor offsets)."""
    h, w = images.shape[1:3]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return images[:, top:top + side, left:left + side]


@jax.jit(static_argnums=1)
def _resize_chunk(images, size):
    x = images.astype(jnp.float32)
    y = jax.image.resize(x, (x.shape[0], size, size, x.shape[3]), method="linear", antialias=True)
    return jnp.clip(jnp.round(y), 0, 255).astype(jnp.uint8)


def crop_and_resize(images: np.ndarray, size: int, chunk: int = 1024) -> np.ndarray:
    """uint8 [N, H, W, C] -> uint8 [N, size, size, C]: central square crop, bilinear resize."""
    images = np.asarray(images)
    if images.ndim != 4 or images.dtype != np.uint8:
        raise GanJaxError(f"crop_and_resize takes uint8 images [N, H, W, C], got "
                          f"{images.dtype} of shape {images.shape}")
    if int(size) < 1:
        raise GanJaxError(f"data.image_size must be a positive side in pixels, got {size}")
    square = center_crop_square(images)
    if square.shape[1] == size:
        return np.ascontiguousarray(square)
    out = np.empty((len(images), size, size, images.shape[3]), np.uint8)
    for start in range(0, len(images), chunk):
        out[start:start + chunk] = np.asarray(_resize_chunk(square[start:start + chunk], int(size)))
    return out
