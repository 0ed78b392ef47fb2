"""PacGAN's packing (Lin et al. 2018): the discriminator judges m samples at once.

`pack(x, m)` joins each group of m consecutive examples into one input of D along the last
(channel / feature) axis: images [B, H, W, C] -> [B/m, H, W, m*C], vectors [B, F] -> [B/m, m*F].
Real samples are packed with real ones and fakes with fakes, so D sees whether a *set* of
samples is real; a G that drops modes makes sets with too little variety, which a packed D
detects (PacGAN's Theorem 3). Groups are consecutive examples of a device's batch, so n devices
with B/n each compute what 1 device computes with B.
"""
import jax

from gan_jax.errors import GanJaxError


def pack(x: jax.Array, m: int) -> jax.Array:
    """x [B, ..., C] -> [B/m, ..., m*C]: example j*m + i's channels are block i of packed
    example j. m = 1 returns x."""
    if m == 1:
        return x
    b = x.shape[0]
    if m < 1 or b % m:
        raise GanJaxError(f"vanilla.pack={m} packs {m} samples per D input, but the (per-device) "
                          f"batch has {b}; use a batch per device that is a multiple of {m}")
    y = x.reshape((b // m, m) + x.shape[1:])                   # [B/m, m, ..., C]
    y = jax.numpy.moveaxis(y, 1, -2)                           # [B/m, ..., m, C]
    return y.reshape(y.shape[:-2] + (m * x.shape[-1],))


def packed_index(index: jax.Array, m: int) -> jax.Array:
    """The example numbers of packed inputs (their first member's): the keys of per-example
    randomness after packing (e.g. the gradient penalty's interpolation)."""
    return index[::m]


def pack_alike(x: jax.Array, m: int) -> jax.Array:
    """Each example packed with m - 1 copies of itself: [B, ..., C] -> [B, ..., m*C], so a packed
    D can score single samples (D(x, x, ..., x)) for pictures such as the 1-D Figure-1 panels."""
    if m == 1:
        return x
    return jax.numpy.concatenate([x] * m, axis=-1)
