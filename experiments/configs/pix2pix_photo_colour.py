"""Pix2Pix on photo_colour: grey -> colour on the crops of pix2pix_photo_edges (offline),
scored by L1, PSNR and SSIM on the 40 crops of the two held-out photographs.

    python -m gan_jax.train --config experiments/configs/pix2pix_photo_colour.py --workdir runs/colour
"""
from experiments.configs import pix2pix_photo_edges


def get_config():
    c = pix2pix_photo_edges.get_config()
    c.data.name = "photo_colour"
    return c
