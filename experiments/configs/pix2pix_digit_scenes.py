"""Pix2Pix on digit_scenes: layout map -> scene of real MNIST digits, 128x128 (the offline
analogue of the paper's Cityscapes labels -> photo), the paper's model (U-Net, 70x70 PatchGAN,
L1 + cGAN, lambda 100), sized for a CPU.

    python -m gan_jax.train --config experiments/configs/pix2pix_digit_scenes.py --workdir runs/p2p
    python -m gan_jax.evaluate --workdir runs/p2p --baseline       # + the real scenes' scores
    python -m gan_jax.translate --workdir runs/p2p --input layouts/ --out translated/

Departures from the paper, for 2 CPU cores: widths 32 (G's encoder C32-...-C256, D C32-C256)
instead of 64; batch 4 instead of 1; InstanceNorm, which is what the paper's BatchNorm at batch 1
computes (the official test also normalises each test image by its own statistics). Adam 2e-4,
beta1 0.5, constant for the first half then linear decay to 0 (the paper's schedule).
The ablation tables (README) vary pix2pix.loss, model.patch and model.arch from this config.
"""
from gan_jax.config import base_config


def get_config():
    c = base_config()
    c.gan.family = "pix2pix"
    c.data.name = "digit_scenes"
    c.model.arch = "unet"
    c.model.patch = 70
    c.model.norm = "instance"
    c.model.g_width = c.model.d_width = 32
    c.pix2pix.loss = "l1+cgan"
    c.pix2pix.lambda_l1 = 100.0
    for player in (c.optim.g, c.optim.d):
        player.lr, player.b1, player.schedule, player.decay_start = 2e-4, 0.5, "linear_decay", 0.5
    t = c.train
    t.steps, t.batch_size = 2000, 4
    t.log_every, t.sample_every, t.ckpt_every = 100, 500, 500
    c.eval.num_samples = 200          # every held-out scene once
    return c
