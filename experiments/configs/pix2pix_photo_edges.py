"""Pix2Pix on photo_edges: Canny edges -> photo on 256x256 crops of scikit-image's photographs
(300 train crops from 6 photos, 40 test crops from 2 held-out photos; offline), scored by L1,
PSNR and SSIM on the held-out crops.

    python -m gan_jax.train --config experiments/configs/pix2pix_photo_edges.py --workdir runs/edges

pix2pix_digit_scenes' model and schedule (widths 32, InstanceNorm, L1 + cGAN, 70x70 PatchGAN)
on 128x128 crops (data.image_size=128: the 256 crops resized; a 256 U-Net runs ~4x slower here)
with random jitter. `pix2pix_photo_colour` is the grey -> colour task on the same crops.
"""
from experiments.configs import pix2pix_digit_scenes


def get_config():
    c = pix2pix_digit_scenes.get_config()
    c.data.name, c.data.image_size, c.data.augment = "photo_edges", 128, "jitter"
    c.eval.num_samples = 40
    return c
