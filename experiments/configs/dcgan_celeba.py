"""DCGAN on CelebA faces (tfds `celeb_a`), centre-cropped and resized to 64x64x3; for a GPU/TPU.

    tfds build celeb_a --file_format=array_record     # once, online, needs TensorFlow
    python -m gan_jax.train --config experiments/configs/dcgan_celeba.py --workdir runs/dcgan_celeba

dcgan_cifar10's settings (the paper's widths, Adam lr 2e-4, beta1 0.5, batch 128) on 64x64 images,
so the networks get the paper's 64x64 stages: G z 100 -> 4x4x512 -> 256 -> 128 -> 64 -> 3, D
3 -> 64 -> 128 -> 256 -> 512 (4x4) -> logit. The 218x178 images are cropped to their central
178x178 and resized (antialiased bilinear) to 64x64 as they are read (gan_jax.data.resize),
~2 GB of uint8 in memory for the train split.
"""
from experiments.configs import dcgan_cifar10


def get_config():
    c = dcgan_cifar10.get_config()
    c.data.name = "celeb_a"
    c.data.image_size = 64
    c.train.steps = 8_000             # ~6 epochs of 162,770 images
    c.train.sample_every = 1000
    c.train.ckpt_every = 1000
    return c
