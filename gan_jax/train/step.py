"""The training step: Algorithm 1 of Goodfellow et al. (2014), pure and data-parallel.

`make_train_step` returns one per-device function `(state, batch) -> (state, metrics)`:
  for i in 1..k:  sample a minibatch of m examples and m noise samples; update D by
                  ascending grad V (descending d_loss);
  then:           sample m noise samples; update G by descending g_loss.
Gradients, BatchNorm statistics and metrics are averaged over the device axis with
`lax.pmean(..., axis_name)`; the same function is mapped with `jax.pmap` or
`jax.jit(jax.shard_map(...))` by `gan_jax.train.parallel`. `scan_steps` fuses several steps in
one compiled call (`lax.scan`), for small models whose steps are dominated by dispatch.

The batch holds one minibatch per D update: every array has a leading axis of size k.
"""
import jax
import optax
from jax import lax

from gan_jax.train.state import TrainState


def _with_params(variables, params):
    return {**variables, "params": params}


def _update(variables, opt_state, tx, objective, axis_name):
    """One optimizer step of one player; returns new variables, optax state, metrics."""
    (_, aux), grads = jax.value_and_grad(objective, has_aux=True)(variables["params"])
    grads = lax.pmean(grads, axis_name)
    updates, opt_state = tx.update(grads, opt_state, variables["params"])
    params = optax.apply_updates(variables["params"], updates)
    return aux, params, opt_state


def make_train_step(spec, tx_g, tx_d, *, d_steps: int = 1, axis_name: str = "batch",
                    transform_batch=None, ema_decay: float = 0.0):
    """Build the per-device step. `transform_batch` runs on device first (e.g. uint8 -> [-1, 1],
    or sampling a toy distribution from each example's index)."""

    def train_step(state: TrainState, batch):
        if transform_batch is not None:
            batch = transform_batch(batch)
        key = jax.random.fold_in(state.key, state.step)
        g, d, d_opt = state.g, state.d, state.d_opt

        for i in range(d_steps):
            minibatch = jax.tree.map(lambda x, i=i: x[i], batch)
            key_i = jax.random.fold_in(key, i)

            def d_objective(params, g=g, d=d, minibatch=minibatch, key_i=key_i):
                return spec.d_loss({"g": g, "d": _with_params(d, params)}, minibatch, key_i)

            aux, d_params, d_opt = _update(d, d_opt, tx_d, d_objective, axis_name)
            d = {**d, **lax.pmean(aux["updates"].get("d", {}), axis_name), "params": d_params}
            d_metrics = aux["metrics"]

        minibatch = jax.tree.map(lambda x: x[d_steps - 1], batch)
        key_g = jax.random.fold_in(key, d_steps)

        def g_objective(params):
            return spec.g_loss({"g": _with_params(g, params), "d": d}, minibatch, key_g)

        aux, g_params, g_opt = _update(g, state.g_opt, tx_g, g_objective, axis_name)
        g = {**g, **lax.pmean(aux["updates"].get("g", {}), axis_name), "params": g_params}

        ema_g = state.ema_g
        if ema_g is not None:
            ema_g = jax.tree.map(lambda e, p: ema_decay * e + (1.0 - ema_decay) * p, ema_g, g)
        metrics = lax.pmean({**d_metrics, **aux["metrics"]}, axis_name)
        new_state = state.replace(step=state.step + 1, g=g, d=d, g_opt=g_opt, d_opt=d_opt,
                                  ema_g=ema_g)
        return new_state, metrics

    return train_step


def scan_steps(train_step):
    """Run `len(batches)` steps in one call: batches have a leading steps axis; metrics too.

    One step per call is called directly, not through a length-1 `lax.scan`: XLA:CPU ran the
    DCGAN step inside a loop ~10x slower (DESIGN.md), so conv nets use steps_per_call=1.
    """

    def many_steps(state, batches):
        if jax.tree.leaves(batches)[0].shape[0] == 1:
            state, metrics = train_step(state, jax.tree.map(lambda x: x[0], batches))
            return state, jax.tree.map(lambda m: m[None], metrics)
        return lax.scan(train_step, state, batches)

    return many_steps
