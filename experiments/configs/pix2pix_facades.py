"""Pix2Pix on CMP Facades (labels -> photo), the paper's setup, for users who have the data.

    # the official data: http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/facades.tar.gz
    # unpacked to ~/data/facades/{train,val,test}/*.jpg, each a 512x256 image: photo | labels
    python -m gan_jax.train --config experiments/configs/pix2pix_facades.py \
        --config.data.path ~/data/facades --workdir runs/facades

The folder layout is the official pix2pix one (`gan_jax.data.paired_folder`): A on the left,
B on the right, so labels -> photo is direction BtoA. The paper's setting (sec. 6.2 and the
official code): U-Net 256, 70x70 PatchGAN, L1 + cGAN with lambda 100, BatchNorm with batch 1,
random jitter (resize to 286, random 256 crop, mirror), Adam 2e-4 / beta1 0.5, 200 epochs of
the 400 training images (100 at the initial rate, 100 decaying linearly to 0), dropout also at
test time. Not run here (no download on this machine).
"""
from experiments.configs import pix2pix_digit_scenes


def get_config():
    c = pix2pix_digit_scenes.get_config()
    c.data.name, c.data.path, c.data.direction = "paired_folder", "", "BtoA"
    c.data.image_size, c.data.augment = 256, "jitter"
    c.model.g_width = c.model.d_width = 64
    c.model.norm, c.model.test_dropout = "batch", True
    c.train.batch_size, c.train.steps = 1, 400 * 200
    c.train.log_every, c.train.sample_every, c.train.ckpt_every = 400, 4000, 4000
    c.eval.num_samples = 106          # the test split
    return c
