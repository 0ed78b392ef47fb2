"""CycleGAN on grass_gravel: 128x128 crops of scikit-image's grass photograph <-> of its gravel
photograph, unpaired (a texture-to-texture translation; train and test crops from disjoint
regions of each photo), the paper's 128x128 model (ResNet-6 generators, 70x70 PatchGAN, LSGAN,
cycle lambda 10, identity 0.5, image pool 50, random jitter) sized for a CPU.

    python -m gan_jax.train --config experiments/configs/cyclegan_grass_gravel.py --workdir runs/cyc_tex
    python -m gan_jax.evaluate --workdir runs/cyc_tex --baseline
    python -m gan_jax.translate --workdir runs/cyc_tex --input crops/ --out gravel/

Scores (eval.json): the fraction of G(grass) that the shipped texture classifier judges as
gravel (`target_frac_ab`) and of F(gravel) judged as grass (`target_frac_ba`), and cycle L1 both
ways, on the 50 + 50 held-out crops.

Departures from the paper, for 2 CPU cores: widths 16 (G c7s1-16, d32, d64, 6 x R64, u32,
u16; D C16-C32-C64-C128) instead of 64. Batch 1 (the paper's), Adam 2e-4, beta1 0.5, constant
for the first half then linear decay to 0.
"""
from gan_jax.config import base_config


def get_config():
    c = base_config()
    c.gan.family = "cyclegan"
    c.data.name = "grass_gravel"
    c.data.augment = "jitter"          # resize 143, random 128 crop, mirror (the official code)
    c.model.arch = "resnet"
    c.model.res_blocks = 6
    c.model.g_width = c.model.d_width = 16
    c.model.patch = 70
    c.model.norm = "instance"
    c.loss.name = "least_squares"
    c.cyclegan.loss = "full"
    c.cyclegan.lambda_cycle, c.cyclegan.lambda_identity, c.cyclegan.pool_size = 10.0, 0.5, 50
    for player in (c.optim.g, c.optim.d):
        player.lr, player.b1, player.schedule, player.decay_start = 2e-4, 0.5, "linear_decay", 0.5
    t = c.train
    t.steps, t.batch_size = 2000, 1
    t.log_every, t.sample_every, t.ckpt_every = 100, 500, 500
    c.eval.num_samples = 50           # every held-out grass crop once
    return c
