"""The original GAN losses (Goodfellow et al., 2014), computed from discriminator logits.

The discriminator outputs a logit ``l`` and ``D = sigmoid(l)``. The two-player value function is

    V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))],

which D maximises and G minimises. Every log-probability here is taken in logit space,

    log D       = log sigmoid(l)  = -softplus(-l),
    log(1 - D)  = log sigmoid(-l) = -softplus(l),

so nothing is ever computed as ``log(sigmoid(l))``: for ``|l|`` of 100 or 1e4 the float32 sigmoid
rounds to exactly 0 or 1 and that naive form gives ``-inf`` (and NaN gradients), while
``log_sigmoid`` stays finite with the exact derivatives

    d/dl log sigmoid(l)  = 1 - sigmoid(l) = sigmoid(-l),
    d/dl log sigmoid(-l) = -sigmoid(l).

Generator losses (``fake_logits`` are D's logits on G(z)):

* ``saturating`` -- the minimax loss ``E[log(1 - D(G(z)))]``. Its gradient with respect to a fake
  logit is ``-sigmoid(l)/N``, which vanishes when D confidently rejects the fakes
  (``D(G(z)) -> 0``, ``l -> -inf``): early in training, when G is poor, it learns slowly.
* ``non_saturating`` -- the paper's practical alternative ``-E[log D(G(z))]``. Its gradient is
  ``-(1 - sigmoid(l))/N``, close to ``-1/N`` exactly where the minimax one vanishes. Both push
  every fake logit in the same direction (up), so they share the fixed points of the game
  dynamics; only the gradient magnitudes differ.

All expectations are means over every element of the logit arrays, so a logit array of any shape
(``(N,)``, ``(N, 1)``, or PatchGAN's ``(N, h, w, 1)``) gives one scalar.
"""

from typing import Callable, Dict

import jax
import jax.numpy as jnp

from gan_jax.errors import GanJaxError

Array = jax.Array
GeneratorLoss = Callable[[Array], Array]


def value_function(real_logits: Array, fake_logits: Array) -> Array:
    """V(D, G) = E[log D(x)] + E[log(1 - D(G(z)))], from D's logits on real and fake samples.

    At the optimum of the game (p_g = p_data, D = 1/2 everywhere) V = -log 4.
    """
    log_d_real = jax.nn.log_sigmoid(real_logits)
    log_one_minus_d_fake = jax.nn.log_sigmoid(-fake_logits)
    return jnp.mean(log_d_real) + jnp.mean(log_one_minus_d_fake)


def discriminator_loss(real_logits: Array, fake_logits: Array) -> Array:
    """-V(D, G): D maximises V, so it minimises this (the binary cross-entropy with real = 1).

    Equal to BCE(sigmoid(real_logits), 1) + BCE(sigmoid(fake_logits), 0), each averaged.
    """
    return -value_function(real_logits, fake_logits)


def generator_loss_saturating(fake_logits: Array) -> Array:
    """The minimax generator loss E[log(1 - D(G(z)))], which G minimises.

    d loss / d l_i = -sigmoid(l_i) / N: it saturates (-> 0) when D rejects the fakes.
    """
    return jnp.mean(jax.nn.log_sigmoid(-fake_logits))


def generator_loss_non_saturating(fake_logits: Array) -> Array:
    """The non-saturating generator loss -E[log D(G(z))] (the "log D trick" of the paper).

    d loss / d l_i = -(1 - sigmoid(l_i)) / N: strongest when D rejects the fakes.
    """
    return -jnp.mean(jax.nn.log_sigmoid(fake_logits))


GENERATOR_LOSSES: Dict[str, GeneratorLoss] = {
    'saturating': generator_loss_saturating,
    'non_saturating': generator_loss_non_saturating,
}


def get_generator_loss(name: str) -> GeneratorLoss:
    """The generator loss called ``name`` (a key of ``GENERATOR_LOSSES``).

    Raises:
        GanJaxError: ``name`` is not a known loss; the message lists the valid names.
    """
    try:
        return GENERATOR_LOSSES[name]
    except (KeyError, TypeError):
        valid = ', '.join(repr(k) for k in sorted(GENERATOR_LOSSES))
        raise GanJaxError(
            f'unknown generator loss {name!r}; valid names are {valid}. '
            'Set the config field to one of them.') from None
