"""The adversarial part of every family's losses, from config.loss: the loss pair of the zoo
(`gan_jax.losses.LOSSES`), the gradient penalties (`gan_jax.penalties`) added to D's loss with
their weights, and weight clipping of D (the original WGAN).

A family calls `d_objective` / `g_objective` with `d_apply(d_variables, x) -> (outputs,
updates)`: D in training mode on a batch x (a conditional family closes over the labels), so the
same code serves every family. Each penalty that is switched on is computed and *added* to the
loss that is differentiated, and logged (`gradient_penalty`, `r1_penalty`, `r2_penalty`,
`drift_penalty`: PGGAN's epsilon-drift E[D(x)^2] on real data, weight `loss.drift`, which keeps
a Wasserstein critic's outputs from drifting far from 0);
`tests/test_penalties.py` checks that D's gradient changes by exactly the penalty's gradient
when its weight changes.
"""
from typing import NamedTuple

import jax
import jax.numpy as jnp

from gan_jax import losses, penalties
from gan_jax.errors import GanJaxError


class Adversarial(NamedTuple):
    pair: losses.LossPair
    gp_weight: float = 0.0
    r1_gamma: float = 0.0
    r2_gamma: float = 0.0
    weight_clip: float = 0.0
    drift: float = 0.0


def from_config(loss_config, d_batch_norm: bool = False) -> Adversarial:
    """The adversarial setting of config.loss; refuses a gradient penalty on a D with BatchNorm
    (its per-example input gradients would mix the batch)."""
    c = loss_config
    pair = losses.get_loss(c.name)
    for key in ("gp_weight", "r1_gamma", "r2_gamma", "weight_clip", "drift"):
        if getattr(c, key) < 0:
            raise GanJaxError(f"loss.{key}={getattr(c, key)} must be >= 0 (0 turns it off)")
    penalised = [k for k in ("gp_weight", "r1_gamma", "r2_gamma") if getattr(c, k) > 0]
    if penalised and d_batch_norm:
        raise GanJaxError(
            f"loss.{penalised[0]} penalises D's gradient per example, but D uses BatchNorm, "
            "which mixes the examples of a batch (Gulrajani et al. 2017, sec. 4): use a critic "
            "without it (model.d_norm='layer' or 'none' for dcgan, model.d_batch_norm=False "
            "for mlp)")
    return Adversarial(pair, float(c.gp_weight), float(c.r1_gamma), float(c.r2_gamma),
                       float(c.weight_clip), float(c.drift))


def _mean_output(adv: Adversarial, outputs):
    """D's mean output: the mean probability sigmoid(logit) for the sigmoid losses, the mean
    raw output (critic value) for the others."""
    return jnp.mean(jax.nn.sigmoid(outputs)) if adv.pair.probabilities else jnp.mean(outputs)


def d_objective(adv: Adversarial, d_apply, d_variables, real, fake, key, index):
    """(loss, metrics, updates) of D on a real and a fake batch, penalties included. D runs on
    real first, then on fake with the real pass's new statistics (BatchNorm); `updates` are the
    statistics after both passes."""
    real_out, upd = d_apply(d_variables, real)
    fake_out, upd = d_apply({**d_variables, **upd}, fake)
    loss = adv.pair.d(real_out, fake_out)
    metrics = {"mean_d_x": _mean_output(adv, real_out), "mean_d_g_z": _mean_output(adv, fake_out)}

    def d_fn(x):
        return d_apply(d_variables, x)[0]

    if adv.gp_weight > 0:
        gp = penalties.wasserstein_gradient_penalty(d_fn, real, fake, jax.random.fold_in(key, 1),
                                                    index)
        loss = loss + adv.gp_weight * gp
        metrics["gradient_penalty"] = gp
    if adv.r1_gamma > 0:
        r1 = penalties.r1_penalty(d_fn, real)
        loss = loss + 0.5 * adv.r1_gamma * r1
        metrics["r1_penalty"] = r1
    if adv.r2_gamma > 0:
        r2 = penalties.r2_penalty(d_fn, fake)
        loss = loss + 0.5 * adv.r2_gamma * r2
        metrics["r2_penalty"] = r2
    if adv.drift > 0:
        drift = jnp.mean(jnp.square(real_out))
        loss = loss + adv.drift * drift
        metrics["drift_penalty"] = drift
    return loss, {"d_loss": loss, **metrics}, upd


def g_objective(adv: Adversarial, fake_out):
    """G's adversarial loss on D's outputs for its samples."""
    return adv.pair.g(fake_out)


def clip_weights(adv: Adversarial):
    """The D constraint of the original WGAN: every parameter clipped to [-c, c] after each
    update (None when loss.weight_clip is 0)."""
    if adv.weight_clip <= 0:
        return None
    c = adv.weight_clip
    return lambda params: jax.tree.map(lambda p: jnp.clip(p, -c, c), params)
