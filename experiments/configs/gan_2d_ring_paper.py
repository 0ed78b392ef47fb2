"""The 2-D ring (8 Gaussians, radius 2, std 0.02) with the Unrolled-GAN paper's networks and
optimisers, for the like-for-like rows of the mode-collapse table (experiments/mode_collapse.py).

    python -m gan_jax.train --config experiments/configs/gan_2d_ring_paper.py --workdir runs/ring_p

Metz et al. (2017) and the unrolled-GAN reference notebook that VEEGAN's and PacGAN's 2-D tables
compare against (read from a public snapshot): G and D are MLPs with two hidden layers of 128
tanh units (G's output linear, D's a logit), z ~ N(0, I_256), batch 512, Adam with beta1 0.5,
learning rates 1e-4 for D and 1e-3 for G, 25,000 iterations. Departures: Flax's default
initialisation (LeCun normal) instead of the notebook's orthogonal one with gain 1.4; the
mode statistics over 2,500 samples (VEEGAN's count) with our definitions (`metrics/modes.py`).
The shipped configs gan_2d_ring.py / gan_2d_grid.py are ours (ReLU G, leaky-ReLU D, z 16,
batch 256, lr 1e-4 for both): the table's "default" row.
"""
from gan_jax.config import base_config, optimizer


def get_config():
    c = base_config()
    c.data.name = "ring"
    c.model.latent_dim = 256
    c.model.g_hidden = (128, 128)
    c.model.d_hidden = (128, 128)
    c.model.g_activation = "tanh"
    c.model.d_activation = "tanh"
    c.model.g_output = "linear"
    c.optim.g = optimizer("adam", lr=1e-3, b1=0.5)
    c.optim.d = optimizer("adam", lr=1e-4, b1=0.5)
    c.train.steps = 25_000
    c.train.batch_size = 512
    c.train.steps_per_call = 100
    c.train.log_every = 100
    c.train.sample_every = 2500
    c.train.ckpt_every = 2500
    c.eval.num_samples = 2500
    return c
