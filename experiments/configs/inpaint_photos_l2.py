"""The L2-only baseline of `inpaint_photos` (inpaint.lambda_adv=0: no discriminator), the paper's
comparison: the same G, data, steps and seed.

    python -m gan_jax.train --config experiments/configs/inpaint_photos_l2.py --workdir runs/inpaint_photos_l2
"""
from experiments.configs import inpaint_photos


def get_config():
    c = inpaint_photos.get_config()
    c.inpaint.lambda_adv = 0.0
    return c
