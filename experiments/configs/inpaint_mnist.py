"""Inpainting MNIST digits with a context encoder (Pathak et al. 2016): the centre 12x12 of each
28x28 digit is hidden and G fills it; L2 reconstruction + adversarial loss with the paper's
weights (0.999 / 0.001), D judging the 12x12 fill. Offline (mnist_offline: 4,500 train / 500
test digits).

    python -m gan_jax.train --config experiments/configs/inpaint_mnist.py --workdir runs/inpaint_mnist
    python -m gan_jax.inpaint --workdir runs/inpaint_mnist --image digit.png --mask mask.png --out filled.png

Scored on the 500 held-out digits (`eval.json`): the shipped LeNet's accuracy on the filled,
masked and original digits, and L1 / PSNR / SSIM in the hole. The L2-only baseline is
`--config.inpaint.lambda_adv=0`.

Sized for 2 CPU cores (2,000 steps at ~6 steps/s: ~7 min here): widths 32 (G C32-C64-C128 down to 4x4, D C32-C64 on the 12x12 hole),
batch 64, BatchNorm. Adam with beta1 0.5 and G's learning rate 10x D's (the paper: "a higher
learning rate for the context encoder (10 times) than for the adversarial discriminator"): 1e-3
and 1e-4.
"""
from gan_jax.config import base_config


def get_config():
    c = base_config()
    c.gan.family = "inpaint"
    c.data.name = "mnist_offline"
    c.model.arch = "context_encoder"
    c.model.g_width = c.model.d_width = 32
    c.model.norm = "batch"
    c.inpaint.mask, c.inpaint.mask_size, c.inpaint.d_region = "centre", 12, "hole"
    c.inpaint.lambda_rec, c.inpaint.lambda_adv = 0.999, 0.001
    c.optim.g.lr, c.optim.d.lr = 1e-3, 1e-4
    t = c.train
    t.steps, t.batch_size = 2000, 64
    t.log_every, t.sample_every, t.ckpt_every = 100, 500, 500
    c.eval.num_samples = 500          # every held-out digit once
    return c
