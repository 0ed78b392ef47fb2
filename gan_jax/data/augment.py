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


JITTER_SCALE = 286 / 256


def jitter(example, key):
    """Pix2Pix's random jitter (Isola et al. 2017, sec. 6.2): resize to 286/256 of the side
    (bicubic), crop back to the side at a random position, mirror with probability 1/2; the same
    draw for every field (input and target stay aligned)."""
    k_crop, k_flip = jax.random.split(key)
    first = next(iter(example.values()))
    h, w = first.shape[:2]
    big_h, big_w = round(h * JITTER_SCALE), round(w * JITTER_SCALE)
    top = jax.random.randint(k_crop, (), 0, big_h - h + 1)
    left = jax.random.randint(jax.random.fold_in(k_crop, 1), (), 0, big_w - w + 1)
    out = {}
    for k, v in example.items():
        big = jax.image.resize(v, (big_h, big_w, v.shape[-1]), "cubic")
        out[k] = jnp.clip(jax.lax.dynamic_slice(big, (top, left, 0), v.shape), -1.0, 1.0)
    return flip(out, k_flip)


AUGMENTATIONS = {"none": None, "flip": flip, "jitter": jitter}


def get_augment(name: str):
    if name not in AUGMENTATIONS:
        raise GanJaxError(f"unknown data.augment {name!r}; valid: {sorted(AUGMENTATIONS)}")
    return AUGMENTATIONS[name]
