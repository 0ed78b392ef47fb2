"""Multi-scale SSIM (Wang, Simoncelli & Bovik 2003) and the mean pairwise MS-SSIM diversity score.

AC-GAN (Odena et al. 2017) and Progressive GANs (Karras et al. 2018, Table 1) score the diversity
of a generator by the mean MS-SSIM between random pairs of its images: lower = more diverse, and
the real data's own value is the baseline to compare with.

Conventions (those of the official PGGAN ``metrics/ms_ssim.py``, itself adapted from
tensorflow/models ``research/compression/image_encoder/msssim.py``, so that numbers compare with
the PGGAN tables; float64 here, float32 there):

- Images are float [N, H, W, C] in [-1, 1], mapped to [0, 1]; data range L = 1, so C1 = (0.01)^2
  and C2 = (0.03)^2 (the official code's [0, 255] with max_val 255 gives the same values).
- Five scales, weights [0.0448, 0.2856, 0.3001, 0.2363, 0.1333]; between scales 2x2 average
  pooling (an odd trailing row or column is dropped, i.e. 'VALID' pooling; the official code
  only handles even sides).
- Statistics with a Gaussian window of size 11 and sigma 1.5 (the MATLAB ``fspecial`` window),
  'valid' positions only (no padding), population (co)variances. Where a side at some scale is
  smaller than 11 the window shrinks to size s = min(11, H, W) and sigma to s * 1.5 / 11 (an
  even s puts the window's samples at half-integer offsets), as the official code does, so any
  side >= 16 works (scale 5 of a 16x16 image is 1x1). tf.image.ssim_multiscale instead keeps
  the 11x11 window and requires each scale to be >= 11 pixels (sides >= 176): we follow PGGAN
  because its small-resolution tables were computed this way.
- cs_j = mean over valid positions and channels of (2 s_xy + C2) / (s_x^2 + s_y^2 + C2) at
  scales 1-4; at scale 5 the full SSIM, mean of l * cs (mean of the product map). Channels are
  averaged before the product over scales (TF takes the product per channel, then averages).
- Negative values: cs_1..cs_4 and the scale-5 SSIM are clipped at 0 before the powers (the
  official code's ``np.clip(..., 0, inf)``, as TF's relu), so anticorrelated pairs score 0
  rather than NaN.

MS-SSIM = prod_{j=1..4} cs_j^w_j * ssim_5^w_5, per image pair.
"""
import numpy as np

from gan_jax.errors import GanJaxError

WEIGHTS = np.array([0.0448, 0.2856, 0.3001, 0.2363, 0.1333])
WINDOW, SIGMA, K1, K2 = 11, 1.5, 0.01, 0.03
MIN_SIDE = 16


def _unit(images, what):
    x = np.asarray(images, np.float64)
    if x.ndim != 4:
        raise GanJaxError(f"{what} must be [N, H, W, C] images in [-1, 1], got shape {x.shape}")
    if min(x.shape[1:3]) < MIN_SIDE:
        raise GanJaxError(f"MS-SSIM needs images of side >= {MIN_SIDE} (five scales), got "
                          f"{x.shape[1]}x{x.shape[2]}")
    return (x + 1.0) / 2.0


def gaussian_window(size, sigma):
    """1-D taps g with outer(g, g) = MATLAB fspecial('gaussian', size, sigma) (sum 1)."""
    t = np.arange(size) - (size - 1) / 2.0
    g = np.exp(-t ** 2 / (2.0 * sigma ** 2))
    return g / g.sum()


def _filter_valid(x, g):
    """Valid-mode separable filtering of [N, H, W, C] by outer(g, g)."""
    k = len(g)
    for axis in (1, 2):
        n = x.shape[axis] - k + 1
        x = sum(g[i] * x.take(np.arange(i, i + n), axis=axis) for i in range(k))
    return x


def ssim_and_cs(x, y):
    """Per image pair: (mean SSIM map, mean contrast-structure map) of [N, H, W, C] in [0, 1]."""
    size = min(WINDOW, x.shape[1], x.shape[2])
    g = gaussian_window(size, size * SIGMA / WINDOW)
    mx, my = _filter_valid(x, g), _filter_valid(y, g)
    vx = _filter_valid(x * x, g) - mx * mx
    vy = _filter_valid(y * y, g) - my * my
    cxy = _filter_valid(x * y, g) - mx * my
    c1, c2 = K1 ** 2, K2 ** 2
    cs = (2.0 * cxy + c2) / (vx + vy + c2)
    lum = (2.0 * mx * my + c1) / (mx * mx + my * my + c1)
    return np.mean(lum * cs, axis=(1, 2, 3)), np.mean(cs, axis=(1, 2, 3))


def _pool(x):
    h, w = x.shape[1] // 2 * 2, x.shape[2] // 2 * 2
    x = x[:, :h, :w]
    return (x[:, 0::2, 0::2] + x[:, 1::2, 0::2] + x[:, 0::2, 1::2] + x[:, 1::2, 1::2]) * 0.25


def ms_ssim(x, y) -> np.ndarray:
    """MS-SSIM of each image pair (x[i], y[i]): float64 [N], in [0, 1] (1 iff equal images)."""
    x, y = _unit(x, "images x"), _unit(y, "images y")
    if x.shape != y.shape:
        raise GanJaxError(f"images x {x.shape} and y {y.shape} must have the same shape")
    terms = []
    for scale in range(len(WEIGHTS)):
        if scale:
            x, y = _pool(x), _pool(y)
        ssim, cs = ssim_and_cs(x, y)
        terms.append(cs if scale < len(WEIGHTS) - 1 else ssim)
    terms = np.clip(np.stack(terms), 0.0, None)
    return np.prod(terms ** WEIGHTS[:, None], axis=0)


def mean_pairwise_ms_ssim(images, num_pairs=None, seed=0, batch_size=256) -> float:
    """Mean MS-SSIM over random pairs of distinct images of one set (diversity; lower = more
    diverse). Pairs come from ``default_rng(seed)``: each ``permutation(N)`` gives N // 2
    disjoint pairs (its elements 0-1, 2-3, ...), as many permutations as ``num_pairs`` needs,
    the first ``num_pairs`` pairs kept; ``num_pairs=None`` means N // 2 (each image used once,
    as the official code pairs images[0::2] with images[1::2])."""
    images = np.asarray(images, np.float64)
    if images.ndim != 4 or len(images) < 2:
        raise GanJaxError(f"mean pairwise MS-SSIM needs [N, H, W, C] images with N >= 2, got "
                          f"shape {images.shape}")
    n, per = len(images), len(images) // 2
    k = per if num_pairs is None else int(num_pairs)
    if k < 1:
        raise GanJaxError(f"num_pairs must be >= 1, got {num_pairs}")
    rng = np.random.default_rng(seed)
    pairs = np.concatenate([rng.permutation(n)[:2 * per] for _ in range(-(-k // per))])
    pairs = pairs.reshape(-1, 2)[:k]
    scores = [ms_ssim(images[p[:, 0]], images[p[:, 1]])
              for p in np.array_split(pairs, -(-k // batch_size))]
    return float(np.mean(np.concatenate(scores)))
