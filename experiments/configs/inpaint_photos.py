"""Inpainting photographs with a context encoder (Pathak et al. 2016): the centre 64x64 of
128x128 crops of scikit-image's photographs is hidden and G fills it (the paper's setting on
offline data: photo_crops, 300 train crops from 6 photos, 40 test crops from 2 held-out photos,
the 256 crops resized to 128). L2 + adversarial with the paper's weights (0.999 / 0.001), D
judging the 64x64 fill.

    python -m gan_jax.train --config experiments/configs/inpaint_photos.py --workdir runs/inpaint_photos
    python -m gan_jax.train --config experiments/configs/inpaint_photos_l2.py --workdir runs/inpaint_photos_l2

Scored on the 40 held-out crops: PSNR, SSIM and L1 in the hole. `inpaint_photos_l2` is the L2-only
baseline (inpaint.lambda_adv=0, everything else equal), the paper's comparison.

Sized for 2 CPU cores (0.4-1 step/s here on shared cores: 400 steps took ~15 min): widths 32
(the paper: 64; G C32-C64-C128-C256-C256 down to 4x4), batch 16, random horizontal flips; Adam
beta1 0.5, G 1e-3 and D 1e-4 (G's rate 10x D's, the paper's ratio).
"""
from gan_jax.config import base_config


def get_config():
    c = base_config()
    c.gan.family = "inpaint"
    c.data.name, c.data.image_size, c.data.augment = "photo_crops", 128, "flip"
    c.model.arch = "context_encoder"
    c.model.g_width = c.model.d_width = 32
    c.model.norm = "batch"
    c.inpaint.mask, c.inpaint.mask_size, c.inpaint.d_region = "centre", 64, "hole"
    c.inpaint.lambda_rec, c.inpaint.lambda_adv = 0.999, 0.001
    c.optim.g.lr, c.optim.d.lr = 1e-3, 1e-4
    t = c.train
    t.steps, t.batch_size = 400, 16
    t.log_every, t.sample_every, t.ckpt_every = 50, 200, 200
    c.eval.num_samples = 40           # every held-out crop once
    return c
