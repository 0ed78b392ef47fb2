"""CycleGAN on digits_mnist: scikit-learn's 8x8 digits (upscaled to 28x28) <-> the offline MNIST
digits, unpaired (the USPS <-> MNIST kind of task of domain-adaptation papers), the paper's model
(ResNet generators, PatchGAN discriminators, LSGAN, cycle lambda 10, identity 0.5, image pool
50) sized for a CPU.

    python -m gan_jax.train --config experiments/configs/cyclegan_digits_mnist.py --workdir runs/cyc
    python -m gan_jax.evaluate --workdir runs/cyc --baseline     # + the untranslated inputs' scores
    python -m gan_jax.translate --workdir runs/cyc --direction BtoA --input digits/ --out out/

Scores (eval.json): label preservation (the MNIST LeNet's accuracy on G(a) against a's labels,
the digits classifier's on F(b) against b's), cycle L1 both ways, LeNet FID of G(a) against the
held-out MNIST digits. Labels are never seen in training.

Departures from the paper, for 2 CPU cores and 28x28 digits: widths 16 (G c7s1-16, d32, d64,
6 x R64, u32, u16; D C16-C32-C64) instead of 64; the 34x34 PatchGAN (on 28x28 images the
70x70 one sees the whole image through padding); batch 4 instead of 1. Adam 2e-4, beta1 0.5,
constant for the first half then linear decay to 0 (the paper's schedule).
"""
from gan_jax.config import base_config


def get_config():
    c = base_config()
    c.gan.family = "cyclegan"
    c.data.name = "digits_mnist"
    c.model.arch = "resnet"
    c.model.res_blocks = 6
    c.model.g_width = c.model.d_width = 16
    c.model.patch = 34
    c.model.norm = "instance"
    c.loss.name = "least_squares"
    c.cyclegan.loss = "full"
    c.cyclegan.lambda_cycle, c.cyclegan.lambda_identity, c.cyclegan.pool_size = 10.0, 0.5, 50
    for player in (c.optim.g, c.optim.d):
        player.lr, player.b1, player.schedule, player.decay_start = 2e-4, 0.5, "linear_decay", 0.5
    t = c.train
    t.steps, t.batch_size = 4000, 4
    t.log_every, t.sample_every, t.ckpt_every = 100, 500, 500
    c.eval.num_samples = 1000
    return c
