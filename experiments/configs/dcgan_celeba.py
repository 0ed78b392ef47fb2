"""DCGAN on CelebA faces (tfds `celeb_a`), centre-cropped and resized to 64x64x3; for a GPU/TPU.

    tfds build celeb_a --file_format=array_record     # once, online, needs TensorFlow
    python -m gan_jax.train --config experiments/configs/dcgan_celeba.py --workdir runs/dcgan_celeba

The paper's 64x64 network (Radford et al. 2015): G z 100 -> 4x4x512 -> 256 -> 128 -> 64 -> 3
(64x64), tanh; D 3 -> 64 -> 128 -> 256 -> 512 (4x4) -> logit. Adam lr 2e-4, beta1 0.5, batch
128. The 218x178 images are cropped to their central 178x178 and resized (antialiased bilinear)
to 64x64 as they are read (gan_jax.data.resize), ~2 GB of uint8 in memory for the train split.
"""
from gan_jax.config import base_config, optimizer


def get_config():
    c = base_config()
    c.data.name = "celeb_a"
    c.data.image_size = 64
    c.model.arch = "dcgan"
    c.model.latent_dim = 100
    c.model.g_width = 64
    c.model.d_width = 64
    c.optim.g = optimizer("adam", lr=2e-4, b1=0.5)
    c.optim.d = optimizer("adam", lr=2e-4, b1=0.5)
    c.train.steps = 8_000             # ~6 epochs of 162,770 images
    c.train.batch_size = 128
    c.train.steps_per_call = 1
    c.train.log_every = 100
    c.train.sample_every = 1000
    c.train.ckpt_every = 1000
    c.eval.num_samples = 10_000
    return c
