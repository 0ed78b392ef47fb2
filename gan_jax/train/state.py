"""TrainState: everything a GAN run needs to continue bit-exactly, as one pytree.

step, the variables and optax states of G and D, an optional EMA of G's variables, the run's
PRNG key (a typed key; per-step keys are `fold_in(key, step)`, never split in Python), and the
family's per-device state `extra` (e.g. CycleGAN's image pool; None for most families), held
with a leading device axis because each device keeps its own. The data stream's position is
saved beside it in the checkpoint (`gan_jax.train.checkpoint`).

`initial_state(config, spec, data)` is the one way a run's state is created: by the trainer, and
(traced only, `jax.eval_shape`) by restore as the template a checkpoint is read into, from the
data's description alone (`gan_jax.registry.example_batch`), without loading the data set.
"""
from typing import Any, Optional

import flax.struct
import jax
import jax.numpy as jnp
import optax

from gan_jax import registry
from gan_jax.train.optimizers import make_optimizers

EXTRA_KEY = 0xE8


class TrainState(flax.struct.PyTreeNode):
    step: jax.Array          # int32 scalar: generator updates done
    g: Any                   # G's flax variables (params, batch_stats, ...)
    d: Any                   # D's flax variables
    g_opt: optax.OptState
    d_opt: optax.OptState
    key: jax.Array           # typed PRNG key of the run
    ema_g: Optional[Any] = None  # exponential moving average of G's variables, or None
    extra: Optional[Any] = None  # the family's per-device state [num_devices, ...], or None


def create_train_state(spec, tx_g: optax.GradientTransformation,
                       tx_d: optax.GradientTransformation, key, example_batch,
                       use_ema: bool = False, num_devices: int = 1) -> TrainState:
    """Initialise G and D from `key` and an example batch; the run key is derived from it too."""
    init_key, run_key = jax.random.split(key)
    # Compiled: run op by op, a DCGAN's init took 20 s here, 6 s jitted.
    variables = jax.jit(spec.init)(init_key, example_batch)
    g, d = variables["g"], variables["d"]
    extra = None
    if spec.init_extra is not None:
        one = jax.jit(spec.init_extra)(jax.random.fold_in(init_key, EXTRA_KEY), example_batch)
        extra = jax.tree.map(lambda x: jnp.broadcast_to(x, (num_devices,) + x.shape), one)
    return TrainState(step=jnp.zeros((), jnp.int32), g=g, d=d,
                      g_opt=tx_g.init(g["params"]), d_opt=tx_d.init(d["params"]),
                      key=run_key, ema_g=jax.tree.map(jnp.copy, g) if use_ema else None,
                      extra=extra)


def initial_state(config, spec, data, num_devices: int = 1) -> TrainState:
    """The run's state at step 0: G and D initialised from the seed, fresh optimizer states."""
    tx_g, tx_d = make_optimizers(config)
    example = registry.example_batch(getattr(data, "info", data))
    return create_train_state(spec, tx_g, tx_d, jax.random.key(config.seed), example,
                              use_ema=config.train.ema_decay > 0, num_devices=num_devices)
