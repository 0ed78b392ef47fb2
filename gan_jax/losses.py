"""The GAN losses, computed from the discriminator's outputs: the original GAN's (Goodfellow et
al., 2014) and the loss zoo (least squares, Wasserstein, hinge), named as in TF-GAN.

`LOSSES` pairs a discriminator loss with a generator loss under one name (config key
`loss.name`); `get_loss(name)` looks one up. Penalties on D's gradients (WGAN-GP, R1, R2) are
in `gan_jax.penalties`.

The original GAN
----------------

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

The zoo (``d`` = D's raw output, no sigmoid):

* ``least_squares`` (LSGAN, Mao et al. 2017, labels a = 0, b = c = 1):
  D: ``1/2 E[(d(x) - 1)^2] + 1/2 E[d(G(z))^2]``;  G: ``1/2 E[(d(G(z)) - 1)^2]``.
* ``wasserstein`` (WGAN, Arjovsky et al. 2017; the critic needs a Lipschitz constraint: weight
  clipping, or the gradient penalty of WGAN-GP): D: ``E[d(G(z))] - E[d(x)]``;  G: ``-E[d(G(z))]``.
* ``hinge`` (Lim & Ye 2017; Miyato et al. 2018 with spectral norm):
  D: ``E[relu(1 - d(x))] + E[relu(1 + d(G(z)))]``;  G: ``-E[d(G(z))]``.

All expectations are means over every element of the logit arrays, so a logit array of any shape
(``(N,)``, ``(N, 1)``, or PatchGAN's ``(N, h, w, 1)``) gives one scalar.
"""

from typing import Callable, Dict, NamedTuple

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


# ---------------------------------------------------------------------------------------------
# TF-GAN names for the original GAN's losses.

minimax_discriminator_loss = discriminator_loss
minimax_generator_loss = generator_loss_saturating
non_saturating_generator_loss = generator_loss_non_saturating


# ---------------------------------------------------------------------------------------------
# The zoo.

def least_squares_discriminator_loss(real_outputs: Array, fake_outputs: Array) -> Array:
    """LSGAN's D loss 1/2 E[(D(x) - 1)^2] + 1/2 E[D(G(z))^2] (real label 1, fake label 0)."""
    return 0.5 * jnp.mean(jnp.square(real_outputs - 1.0)) + 0.5 * jnp.mean(jnp.square(fake_outputs))


def least_squares_generator_loss(fake_outputs: Array) -> Array:
    """LSGAN's G loss 1/2 E[(D(G(z)) - 1)^2]."""
    return 0.5 * jnp.mean(jnp.square(fake_outputs - 1.0))


def wasserstein_discriminator_loss(real_outputs: Array, fake_outputs: Array) -> Array:
    """The critic's loss E[D(G(z))] - E[D(x)] (minimising it maximises the Kantorovich-Rubinstein
    estimate E[D(x)] - E[D(G(z))] of the Wasserstein-1 distance)."""
    return jnp.mean(fake_outputs) - jnp.mean(real_outputs)


def wasserstein_generator_loss(fake_outputs: Array) -> Array:
    """The generator's WGAN loss -E[D(G(z))]."""
    return -jnp.mean(fake_outputs)


def hinge_discriminator_loss(real_outputs: Array, fake_outputs: Array) -> Array:
    """The hinge D loss E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]."""
    return jnp.mean(jax.nn.relu(1.0 - real_outputs)) + jnp.mean(jax.nn.relu(1.0 + fake_outputs))


hinge_generator_loss = wasserstein_generator_loss   # -E[D(G(z))], as in SN-GAN and BigGAN


class LossPair(NamedTuple):
    """A discriminator loss and the generator loss played against it."""
    d: Callable[[Array, Array], Array]       # (real outputs, fake outputs) -> scalar
    g: Callable[[Array], Array]              # (fake outputs) -> scalar
    probabilities: bool                      # D's output is a logit of a probability (sigmoid)


LOSSES: Dict[str, LossPair] = {
    "non_saturating": LossPair(minimax_discriminator_loss, non_saturating_generator_loss, True),
    "minimax": LossPair(minimax_discriminator_loss, minimax_generator_loss, True),
    "least_squares": LossPair(least_squares_discriminator_loss, least_squares_generator_loss,
                              False),
    "wasserstein": LossPair(wasserstein_discriminator_loss, wasserstein_generator_loss, False),
    "hinge": LossPair(hinge_discriminator_loss, hinge_generator_loss, False),
}


def get_loss(name: str) -> LossPair:
    """The (D loss, G loss) pair called ``name`` (config key loss.name), or GanJaxError listing
    the valid names."""
    try:
        return LOSSES[name]
    except (KeyError, TypeError):
        raise GanJaxError(f"unknown loss.name {name!r}; valid: {sorted(LOSSES)}") from None
