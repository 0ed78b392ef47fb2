"""Sliced Wasserstein distance (SWD) between image sets on Laplacian-pyramid patches.

The multi-scale statistical similarity of Progressive Growing of GANs (Karras, Aila, Laine &
Lehtinen, ICLR 2018, section 5 and appendix D), following the authors' code
(github.com/tkarras/progressive_growing_of_gans, ``metrics/sliced_wasserstein.py``):

1. Each image set (float [N, H, W, C] in [-1, 1], H == W a power of two >= 16) is decomposed
   into a Laplacian pyramid built with the 5-tap binomial filter [1, 4, 6, 4, 1] / 16 applied
   separably with mirror boundaries (scipy ``mode='mirror'``, as the official code's): down =
   blur then keep every second pixel; up = zero-insert then blur with 4x the filter. Levels
   go from the full resolution down to 16x16; the coarsest level is the 16x16 Gaussian itself,
   so upsampling and adding the levels back reconstructs the images exactly.
2. Per level, ``nhoods_per_image`` random 7x7xC patches per image are taken (top-left corners
   uniform over the positions where the patch fits). The same positions are used for both sets
   (one draw per level from the seed), so identical sets give exactly 0; each set's patches
   are still a uniform sample of its own patch distribution.
3. Each set's descriptors are normalised per channel by the mean and (population) std over all
   of that level's descriptors *of that set*, as the official code does. A channel with zero
   std (a constant level) is only centred, where the official code would give NaN.
4. SWD = mean over ``dir_repeats`` x ``dirs_per_repeat`` random unit directions (normalised
   Gaussian vectors) of mean |sorted projections of A - sorted projections of B|: the 1-D
   Wasserstein-1 distance between the projected empirical distributions, averaged over
   directions. Both sets must give equal numbers of descriptors (equal numbers of images).

``sliced_wasserstein`` returns ``swd_<res>`` per level and ``swd_avg`` (their mean), all x1e3
as the paper prints them. Because descriptors are normalised per channel, the result does not
depend on an affine map of pixel values (so [-1, 1] here equals the official [0, 255] floats;
the official code also rounds its downscaled uint8 images, which this does not). Randomness comes
from ``np.random.SeedSequence(seed).spawn(2 * levels)``: child i draws level i's patch
positions, child levels + i its directions. Everything is float64. The descriptors hold
N * nhoods_per_image * 49 * C floats per level (and the projections N * nhoods * dirs_per_repeat),
so for the paper's 16k-image runs pass fewer images or expect several GB of memory.

Paper reference (Table 1, CelebA 128x128, real vs. the final network's images), SWD x1e3 at
128/64/32/16: 4.62 / 2.64 / 3.78 / 6.06 (average 4.28).
"""
import numpy as np
from scipy import ndimage

from gan_jax.errors import GanJaxError

BINOMIAL = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0
MIN_RES, PATCH = 16, 7


def _blur(x, taps):
    """Separable filter along H and W of [N, H, W, C], mirror boundaries."""
    for axis in (1, 2):
        x = ndimage.convolve1d(x, taps, axis=axis, mode="mirror")
    return x


def pyr_down(x):
    """Blur and halve [N, H, W, C] (cv2.pyrDown-like, as the official code's)."""
    return _blur(x, BINOMIAL)[:, ::2, ::2]


def pyr_up(x):
    """Zero-insert to double [N, H, W, C] and blur with 4x the filter (gain 1 for constants)."""
    n, h, w, c = x.shape
    up = np.zeros((n, 2 * h, 2 * w, c))
    up[:, ::2, ::2] = x
    return _blur(up, 2.0 * BINOMIAL)


def laplacian_pyramid(images, min_res=MIN_RES):
    """Levels [N, r, r, C] for r = H, H/2, ..., min_res; the last is the Gaussian level."""
    levels = [np.asarray(images, np.float64)]
    while levels[-1].shape[1] > min_res:
        down = pyr_down(levels[-1])
        levels[-1] = levels[-1] - pyr_up(down)
        levels.append(down)
    return levels


