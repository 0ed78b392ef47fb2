"""Progressive growing (PGGAN) on CIFAR-10 (32x32, unconditional), for users with the data and an
accelerator (tfds `cifar10` prepared).

    python -m gan_jax.train --config experiments/configs/pggan_cifar10.py --workdir runs/pggan_cifar10

The paper's recipe (Karras et al. 2018; see pggan_celeba128.py), 4x4 -> 32x32 at widths
min(8192 / 2^(l+1), 512) = 512 throughout, 600k images per phase, batch 16. The paper reports
an unsupervised CIFAR-10 Inception score of 8.80 with this family (its Table 3), which is what
`python -m gan_jax.evaluate --metrics is` (with the Inception weights) measures.
"""
from gan_jax.config import base_config, optimizer


def get_config():
    c = base_config()
    c.gan.family = "progressive"
    c.data.name = "cifar10"
    c.model.latent_dim = 512
    p = c.progressive
    p.resolution = 32
    p.fmap_base, p.fmap_max = 8192, 512
    p.fade_images = p.stable_images = 600_000
    c.loss.name, c.loss.gp_weight, c.loss.drift = "wasserstein", 10.0, 0.001
    c.optim.g = optimizer("adam", lr=1e-3, b1=0.0, b2=0.99)
    c.optim.d = optimizer("adam", lr=1e-3, b1=0.0, b2=0.99)
    c.train.ema_decay = 0.999
    c.train.batch_size = 16
    c.train.steps = 600_000 * (2 * 3 + 1) // 16 + 600_000 // 16    # 7 phases + one more at 32x32
    c.train.log_every, c.train.sample_every, c.train.ckpt_every = 500, 5000, 5000
    c.eval.num_samples = 50_000
    return c
