"""A test-only family that exercises what no shipped family uses yet: per-device state that
is not averaged (TrainState.extra, like CycleGAN's image pool) and a family update order other
than Algorithm 1 (G first, then D, like CycleGAN). It is the vanilla GAN plus counters:

extra = {'d_updates', 'g_updates': how many updates of each player this device made,
         'd_saw_g': the sum over D updates of g_updates at that moment (G first: 1 + 2 + ... ),
         'index_sum': the sum of the example indices this device's D saw (differs per device)}
"""
import dataclasses

import jax
import jax.numpy as jnp

from gan_jax.gans import vanilla


def config_section():
    return None


def make_spec(config, data):
    base = vanilla.make_spec(config, data)

    def init_extra(key, batch):
        del key, batch
        return {"d_updates": jnp.zeros((), jnp.int32), "g_updates": jnp.zeros((), jnp.int32),
                "d_saw_g": jnp.zeros((), jnp.int32), "index_sum": jnp.zeros((), jnp.int32)}

    def d_loss(variables, batch, key):
        loss, aux = base.d_loss(variables, batch, key)
        e = variables["extra"]
        state = {**e, "d_updates": e["d_updates"] + 1, "d_saw_g": e["d_saw_g"] + e["g_updates"],
                 "index_sum": e["index_sum"] + jnp.sum(batch["index"])}
        return loss, {**aux, "state": state}

    def g_loss(variables, batch, key):
        loss, aux = base.g_loss(variables, batch, key)
        e = variables["extra"]
        return loss, {**aux, "state": {**e, "g_updates": e["g_updates"] + 1}}

    def update(play, game, batch, key):
        minibatch = jax.tree.map(lambda x: x[0], batch)
        game, g_metrics = play("g", game, minibatch, jax.random.fold_in(key, 0))
        game, d_metrics = play("d", game, minibatch, jax.random.fold_in(key, 1))
        return game, {**g_metrics, **d_metrics}

    return dataclasses.replace(base, d_loss=d_loss, g_loss=g_loss, update=update,
                               init_extra=init_extra)
