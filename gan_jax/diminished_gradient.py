"""The diminished gradient of the minimax generator loss (Goodfellow et al. 2014, Section 3).

G's two losses, as functions of d = D(G(z)) in (0, 1) or of D's logit l on G(z) (d = sigmoid(l)):

    saturating (minimax, ``loss.name='minimax'``):
        L_s(d)  = log(1 - d),   dL_s/dd  = -1 / (1 - d),   dL_s/dl  = -sigmoid(l)     = -d
    non-saturating (``loss.name='non_saturating'``):
        L_ns(d) = -log d,       dL_ns/dd = -1 / d,         dL_ns/dl = -sigmoid(-l)    = -(1 - d)

G minimises either; both fall as d rises, so both push D(G(z)) up. Early in training D rejects
G's samples with confidence (d -> 0): there L_s is flat (slope -1 in d, -d -> 0 in the logit)
while L_ns is steep (slope -1/d in d, -(1 - d) -> -1 in the logit). The gradient reaching G's
parameters is the logit slope times dl/dtheta_G, so on the same D and the same z the saturating
loss's gradient is (per sample) d / (1 - d) times the non-saturating one's: "log(1 - D(G(z)))
saturates", the paper's reason for training G to maximise log D(G(z)) instead.

Closed forms in float64 numpy (for pictures and tests) and, for a `GANSpec`, the global L2
norm of G's gradient of its `g_loss` at given variables, batch and key, so two specs of one
architecture that differ only in the G loss are compared on the same D and the same z.
"""
from typing import Mapping

import jax
import jax.numpy as jnp
import numpy as np
import optax

LOSS_NAMES = ("minimax", "non_saturating")     # gan_jax.losses.LOSSES keys, saturating first


def d_grid(n: int = 999, eps: float = 1e-3) -> np.ndarray:
    """n points of d = D(G(z)) evenly spaced on [eps, 1 - eps] (the open interval (0, 1))."""
    return np.linspace(eps, 1.0 - eps, n)


def saturating_loss(d):
    """The minimax G loss log(1 - d) at d = D(G(z))."""
    return np.log1p(-np.asarray(d, np.float64))


def non_saturating_loss(d):
    """The non-saturating G loss -log d at d = D(G(z))."""
    return -np.log(np.asarray(d, np.float64))


def saturating_slope(d):
    """d/dd log(1 - d) = -1 / (1 - d): -1 at d = 0, where G most needs to learn."""
    return -1.0 / (1.0 - np.asarray(d, np.float64))


def non_saturating_slope(d):
    """d/dd [-log d] = -1 / d: unbounded as d -> 0."""
    return -1.0 / np.asarray(d, np.float64)


def saturating_logit_slope(logit):
    """d/dl log(1 - sigmoid(l)) = -sigmoid(l) (-> 0 as D rejects the fake, l -> -inf)."""
    return -jax.nn.sigmoid(logit)


def non_saturating_logit_slope(logit):
    """d/dl [-log sigmoid(l)] = -sigmoid(-l) = -(1 - sigmoid(l)) (-> -1 as l -> -inf)."""
    return -jax.nn.sigmoid(-logit)


def loss_curves(d) -> dict:
    """Both losses and their slopes in d and in the logit on the points ``d`` (numpy float64)."""
    d = np.asarray(d, np.float64)
    return {"d": d,
            "minimax": saturating_loss(d), "non_saturating": non_saturating_loss(d),
            "minimax_slope": saturating_slope(d),
            "non_saturating_slope": non_saturating_slope(d),
            "minimax_logit_slope": -d, "non_saturating_logit_slope": -(1.0 - d)}


def generator_gradient(spec, variables, batch, key):
    """The gradient of ``spec.g_loss`` with respect to G's params (``variables['g']['params']``),
    everything else (D, the batch, the key and with it z) held fixed."""
    g = variables["g"]

    def loss(params):
        return spec.g_loss({**variables, "g": {**g, "params": params}}, batch, key)[0]

    return jax.grad(loss)(g["params"])


def generator_grad_norm(spec, variables, batch, key):
    """|grad_G|: the global L2 norm (over every leaf) of `generator_gradient`."""
    return optax.global_norm(generator_gradient(spec, variables, batch, key))


def generator_grad_norms(specs: Mapping[str, object], variables, batch, key) -> dict:
    """{name: |grad_G|} of every spec's G loss at the same variables, batch and key. The specs
    must share G's and D's architecture (e.g. one config with different ``loss.name``), so each
    loss sees the same D and, through the key, the same z."""
    return {name: generator_grad_norm(spec, variables, batch, key)
            for name, spec in specs.items()}


def mean_d_of_fakes(spec, variables, batch, key):
    """Mean D(G(z)) over the batch's latents z = spec.latent(key, batch['index']): the z a
    vanilla-family `g_loss` draws with that key (inference mode: equal for nets without
    BatchNorm or dropout)."""
    z = spec.latent(key, batch["index"])
    fakes = spec.generate(variables["g"], z)
    return jnp.mean(jax.nn.sigmoid(spec.discriminate(variables["d"], fakes)))
