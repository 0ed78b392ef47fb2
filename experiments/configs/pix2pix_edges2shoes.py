"""Pix2Pix on edges2shoes (edges -> photo), the paper's setup, for users who have the data.

    # the official data: http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/edges2shoes.tar.gz
    # unpacked to ~/data/edges2shoes/{train,val}/*.jpg, each a 512x256 image: edges | photo
    python -m gan_jax.train --config experiments/configs/pix2pix_edges2shoes.py \
        --config.data.path ~/data/edges2shoes --workdir runs/edges2shoes

A|B folders (`gan_jax.data.paired_folder`), direction AtoB. The paper (sec. 6.2): 50k training
images, 15 epochs, batch 4, no random jitter; U-Net 256, 70x70 PatchGAN, L1 + cGAN (lambda 100).
The data has no test/ folder: evaluate on val/ by renaming it test/. Not run here (no download).
"""
from experiments.configs import pix2pix_facades


def get_config():
    c = pix2pix_facades.get_config()
    c.data.direction, c.data.augment = "AtoB", "none"
    c.train.batch_size, c.train.steps = 4, 49825 * 15 // 4
    c.train.log_every, c.train.sample_every, c.train.ckpt_every = 500, 5000, 5000
    c.eval.num_samples = 200
    return c
