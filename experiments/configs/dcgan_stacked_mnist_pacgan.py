"""Stacked MNIST (1,000 modes) with the D of the Unrolled-GAN / VEEGAN / PacGAN experiment: the
DCGAN discriminator at a quarter of DCGAN's width, for the mode-collapse table
(experiments/mode_collapse.py).

    python -m gan_jax.train --config experiments/configs/dcgan_stacked_mnist_pacgan.py \\
        --workdir runs/stacked_pacgan

Metz et al. (2017) shrank D to 1/4 (and 1/2) of the DCGAN width to make the 1,000 modes hard to
keep; PacGAN (Lin et al. 2018, Table 3: DCGAN 99 modes / KL 3.40, PacDCGAN2 1,000 / 0.06) and
VEEGAN (150 / 2.95) report that setting. Here D has width 16 (DCGAN's 64 / 4) and G our CPU
width 32 (DCGAN's 64 / 2, as in dcgan_stacked_mnist.py); everything else is
dcgan_stacked_mnist.py's (Adam 2e-4, beta1 0.5, batch 128, 26,000 samples for the counts).
"""
from experiments.configs import dcgan_stacked_mnist


def get_config():
    c = dcgan_stacked_mnist.get_config()
    c.model.d_width = 16
    return c
