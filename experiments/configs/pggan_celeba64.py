"""Progressive growing (PGGAN) on CelebA at 64x64, the paper's recipe, for users with the data and
an accelerator (tfds `celeb_a` prepared; no offline default: the set is 1.4 GB).

    python -m gan_jax.train --config experiments/configs/pggan_celeba64.py --workdir runs/pggan_celeba64

Karras et al. (2018), section 6 / appendix A: widths min(8192 / 2^(l+1), 512) (512 up to
32x32, then 256 at 64, 128 at 128), a 512-d latent, pixelwise normalisation, equalized learning
rate, minibatch standard deviation (groups of 4), WGAN-GP (lambda 10) with the epsilon-drift
0.001, Adam lr 1e-3, beta (0, 0.99), EMA of G 0.999, 600k images per fade-in and per
stabilisation. Departure: one batch size (16) at every level (the paper lowers it at high
resolutions for memory). The images are centre-cropped and resized to 64x64
(`data.image_size`). The configuration is pggan_celeba128.py's at 64x64. The paper's CelebA-128 reference (Table 1 of the paper, CelebA at 128):
SWD x10^3 per level 4.62 / 2.64 / 3.78 / 6.06 (128 / 64 / 32 / 16 px), MS-SSIM 0.2838.
"""
from experiments.configs.pggan_celeba128 import celeba_config


def get_config():
    return celeba_config(64)