def patch_descriptors(level, nhoods_per_image=128, seed=0):
    """[N * nhoods_per_image, 7 * 7 * C] normalised patch descriptors of a level [N, r, r, C].

    Patch k belongs to image k // nhoods_per_image; its top-left corner (y, x) is column k of
    ``default_rng(seed).integers(0, [[H - 6], [W - 6]], size=(2, N * nhoods_per_image))``
    (``seed``: anything ``np.random.default_rng`` takes). The components
    are ordered (dy, dx, channel); each channel is centred and divided by its std over all
    patches of the level."""
    level = np.asarray(level, np.float64)
    n, h, w, c = level.shape
    if min(h, w) < PATCH:
        raise GanJaxError(f"patch descriptors need levels of side >= {PATCH}, got {h}x{w}")
    rng = np.random.default_rng(seed)
    y0, x0 = rng.integers(0, [[h - PATCH + 1], [w - PATCH + 1]], size=(2, n * nhoods_per_image))
    img = np.repeat(np.arange(n), nhoods_per_image)[:, None, None]
    off = np.arange(PATCH)
    patches = level[img, y0[:, None, None] + off[:, None], x0[:, None, None] + off[None, :]]
    patches = patches - patches.mean(axis=(0, 1, 2))
    std = patches.std(axis=(0, 1, 2))
    patches = patches / np.where(std > 0, std, 1.0)
    return patches.reshape(len(patches), -1)


def random_directions(dim, dir_repeats=4, dirs_per_repeat=128, seed=0):
    """[dir_repeats, dim, dirs_per_repeat] unit directions (columns), normalised Gaussians."""
    rng = np.random.default_rng(seed)
    dirs = rng.standard_normal((dir_repeats, dim, dirs_per_repeat))
    return dirs / np.sqrt(np.sum(dirs ** 2, axis=1, keepdims=True))


def sliced_distance(a, b, dir_repeats=4, dirs_per_repeat=128, seed=0):
    """Mean over random unit directions d of mean_k |sort(a d)_k - sort(b d)_k| (no x1e3)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.ndim != 2 or a.shape != b.shape:
        raise GanJaxError(f"descriptor sets must be 2-D with the same shape (equal counts), got "
                          f"{a.shape} and {b.shape}")
    dirs = random_directions(a.shape[1], dir_repeats, dirs_per_repeat, seed)
    dists = [np.mean(np.abs(np.sort(a @ d, axis=0) - np.sort(b @ d, axis=0))) for d in dirs]
    return float(np.mean(dists))


def _check(real, fake):
    x, y = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    for name, a in (("real", x), ("fake", y)):
        if a.ndim != 4:
            raise GanJaxError(f"{name} images must be [N, H, W, C] in [-1, 1], got shape "
                              f"{a.shape}")
    if x.shape[1:] != y.shape[1:]:
        raise GanJaxError(f"real {x.shape} and fake {y.shape} images must have the same H, W, C")
    if len(x) != len(y) or len(x) == 0:
        raise GanJaxError(f"SWD compares equal numbers of real and fake images (equal descriptor "
                          f"counts), got {len(x)} and {len(y)}")
    h, w = x.shape[1:3]
    if h != w or h < MIN_RES or h & (h - 1):
        raise GanJaxError(f"SWD needs square images whose side is a power of two >= {MIN_RES} "
                          f"(pyramid down to 16x16), got {h}x{w}")
    return x, y


def sliced_wasserstein(real, fake, seed=0, nhoods_per_image=128, dir_repeats=4,
                       dirs_per_repeat=128) -> dict:
    """{'swd_<res>': SWD x1e3 per pyramid level (full res first), 'swd_avg': their mean}."""
    x, y = _check(real, fake)
    px, py = laplacian_pyramid(x), laplacian_pyramid(y)
    kids = np.random.SeedSequence(seed).spawn(2 * len(px))
    out = {}
    for i, (lx, ly) in enumerate(zip(px, py)):
        da = patch_descriptors(lx, nhoods_per_image, kids[i])
        db = patch_descriptors(ly, nhoods_per_image, kids[i])
        swd = sliced_distance(da, db, dir_repeats, dirs_per_repeat, kids[len(px) + i])
        out[f"swd_{lx.shape[1]}"] = 1e3 * swd
    out["swd_avg"] = float(np.mean(list(out.values())))
    return out
