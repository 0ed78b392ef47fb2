"""L1, PSNR and SSIM of the Pix2Pix photo tasks against scikit-image's implementations."""
import numpy as np
import pytest

from gan_jax.errors import GanJaxError
from gan_jax.metrics import image_quality

skimage_metrics = pytest.importorskip("skimage.metrics")


def _pair(seed=0, shape=(3, 40, 37, 3), noise=0.3):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, shape)
    return x, np.clip(x + rng.normal(0, noise, shape), -1, 1)


@pytest.mark.parametrize("channels", [1, 3])
def test_ssim_and_psnr_equal_scikit_image(channels):
    x, y = _pair(shape=(3, 40, 37, channels))
    u, v = (x + 1) / 2, (y + 1) / 2
    ssim = np.mean([skimage_metrics.structural_similarity(
        u[i], v[i], gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1,
        channel_axis=-1) for i in range(3)])
    psnr = np.mean([skimage_metrics.peak_signal_noise_ratio(u[i], v[i], data_range=1)
                    for i in range(3)])
    assert abs(image_quality.ssim(x, y) - ssim) < 1e-12
    assert abs(image_quality.psnr(x, y) - psnr) < 1e-9
    assert abs(image_quality.l1(x, y) - np.mean(np.abs(u - v))) < 1e-12


def test_identical_images_and_bad_shapes():
    x, _ = _pair()
    assert image_quality.ssim(x, x) == pytest.approx(1.0)
    assert image_quality.psnr(x, x) == image_quality.MAX_PSNR and image_quality.l1(x, x) == 0
    with pytest.raises(GanJaxError, match="same shape"):
        image_quality.l1(x, x[:2])
    with pytest.raises(GanJaxError, match=r"\[N, H, W, C\]"):
        image_quality.psnr(x[0], x[0])
    with pytest.raises(GanJaxError, match="side >= 11"):
        image_quality.ssim(x[:, :8, :8], x[:, :8, :8])
