"""MS-SSIM against a slow per-channel, per-scale reference, closed-form cases and the pairwise
diversity score."""
import chex
import numpy as np
import pytest
from scipy import ndimage, signal

from gan_jax.errors import GanJaxError
from gan_jax.metrics import ms_ssim as msm

WEIGHTS = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333]


def _smooth_images(seed, shape, sigma=2.0):
    x = ndimage.gaussian_filter(np.random.default_rng(seed).normal(size=shape),
                                sigma=(0, sigma, sigma, 0))
    return np.tanh(x / x.std())


def _valid_filter(a, size, sigma):
    """Gaussian-weighted local means at the positions where the whole window fits."""
    if size % 2:   # odd window: ndimage's Gaussian with radius size // 2, border dropped
        r = size // 2
        return ndimage.gaussian_filter(a, sigma, radius=r)[r:a.shape[0] - r, r:a.shape[1] - r]
    t = np.arange(size) - (size - 1) / 2.0   # even window: MATLAB fspecial's half-integer grid
    window = np.exp(-(t[:, None] ** 2 + t[None, :] ** 2) / (2 * sigma ** 2))
    return signal.correlate2d(a, window / window.sum(), mode="valid")


def _slow_ms_ssim(x, y):
    """MS-SSIM of one pair of [H, W, C] images in [-1, 1], channel by channel, scale by scale."""
    x, y = (x + 1) / 2, (y + 1) / 2
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    terms = []
    for scale in range(5):
        if scale:
            h, w = x.shape[0] // 2, x.shape[1] // 2
            x = x[:2 * h, :2 * w].reshape(h, 2, w, 2, -1).mean(axis=(1, 3))
            y = y[:2 * h, :2 * w].reshape(h, 2, w, 2, -1).mean(axis=(1, 3))
        size = min(11, x.shape[0], x.shape[1])
        cs_maps, ssim_maps = [], []
        for c in range(x.shape[2]):
            def f(v):
                return _valid_filter(v, size, size * 1.5 / 11)
            a, b = x[:, :, c], y[:, :, c]
            ma, mb = f(a), f(b)
            va, vb, cab = f(a * a) - ma ** 2, f(b * b) - mb ** 2, f(a * b) - ma * mb
            cs = (2 * cab + c2) / (va + vb + c2)
            cs_maps.append(cs)
            ssim_maps.append(cs * (2 * ma * mb + c1) / (ma ** 2 + mb ** 2 + c1))
        terms.append(max(np.mean(cs_maps if scale < 4 else ssim_maps), 0.0))
    return np.prod([t ** w for t, w in zip(terms, WEIGHTS)])


@pytest.mark.parametrize("shape", [(2, 16, 16, 1), (2, 48, 37, 3), (1, 176, 176, 2)])
def test_matches_slow_reference(shape):
    x = _smooth_images(0, shape)
    y = x + 0.3 * np.random.default_rng(1).normal(size=shape)
    got = msm.ms_ssim(x, y)
    chex.assert_shape(got, (shape[0],))
    want = [_slow_ms_ssim(x[i], y[i]) for i in range(shape[0])]
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert np.all((got > 0.05) & (got < 0.99))   # a real test, not clipped to 0 or trivially 1


def test_identical_images_give_one_and_the_score_is_symmetric():
    x = _smooth_images(0, (3, 32, 32, 3))
    y = np.random.default_rng(1).uniform(-1, 1, x.shape)
    np.testing.assert_allclose(msm.ms_ssim(x, x), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(msm.ms_ssim(x, y), msm.ms_ssim(y, x))


def test_constant_images_closed_form():
    """Constant images a and b (in [0, 1]): every variance and covariance is 0, so cs = 1 at
    each scale, and the scale-5 SSIM is the luminance term l = (2ab + C1) / (a^2 + b^2 + C1):
    MS-SSIM = l ** 0.1333."""
    x, y = np.full((1, 64, 64, 3), -0.5), np.full((1, 64, 64, 3), 0.0)
    a, b, c1 = 0.25, 0.5, 0.01 ** 2
    lum = (2 * a * b + c1) / (a * a + b * b + c1)
    assert msm.ms_ssim(x, y)[0] == pytest.approx(lum ** 0.1333, rel=1e-10)   # 0.97069...


def test_negative_contrast_structure_is_clipped_to_zero():
    x = _smooth_images(0, (2, 32, 32, 1))
    np.testing.assert_array_equal(msm.ms_ssim(x, -x), 0.0)   # cs_1 < 0 -> clipped -> 0


def test_decreases_with_added_noise():
    x = _smooth_images(0, (4, 64, 64, 3))
    noise = np.random.default_rng(1).normal(size=x.shape)
    scores = np.stack([msm.ms_ssim(x, x + s * noise) for s in (0.0, 0.05, 0.1, 0.2, 0.4)])
    assert np.all(np.diff(scores, axis=0) < 0)


def test_mean_pairwise_ms_ssim():
    one = _smooth_images(0, (1, 32, 32, 3))
    assert msm.mean_pairwise_ms_ssim(np.repeat(one, 6, axis=0)) == pytest.approx(1.0, rel=1e-12)
    noise = np.random.default_rng(1).uniform(-1, 1, (12, 32, 32, 3))
    assert msm.mean_pairwise_ms_ssim(noise, num_pairs=20) < 0.1
    similar = one + 0.2 * np.random.default_rng(2).normal(size=(12, 32, 32, 3))  # less diverse
    assert msm.mean_pairwise_ms_ssim(similar, num_pairs=20) > 0.5
    # The documented pairing: disjoint pairs from successive permutations.
    rng = np.random.default_rng(4)
    pairs = np.concatenate([rng.permutation(5)[:4] for _ in range(4)]).reshape(-1, 2)[:7]
    want = np.mean(msm.ms_ssim(similar[pairs[:, 0]], similar[pairs[:, 1]]))
    assert np.all(pairs[:, 0] != pairs[:, 1])
    got = msm.mean_pairwise_ms_ssim(similar[:5], num_pairs=7, seed=4, batch_size=3)
    assert got == pytest.approx(want, rel=1e-12)


def test_input_errors():
    x = np.zeros((2, 32, 32, 3))
    with pytest.raises(GanJaxError, match=r"\[N, H, W, C\]"):
        msm.ms_ssim(x[0], x[0])
    with pytest.raises(GanJaxError, match="same shape"):
        msm.ms_ssim(x, x[:1])
    with pytest.raises(GanJaxError, match="side >= 16"):
        msm.ms_ssim(x[:, :15], x[:, :15])
    with pytest.raises(GanJaxError, match="N >= 2"):
        msm.mean_pairwise_ms_ssim(x[:1])
    with pytest.raises(GanJaxError, match="num_pairs"):
        msm.mean_pairwise_ms_ssim(x, num_pairs=0)
