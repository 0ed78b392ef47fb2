"""Pixel conventions shared by the data, the models and the metrics (no data-set code here).

On disk and in the data pipeline images are uint8 NHWC in 0..255; inside the models and the
metrics they are float32 in [-1, 1] (`to_model_range`: x / 127.5 - 1). `check_images` validates a
batch at a model's or a metric's door with a message that names the likely fix.
"""
from typing import Sequence, Tuple

import numpy as np

from gan_jax.errors import GanJaxError

_RANGE_TOLERANCE = 1e-4     # slack on [-1, 1] for float rounding


def to_model_range(images: np.ndarray) -> np.ndarray:
    """uint8 (or integer) images in [0, 255] -> float32 in [-1, 1], as x / 127.5 - 1.

    Raises GanJaxError for float input (likely already scaled: scaling twice is a silent bug)
    or integers outside [0, 255].
    """
    x = np.asarray(images)
    if not np.issubdtype(x.dtype, np.integer):
        raise GanJaxError(
            f"to_model_range expects uint8 images in [0, 255], got dtype {x.dtype}; "
            "if they are already floats in [-1, 1], pass them to the model as they are")
    if x.size and (x.min() < 0 or x.max() > 255):
        raise GanJaxError(
            f"to_model_range expects values in [0, 255], got [{x.min()}, {x.max()}]")
    return x.astype(np.float32) / np.float32(127.5) - np.float32(1.0)


def _shape_hint(shape: Tuple[int, ...], hwc: Tuple[int, int, int]) -> str:
    """A likely fix for a common shape mistake (NCHW, missing channel axis, flat rows)."""
    h, w, c = hwc
    if len(shape) == 4 and tuple(shape[1:]) == (c, h, w):
        return ": looks like NCHW, use x.transpose(0, 2, 3, 1)"
    if len(shape) == 3 and c == 1 and tuple(shape[1:]) == (h, w):
        return ": add the channel axis with x[..., None]"
    if len(shape) == 2 and shape[1] == h * w * c:
        return f": reshape flat rows with x.reshape(-1, {h}, {w}, {c})"
    if len(shape) == 3 and tuple(shape) == (h, w, c):
        return ": add the batch axis with x[None]"
    return ""


def check_images(x, expected_shape_hwc: Sequence[int]):
    """Validates a batch for a model and returns it unchanged; GanJaxError says what is wrong.

    Must be a 4-D NHWC array with the expected (H, W, C), a float dtype, finite, with values
    in [-1, 1] (tolerance 1e-4). Call on concrete arrays (numpy or jax), not inside `jit`.
    """
    hwc = tuple(int(d) for d in expected_shape_hwc)
    if len(hwc) != 3:
        raise GanJaxError(f"expected_shape_hwc must be (H, W, C), got {tuple(expected_shape_hwc)}")
    shape = tuple(np.shape(x))
    want = f"[N, {hwc[0]}, {hwc[1]}, {hwc[2]}] (NHWC)"
    if len(shape) != 4 or shape[1:] != hwc:
        raise GanJaxError(f"images have shape {shape}; expected {want}{_shape_hint(shape, hwc)}")
    if shape[0] == 0:
        raise GanJaxError(f"images batch is empty (shape {shape}); expected {want} with N >= 1")
    dtype = np.dtype(getattr(x, "dtype", np.asarray(x).dtype))
    if not (np.issubdtype(dtype, np.floating) or "float" in dtype.name):  # + bfloat16
        raise GanJaxError(
            f"images have dtype {dtype}; expected float in [-1, 1]: "
            "convert uint8 images with to_model_range")
    values = np.asarray(x)
    finite = np.isfinite(values)
    if not finite.all():
        raise GanJaxError(
            f"images contain {int(values.size - finite.sum())} non-finite values (NaN or inf) "
            f"out of {values.size}; check the data pipeline or the generator's output")
    lo, hi = float(values.min()), float(values.max())
    if lo < -1.0 - _RANGE_TOLERANCE or hi > 1.0 + _RANGE_TOLERANCE:
        hint = ""
        if lo >= -_RANGE_TOLERANCE and hi > 1.5:
            hint = ": scale with to_model_range (x / 127.5 - 1) for [0, 255] data"
        raise GanJaxError(f"images have range [{lo:g}, {hi:g}]; expected [-1, 1]{hint}")
    return x
