"""DCGAN on MNIST (the offline 4,500 real digits), 28x28x1, sized for a CPU.

    python -m gan_jax.train --config experiments/configs/dcgan_mnist.py --workdir runs/dcgan_mnist

The paper's architecture and optimiser (Radford et al. 2015; gan_jax.nets.dcgan): G projects z
(100-d, N(0, I)) to 7x7x64, then transposed convolutions 64 -> 32 (14x14) -> 1 (28x28) with
BatchNorm + ReLU and a tanh output; D convolves 1 -> 32 (14x14) -> 64 (7x7) with LeakyReLU(0.2)
and BatchNorm after the first layer, then one 7x7 convolution to a logit. Adam lr 2e-4, beta1
0.5, batch 128, weights N(0, 0.02). Departure for the CPU: width 32 instead of the paper's 64
(--config.model.g_width=64 --config.model.d_width=64 for the full width, ~4x the compute).

Measured here (2 quiet CPU cores): 3 min 6 s wall, ~12 steps/s; on the shipped MNIST LeNet,
MNIST FID 151.4 (held-out real digits: 7.5), MNIST score 6.30 (real 9.15), precision 0.54, recall
0.69, all 10 classes; the grid shows clean, recognisable digits.
"""
from gan_jax.config import base_config, optimizer


def get_config():
    c = base_config()
    c.data.name = "mnist_offline"
    c.model.arch = "dcgan"
    c.model.latent_dim = 100
    c.model.g_width = 32
    c.model.d_width = 32
    c.optim.g = optimizer("adam", lr=2e-4, b1=0.5)
    c.optim.d = optimizer("adam", lr=2e-4, b1=0.5)
    c.train.steps = 2000
    c.train.batch_size = 128
    c.train.steps_per_call = 1
    c.train.log_every = 50
    c.train.sample_every = 250
    c.train.ckpt_every = 250
    c.eval.num_samples = 10_000
    return c
