"""Progressive growing (PGGAN) on CelebA at 128x128, the paper's recipe, for users with the data and
an accelerator (tfds `celeb_a` prepared; no offline default: the set is 1.4 GB).

    python -m gan_jax.train --config experiments/configs/pggan_celeba128.py --workdir runs/pggan_celeba128

Karras et al. (2018), section 6 / appendix A: widths min(8192 / 2^(l+1), 512) (512 up to
32x32, then 256 at 64, 128 at 128), a 512-d latent, pixelwise normalisation, equalized learning
rate, minibatch standard deviation (groups of 4), WGAN-GP (lambda 10) with the epsilon-drift
0.001, Adam lr 1e-3, beta (0, 0.99), EMA of G 0.999, 600k images per fade-in and per
stabilisation. Departure: one batch size (16) at every level (the paper lowers it at high
resolutions for memory). The images are centre-cropped and resized to 128x128
(`data.image_size`). The paper's CelebA-128 reference (Table 1 of the paper, CelebA at 128):
SWD x10^3 per level 4.62 / 2.64 / 3.78 / 6.06 (128 / 64 / 32 / 16 px), MS-SSIM 0.2838.
"""
from gan_jax.config import base_config, optimizer


def celeba_config(side: int):
    """The paper's CelebA recipe at side x side (a power of two)."""
    c = base_config()
    c.gan.family = "progressive"
    c.data.name, c.data.image_size = "celeb_a", side
    c.model.latent_dim = 512
    p = c.progressive
    p.resolution = side
    p.fmap_base, p.fmap_max = 8192, 512
    p.fade_images = p.stable_images = 600_000
    c.loss.name, c.loss.gp_weight, c.loss.drift = "wasserstein", 10.0, 0.001
    c.optim.g = optimizer("adam", lr=1e-3, b1=0.0, b2=0.99)
    c.optim.d = optimizer("adam", lr=1e-3, b1=0.0, b2=0.99)
    c.train.ema_decay = 0.999
    c.train.batch_size = 16
    # every level's phases (level 0 stabilises; each later one fades in and stabilises), then
    # one more stabilisation at the top
    levels = side.bit_length() - 2          # 4x4 .. side x side
    c.train.steps = 600_000 * (2 * (levels - 1) + 1) // 16 + 600_000 // 16
    c.train.log_every, c.train.sample_every, c.train.ckpt_every = 500, 5000, 5000
    c.eval.num_samples = 10_000
    return c


def get_config():
    return celeba_config(128)
