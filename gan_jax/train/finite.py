"""The NaN guard: before a checkpoint is saved, every logged loss since the last one and every
trained array of the state must be finite, else NonFiniteLossError names the first bad step or
array and the last checkpoint (finite and untouched): no non-finite state is ever saved."""
import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.errors import NonFiniteLossError
from gan_jax.train import processes


def check_finite_losses(metrics: dict, first_step: int, last_checkpoint):
    """NonFiniteLossError (naming the first step with a NaN/inf and its numbers) unless every
    logged number of the calls since `first_step` is finite."""
    bad = ~np.all([np.isfinite(v) for v in metrics.values()], axis=0)
    if bad.any():
        i = int(np.argmax(bad))
        raise NonFiniteLossError(first_step + i, {k: float(v[i]) for k, v in metrics.items()},
                                 last_checkpoint)


TRAINED_FIELDS = ("g", "d", "g_opt", "d_opt", "ema_g", "extra")   # of TrainState


def _trained_trees(state):
    return tuple(getattr(state, f) for f in TRAINED_FIELDS)


@jax.jit
def _all_finite(state):
    """Whether every float array of the trained fields (params, statistics, optimizer states,
    the EMA of G, the family's state) is finite: a checkpoint must never hold NaN/inf."""
    leaves = [x for x in jax.tree.leaves(_trained_trees(state))
              if jnp.issubdtype(x.dtype, jnp.floating)]
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in leaves]))


def check_finite_state(state, step: int, last_checkpoint):
    """NonFiniteLossError (naming the first non-finite array) unless every trained array of
    `state` is finite."""
    if bool(processes.to_local(_all_finite(state))):
        return
    trees = jax.device_get(processes.to_local(_trained_trees(state)))
    flat = jax.tree_util.tree_flatten_with_path(trees)[0]
    for path, leaf in flat:
        leaf = np.asarray(leaf)
        if np.issubdtype(leaf.dtype, np.floating) and not np.all(np.isfinite(leaf)):
            name = TRAINED_FIELDS[path[0].idx] + jax.tree_util.keystr(path[1:])
            first_bad = leaf.flat[int(np.argmin(np.isfinite(leaf).reshape(-1)))]
            raise NonFiniteLossError(step, {name: float(first_bad)}, last_checkpoint,
                                     what="parameter")
