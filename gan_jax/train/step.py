"""The training step: Algorithm 1 of Goodfellow et al. (2014), pure and data-parallel.

`make_train_step` returns one per-device function `(state, batch) -> (state, metrics)`:
  for i in 1..k:  sample a minibatch of m examples and m noise samples; update D by
                  ascending grad V (descending d_loss);
  then:           sample m noise samples; update G by descending g_loss.
A family with another order (CycleGAN: G first) gives `GANSpec.update`, which calls the same
one-player step `play` (see `gan_jax.gans.spec`). Gradients, non-param collections (BatchNorm
statistics) and metrics are averaged over the device axis with `lax.pmean(..., axis_name)`; the
family's per-device state (`TrainState.extra`) is not. The same function is mapped with
`jax.pmap` or `jax.jit(jax.shard_map(...))` by `gan_jax.train.parallel`. `scan_steps` fuses
several steps in one compiled call (`lax.scan`), for small models dominated by dispatch.

The batch holds one minibatch per D update: every array has a leading axis of size k; the step
adds `step` (the state's step, one per minibatch). Keys: the step's key is
fold_in(state.key, step); the data's augmentation key is fold_in(state.key, DATA_KEY), folded
by the stream with each example's index.
"""
import functools
import math

import jax
import jax.numpy as jnp
import optax
from jax import lax

from gan_jax.train.state import TrainState

DATA_KEY = 0xDA7A


def _with_params(variables, params):
    return {**variables, "params": params}


def _is_float(x) -> bool:
    return jnp.issubdtype(jnp.asarray(x).dtype, jnp.floating)


def mean_over_devices(tree, axis_name: str):
    """`lax.pmean` of the float leaves of `tree`; integer leaves (counters a family keeps
    equal on every device, e.g. PGGAN's growth step) are kept as they are: a mean would turn
    them into floats."""
    return jax.tree.map(lambda x: lax.pmean(x, axis_name) if _is_float(x) else x, tree)


def ema_decay_at(step, decay: float, rampup: float = 0.0):
    """The EMA decay used at G update number `step` + 1 (`step` updates done before it).

    Without a ramp-up (`rampup` 0) it is `decay`. With one (StyleGAN2's `ema_rampup`), the
    average's half-life, log(1/2) / log(decay) steps, is capped at `rampup` x the updates done:
    decay_n = 0.5 ** (1 / min(half_life, rampup * n)), n = step + 1. So early in a run the EMA
    follows G closely instead of holding on to the initial weights (with decay 0.999 and no
    ramp-up, 0.999^2000 = 13.5 % of the average after 2,000 steps is still the initial G), and
    after half_life / rampup steps it is the plain EMA."""
    if rampup <= 0 or decay <= 0:
        return decay      # the Python float, as before the ramp-up existed: bit-identical runs
    half_life = math.log(0.5) / math.log(decay)
    ramped = jnp.minimum(half_life, rampup * (jnp.asarray(step, jnp.float32) + 1.0))
    return jnp.power(0.5, 1.0 / ramped)


def ema_update(ema, new, decay: float):
    """decay * ema + (1 - decay) * new for every float leaf; integer leaves are copied from
    `new` (an average of counters is meaningless)."""
    return jax.tree.map(lambda e, p: decay * e + (1.0 - decay) * p if _is_float(p) else p,
                        ema, new)


