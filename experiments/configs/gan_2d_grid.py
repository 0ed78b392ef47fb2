"""The original GAN on 25 Gaussians on a 5x5 grid (spacing 2, std 0.05): the mode-collapse benchmark.

    python -m gan_jax.train --config experiments/configs/gan_2d_grid.py --workdir runs/grid
    # the minimax (saturating) generator loss instead of the non-saturating one:
    python -m gan_jax.train --config experiments/configs/gan_2d_grid.py --workdir runs/grid_sat \
        --config.loss.name=minimax

eval.json: modes covered (of 25), high-quality fraction (within 3 std of a centre), KL to uniform.
Measured here (2 quiet CPU cores, 20,000 steps): 36 s wall; 12 of 25 modes, high-quality
fraction 0.043 (the vanilla GAN smears its samples along the diagonals).
"""
from experiments.configs import gan_2d_ring


def get_config():
    """The ring's networks, optimizers and schedule, on the grid."""
    c = gan_2d_ring.get_config()
    c.data.name = "grid"
    return c
