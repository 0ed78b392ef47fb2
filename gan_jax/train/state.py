"""TrainState: everything a GAN run needs to continue bit-exactly, as one pytree.

step, the variables and optax states of G and D, an optional EMA of G's variables, and the run's
PRNG key (a typed key; per-step keys are `fold_in(key, step)`, never split in Python). The data
stream's position is saved beside it in the checkpoint (`gan_jax.train.checkpoint`).
"""
from typing import Any, Optional

import flax.struct
import jax
import jax.numpy as jnp
import optax


class TrainState(flax.struct.PyTreeNode):
    step: jax.Array          # int32 scalar: generator updates done
    g: Any                   # G's flax variables (params, batch_stats, ...)
    d: Any                   # D's flax variables
    g_opt: optax.OptState
    d_opt: optax.OptState
    key: jax.Array           # typed PRNG key of the run
    ema_g: Optional[Any] = None  # exponential moving average of G's variables, or None


def create_train_state(spec, tx_g: optax.GradientTransformation,
                       tx_d: optax.GradientTransformation, key, example_batch,
                       use_ema: bool = False) -> TrainState:
    """Initialise G and D from `key` and an example batch; the run key is derived from it too."""
    init_key, run_key = jax.random.split(key)
    # Compiled: run op by op, a DCGAN's init took 20 s here, 6 s jitted.
    variables = jax.jit(spec.init)(init_key, example_batch)
    g, d = variables["g"], variables["d"]
    return TrainState(step=jnp.zeros((), jnp.int32), g=g, d=d,
                      g_opt=tx_g.init(g["params"]), d_opt=tx_d.init(d["params"]),
                      key=run_key, ema_g=jax.tree.map(jnp.copy, g) if use_ema else None)
