"""The image pool of CycleGAN (Zhu et al. 2017, sec. 4; Shrivastava et al. 2017): D is updated
on a history of generated images rather than only on the latest ones, to reduce oscillation.

A pool holds up to `size` past fakes. For each new fake, in batch order (the official code's
`ImagePool.query`):
  - while the pool is not full, the fake is stored and returned itself;
  - once full, with probability 1/2 a random stored fake is returned and the new one takes its
    slot; otherwise the new fake is returned and the pool is unchanged.
`size` 0 returns the fakes unchanged (no pool).

A pool is a pytree `{'images': [size, H, W, C] float32, 'count': int32}` (count: images stored,
<= size), held per device in `TrainState.extra` (not averaged: each device keeps the history of
its own fakes) and checkpointed with the run, so a resumed run draws exactly what the
uninterrupted one would. The draws of example i come from `fold_in(key, index_i)`.
"""
import jax
import jax.numpy as jnp


def empty_pool(size: int, image_shape) -> dict:
    return {"images": jnp.zeros((size,) + tuple(image_shape), jnp.float32),
            "count": jnp.zeros((), jnp.int32)}


def query(pool: dict, fakes, key, index):
    """(images for D [B, H, W, C], the new pool): `fakes` [B, H, W, C] passed through the pool
    one by one, example i with the draws of fold_in(key, index[i])."""
    size = pool["images"].shape[0]
    if size == 0:
        return fakes, pool

    def one(pool, example):
        fake, i = example
        k_swap, k_slot = jax.random.split(jax.random.fold_in(key, i.astype(jnp.uint32)))
        count, images = pool["count"], pool["images"]
        full = count >= size
        swap = full & jax.random.bernoulli(k_swap)
        slot = jnp.where(full, jax.random.randint(k_slot, (), 0, size), count)
        stored = images[slot]
        store = ~full | swap
        images = jnp.where(store, images.at[slot].set(fake.astype(images.dtype)), images)
        out = jnp.where(swap, stored, fake)
        return {"images": images, "count": jnp.minimum(count + 1, size)}, out

    pool, out = jax.lax.scan(one, pool, (fakes, index))
    return out, pool
