"""Per-example augmentations, by name (config key data.augment), run on device inside the step.

Each takes one example's images (`{field: [H, W, C] float32 in [-1, 1]}`) and a key that the
stream derives as fold_in(key, example index), and returns the same fields: the randomness of
example e depends on the run's seed and on e only, so resume and n-device runs are unchanged.
The fields of one example share the key (paired data: the same flip for input and target).
"""
import jax
import jax.numpy as jnp

from gan_jax.errors import GanJaxError


def flip(example, key):
    """Mirror left-right with probability 1/2 (the same draw for every field)."""
    do = jax.random.bernoulli(key)
    return {k: jnp.where(do, v[:, ::-1], v) for k, v in example.items()}


AUGMENTATIONS = {"none": None, "flip": flip}


def get_augment(name: str):
    if name not in AUGMENTATIONS:
        raise GanJaxError(f"unknown data.augment {name!r}; valid: {sorted(AUGMENTATIONS)}")
    return AUGMENTATIONS[name]
