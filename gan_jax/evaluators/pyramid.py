"""The metrics of the PGGAN paper as one plug-in: sliced Wasserstein distance on Laplacian-pyramid
patches (`swd`, `gan_jax.metrics.sliced_wasserstein`) and MS-SSIM between pairs of samples
(`msssim`, `gan_jax.metrics.ms_ssim`).

- `swd`: the generated images against as many training images (a seeded random subset), one
  value per pyramid level (`swd_32`, `swd_16` for 32x32 images, x10^3 as the paper prints them)
  and their mean `swd_avg`. The pyramid needs a power-of-two side of at least 16: other sizes
  (MNIST's 28x28) are padded with -1, the background, to the next one, both sets alike.
- `msssim`: the mean MS-SSIM of random distinct pairs of generated images (diversity: lower is
  more diverse) and `real_msssim`, the same over the training images, the baseline to read it
  against (a collapsed generator scores far above it).

The progressive family runs both under `eval.metrics='auto'`; any image family runs them when
named (`python -m gan_jax.evaluate --workdir DIR --metrics fid,swd,msssim`).
"""
import numpy as np

from gan_jax.evaluators import requested
from gan_jax.pixels import to_model_range

NUM_PAIRS = 5000        # random pairs per MS-SSIM mean
SUBSET_SEED = 0x5D


def pad_to_pyramid(images, min_side: int = 16):
    """[N, H, W, C] in [-1, 1] -> padded with -1 (centred) to the next power-of-two square side
    of at least ``min_side``."""
    n, h, w, c = images.shape
    side = max(min_side, 1 << int(np.ceil(np.log2(max(h, w)))))
    top, left = (side - h) // 2, (side - w) // 2
    return np.pad(images, ((0, 0), (top, side - h - top), (left, side - w - left), (0, 0)),
                  constant_values=-1.0)


class PyramidMetrics:
    known = ("swd", "msssim")

    def __init__(self, context, auto: bool = False):
        self.context = context
        names = requested(context.options)
        self.metrics = self.known if names is None and auto else \
            tuple(m for m in (names or ()) if m in self.known)

    def _real(self, n):
        size = self.context.train_size
        pick = np.random.default_rng(SUBSET_SEED + self.context.seed).permutation(size)[:n]
        return to_model_range(self.context.train_images_at(np.sort(pick)))

    def __call__(self, fake, cond=None):
        if not self.metrics:
            return {}.items()
        fake = np.asarray(fake, np.float32)
        real = self._real(len(fake))
        n = min(len(fake), len(real))
        result = {}
        if "swd" in self.metrics:
            from gan_jax.metrics.sliced_wasserstein import sliced_wasserstein
            result.update(sliced_wasserstein(pad_to_pyramid(real[:n]), pad_to_pyramid(fake[:n]),
                                             seed=self.context.seed))
        if "msssim" in self.metrics:
            from gan_jax.metrics.ms_ssim import mean_pairwise_ms_ssim
            result["msssim"] = mean_pairwise_ms_ssim(fake, NUM_PAIRS, seed=self.context.seed)
            result["real_msssim"] = mean_pairwise_ms_ssim(real, NUM_PAIRS, seed=self.context.seed)
        return result.items()
