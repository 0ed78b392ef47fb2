"""Per-image fidelity to a target: L1, PSNR and SSIM (the Pix2Pix photo tasks' scores).

Images are float arrays [N, H, W, C] in [-1, 1] (the models' range); every score is computed on
[0, 1] pixel values (data range 1), image by image, then averaged over the N images.

- `l1`: mean |x - y|.
- `psnr`: 10 log10(1 / MSE) per image (dB); an image equal to its target is capped at 100 dB.
- `ssim`: the structural similarity of Wang, Bovik, Sheikh & Simoncelli (2004): Gaussian window
  sigma 1.5 (11x11, truncated at 3.5 sigma), K1 = 0.01, K2 = 0.03, population (co)variances,
  per channel, averaged over the image without the 5-pixel border the window cannot cover;
  equal to `skimage.metrics.structural_similarity(..., gaussian_weights=True, sigma=1.5,
  use_sample_covariance=False, data_range=1, channel_axis=-1)` (tests/metrics/
  test_image_quality.py checks it against scikit-image).
"""
import numpy as np
from scipy import ndimage

from gan_jax.errors import GanJaxError

SIGMA, TRUNCATE, K1, K2 = 1.5, 3.5, 0.01, 0.03
MAX_PSNR = 100.0


def _unit(images, what):
    x = np.asarray(images, np.float64)
    if x.ndim != 4:
        raise GanJaxError(f"{what} must be [N, H, W, C] images in [-1, 1], got shape {x.shape}")
    return (x + 1.0) / 2.0


def _pair(x, y):
    x, y = _unit(x, "images"), _unit(y, "targets")
    if x.shape != y.shape:
        raise GanJaxError(f"images {x.shape} and targets {y.shape} must have the same shape")
    return x, y


def l1(x, y) -> float:
    x, y = _pair(x, y)
    return float(np.mean(np.abs(x - y)))


def psnr(x, y) -> float:
    x, y = _pair(x, y)
    mse = np.mean((x - y) ** 2, axis=(1, 2, 3))
    with np.errstate(divide="ignore"):
        db = np.where(mse > 0, 10.0 * np.log10(1.0 / np.maximum(mse, 1e-300)), MAX_PSNR)
    return float(np.mean(np.minimum(db, MAX_PSNR)))


def _ssim_image(x, y):
    """SSIM of two [H, W] images in [0, 1]."""
    def blur(a):
        return ndimage.gaussian_filter(a, SIGMA, truncate=TRUNCATE)
    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    c1, c2 = K1 ** 2, K2 ** 2
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    pad = int(TRUNCATE * SIGMA + 0.5)
    return s[pad:-pad, pad:-pad].mean()


def ssim(x, y) -> float:
    x, y = _pair(x, y)
    if min(x.shape[1:3]) < 11:
        raise GanJaxError(f"SSIM needs images of side >= 11 (its window), got {x.shape[1:3]}")
    return float(np.mean([[_ssim_image(x[i, ..., c], y[i, ..., c]) for c in range(x.shape[-1])]
                          for i in range(len(x))]))