def make_play(spec, txs, axis_name: str = "batch"):
    """`play(player, game, minibatch, key, grads=None) -> (game, metrics)`: one optimizer step
    of player 'g' or 'd' on its loss, with `game = {'g', 'd', 'g_opt', 'd_opt', 'extra'}`.
    `grads=(gradient, aux)` gives the gradient of the player's params and the loss's aux that a
    family computed itself (e.g. Pix2Pix, through the vjp of the one G forward a step makes);
    the step is then the same: device average, optax update, constraint, updates, state."""
    objectives = {"g": spec.g_loss, "d": spec.d_loss}

    def play(player, game, minibatch, key, grads=None):
        variables = {"g": game["g"], "d": game["d"], "extra": game["extra"]}
        net = variables[player]

        def objective(params):
            return objectives[player]({**variables, player: _with_params(net, params)},
                                      minibatch, key)

        if grads is None:
            (_, aux), grads = jax.value_and_grad(objective, has_aux=True)(net["params"])
        else:
            grads, aux = grads
        grads = lax.pmean(grads, axis_name)
        opt = f"{player}_opt"
        updates, opt_state = txs[player].update(grads, game[opt], net["params"])
        params = optax.apply_updates(net["params"], updates)
        if player == "d" and spec.d_constraint is not None:
            params = spec.d_constraint(params)
        net = {**net, **mean_over_devices(aux.get("updates", {}).get(player, {}), axis_name),
               "params": params}
        game = {**game, player: net, opt: opt_state}
        if "state" in aux:
            game["extra"] = aux["state"]
        return game, aux["metrics"]

    return play


def d_updates(play, game, batch, key, d_steps: int = 1):
    """Algorithm 1's inner loop: d_steps D updates (minibatch i, key fold_in(key, i)). Returns
    (game, D's last metrics, G's minibatch: the last one, G's key: fold_in(key, d_steps))."""
    d_metrics = {}
    for i in range(d_steps):
        minibatch = jax.tree.map(lambda x, i=i: x[i], batch)
        game, d_metrics = play("d", game, minibatch, jax.random.fold_in(key, i))
    minibatch = jax.tree.map(lambda x: x[d_steps - 1], batch)
    return game, d_metrics, minibatch, jax.random.fold_in(key, d_steps)


def alternating_update(play, game, batch, key, d_steps: int = 1):
    """Algorithm 1: d_steps D updates (`d_updates`), then one G update (the last minibatch,
    key fold_in(key, d_steps))."""
    game, d_metrics, minibatch, g_key = d_updates(play, game, batch, key, d_steps)
    game, g_metrics = play("g", game, minibatch, g_key)
    return game, {**d_metrics, **g_metrics}


def make_train_step(spec, tx_g, tx_d, *, d_steps: int = 1, axis_name: str = "batch",
                    transform_batch=None, ema_decay: float = 0.0, ema_rampup: float = 0.0):
    """Build the per-device step. `transform_batch(batch, key)` runs on device first (e.g.
    uint8 -> [-1, 1] and augmentation, or sampling a toy distribution from each example's
    index)."""
    play = make_play(spec, {"g": tx_g, "d": tx_d}, axis_name)
    update = spec.update or functools.partial(alternating_update, d_steps=d_steps)

    def train_step(state: TrainState, batch):
        if transform_batch is not None:
            batch = transform_batch(batch, jax.random.fold_in(state.key, DATA_KEY))
        k = jax.tree.leaves(batch)[0].shape[0]
        batch = {**batch, "step": jnp.full((k,), state.step, jnp.int32)}
        key = jax.random.fold_in(state.key, state.step)
        game = {"g": state.g, "d": state.d, "g_opt": state.g_opt, "d_opt": state.d_opt,
                "extra": state.extra}
        game, metrics = update(play, game, batch, key)
        g = game["g"]
        ema_g = state.ema_g
        if ema_g is not None:
            ema_g = ema_update(ema_g, g, ema_decay_at(state.step, ema_decay, ema_rampup))
        metrics = lax.pmean(metrics, axis_name)
        new_state = state.replace(step=state.step + 1, g=g, d=game["d"], g_opt=game["g_opt"],
                                  d_opt=game["d_opt"], ema_g=ema_g, extra=game["extra"])
        return new_state, metrics

    return train_step


def scan_steps(train_step):
    """Run `len(batches)` steps in one call: batches have a leading steps axis; metrics too.

    One step per call is called directly, not through a length-1 `lax.scan`: XLA:CPU ran the
    DCGAN step inside a loop ~10x slower (docs/design.md), so conv nets use steps_per_call=1.
    """

    def many_steps(state, batches):
        if jax.tree.leaves(batches)[0].shape[0] == 1:
            state, metrics = train_step(state, jax.tree.map(lambda x: x[0], batches))
            return state, jax.tree.map(lambda m: m[None], metrics)
        return lax.scan(train_step, state, batches)

    return many_steps
