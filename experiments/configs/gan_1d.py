"""The 1-D toy of Goodfellow et al. (2014), Figure 1: G learns N(4, 0.5^2) from uniform noise.

    python -m gan_jax.train --config experiments/configs/gan_1d.py --workdir runs/gan_1d

Writes figure1.png (data density, p_g, D(x) at several steps). Measured here: see README.
"""
from gan_jax.config import base_config, optimizer


def get_config():
    c = base_config()
    c.data.name = "toy_1d"
    c.data.distribution = "gaussian"
    c.model.latent_dim = 1
    c.model.latent_distribution = "uniform"
    c.model.g_hidden = (32, 32)
    c.model.d_hidden = (32, 32)
    c.model.g_activation = "leaky_relu"
    c.model.g_output = "linear"
    c.optim.g = optimizer("adam", lr=1e-3, b1=0.5)
    c.optim.d = optimizer("adam", lr=1e-3, b1=0.5)
    c.train.steps = 5000
    c.train.batch_size = 256
    c.train.steps_per_call = 100
    c.train.log_every = 100
    c.train.sample_every = 1000
    c.train.ckpt_every = 1000
    return c
