"""DCGAN on CIFAR-10 (tfds `cifar10`, 32x32x3), the paper's full width; for a GPU/TPU.

    tfds build cifar10 --file_format=array_record     # once, online, needs TensorFlow
    python -m gan_jax.train --config experiments/configs/dcgan_cifar10.py --workdir runs/dcgan_cifar10

G: z 100 -> 4x4x256 -> 128 (8x8) -> 64 (16x16) -> 3 (32x32), tanh; D: 3 -> 64 -> 128 -> 256 (4x4)
-> logit. Adam lr 2e-4, beta1 0.5, batch 128 (Radford et al. 2015). gan_jax never downloads:
without the prepared data set this stops at once and says how to prepare it.
"""
from gan_jax.config import base_config, optimizer


def get_config():
    c = base_config()
    c.data.name = "cifar10"
    c.model.arch = "dcgan"
    c.model.latent_dim = 100
    c.model.g_width = 64
    c.model.d_width = 64
    c.optim.g = optimizer("adam", lr=2e-4, b1=0.5)
    c.optim.d = optimizer("adam", lr=2e-4, b1=0.5)
    c.train.steps = 40_000            # ~100 epochs of 50,000 images
    c.train.batch_size = 128
    c.train.steps_per_call = 1
    c.train.log_every = 100
    c.train.sample_every = 2000
    c.train.ckpt_every = 2000
    c.eval.num_samples = 10_000
    return c
