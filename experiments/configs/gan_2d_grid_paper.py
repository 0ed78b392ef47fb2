"""The 2-D grid (25 Gaussians at {-4, -2, 0, 2, 4}^2, std 0.05; VEEGAN's) with the papers'
networks and optimisers (gan_2d_ring_paper.py), for the mode-collapse table.

    python -m gan_jax.train --config experiments/configs/gan_2d_grid_paper.py --workdir runs/grid_p
"""
from experiments.configs import gan_2d_ring_paper


def get_config():
    c = gan_2d_ring_paper.get_config()
    c.data.name = "grid"
    return c
