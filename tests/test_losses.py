"""Tests for gan_jax.losses: values against numpy formulas, stability, gradient behaviour."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from absl.testing import parameterized

from gan_jax import losses
from gan_jax.errors import GanJaxError


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


def _reference(real, fake):
    """The paper's formulas written directly with D = sigmoid(logit), in float64."""
    d_real, d_fake = _sigmoid(real), _sigmoid(fake)
    v = np.mean(np.log(d_real)) + np.mean(np.log(1.0 - d_fake))
    return {
        'value': v,
        'd_loss': -v,
        'saturating': np.mean(np.log(1.0 - d_fake)),
        'non_saturating': -np.mean(np.log(d_fake)),
    }


RNG = np.random.default_rng(0)
REAL = RNG.normal(0.5, 2.0, size=(16, 1)).astype(np.float32)
FAKE = RNG.normal(-0.5, 2.0, size=(16, 1)).astype(np.float32)
EXTREMES = [100.0, -100.0, 1e4, -1e4]


class LossValuesTest(parameterized.TestCase):

    @chex.variants(with_jit=True, without_jit=True)
    def test_value_and_discriminator_loss(self):
        both = self.variant(lambda r, f: (losses.value_function(r, f),
                                          losses.discriminator_loss(r, f)))
        ref = _reference(REAL, FAKE)
        value, d_loss = both(REAL, FAKE)
        chex.assert_shape([value, d_loss], ())
        np.testing.assert_allclose(value, ref['value'], rtol=1e-5)
        np.testing.assert_allclose(d_loss, ref['d_loss'], rtol=1e-5)
        # At the game's optimum D = 1/2 everywhere (logit 0) and V = -log 4.
        zeros = np.zeros_like(REAL)
        np.testing.assert_allclose(both(zeros, zeros), [-np.log(4.0), np.log(4.0)], rtol=1e-6)

    @chex.variants(with_jit=True, without_jit=True)
    @parameterized.parameters('saturating', 'non_saturating')
    def test_generator_losses(self, name):
        loss = self.variant(losses.get_generator_loss(name))(FAKE)
        chex.assert_shape(loss, ())
        np.testing.assert_allclose(loss, _reference(REAL, FAKE)[name], rtol=1e-5)

    @chex.variants(with_jit=True, without_jit=True)
    def test_any_logit_shape_gives_a_scalar(self):
        # PatchGAN-style (N, h, w, 1) logits: the expectation is the mean over every element.
        patch = np.asarray(RNG.normal(size=(2, 4, 4, 1)), dtype=np.float32)
        out = self.variant(lambda l: (losses.discriminator_loss(l, l),
                                      losses.generator_loss_non_saturating(l)))(patch)
        chex.assert_shape(out, ())
        np.testing.assert_allclose(out[1], _reference(patch, patch)['non_saturating'], rtol=1e-5)


class StabilityTest(parameterized.TestCase):

    @chex.variants(with_jit=True, without_jit=True)
    def test_finite_values_and_gradients(self):
        # Every extreme logit appears as a real and as a fake logit, with both signs paired.
        x = jnp.asarray(EXTREMES, dtype=jnp.float32)
        fns = {
            'value': losses.value_function,
            'd_loss': losses.discriminator_loss,
            'saturating': lambda r, f: losses.generator_loss_saturating(f),
            'non_saturating': lambda r, f: losses.generator_loss_non_saturating(f),
        }

        def all_values_and_grads(real, fake):
            return {name: jax.value_and_grad(fn, argnums=(0, 1))(real, fake)
                    for name, fn in fns.items()}

        for real, fake in [(x, x), (x, -x)]:
            out = self.variant(all_values_and_grads)(real, fake)
            chex.assert_tree_all_finite(out)

    def test_extreme_values_are_exact(self):
        # log sigmoid(-L) = -L (to float32) for large L: the loss grows linearly, not to inf.
        big = jnp.asarray([1e4], dtype=jnp.float32)
        np.testing.assert_allclose(losses.generator_loss_saturating(big), -1e4, rtol=1e-6)
        np.testing.assert_allclose(losses.generator_loss_non_saturating(-big), 1e4, rtol=1e-6)
        np.testing.assert_allclose(losses.discriminator_loss(-big, big), 2e4, rtol=1e-6)
        np.testing.assert_allclose(losses.discriminator_loss(big, -big), 0.0, atol=1e-6)


LOGITS = np.array([-20.0, -10.0, -5.0, -2.0, -1.0, 0.0, 1.0, 10.0], dtype=np.float32)


def _per_logit_grads(name):
    """d loss / d l_i for each entry of LOGITS, as if each were a batch of one.

    The losses are means over the batch, so the gradient of the batch loss is the per-example
    derivative divided by the batch size; one compiled call gives all of them.
    """
    fn = losses.get_generator_loss(name)
    return np.asarray(jax.jit(jax.grad(fn))(jnp.asarray(LOGITS))) * LOGITS.size


class GradientTest(parameterized.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sat = dict(zip(LOGITS.tolist(), _per_logit_grads('saturating')))
        cls.non_sat = dict(zip(LOGITS.tolist(), _per_logit_grads('non_saturating')))

    def test_saturating_vanishes_when_d_rejects_fakes(self):
        # D(G(z)) = sigmoid(-10) ~ 4.5e-5: d/dl of E[log(1-D)] is -sigmoid(l) and of -E[log D]
        # is -(1 - sigmoid(l)).
        sat, non_sat = self.sat[-10.0], self.non_sat[-10.0]
        np.testing.assert_allclose(sat, -_sigmoid(-10.0), rtol=1e-4)
        np.testing.assert_allclose(non_sat, -(1.0 - _sigmoid(-10.0)), rtol=1e-5)
        assert abs(sat) < 1e-4
        assert abs(non_sat) > 0.99
        assert abs(non_sat) / abs(sat) > 1e4

    def test_saturating_gradient_decays_with_confidence(self):
        mags = [abs(self.sat[l]) for l in (-2.0, -5.0, -10.0, -20.0)]
        assert all(a > b for a, b in zip(mags, mags[1:]))
        assert mags[-1] < 1e-8
        assert abs(self.non_sat[-20.0]) > 0.99

    def test_same_direction(self):
        # Both losses push every fake logit up (towards "real"): same gradient sign at every
        # logit, so the same fixed points of the dynamics; only the magnitudes differ.
        for logit in LOGITS.tolist():
            sat, non_sat = self.sat[logit], self.non_sat[logit]
            assert sat < 0 and non_sat < 0, logit
            assert np.sign(sat) == np.sign(non_sat)
        np.testing.assert_allclose(self.sat[0.0], self.non_sat[0.0], rtol=1e-6)  # D = 1/2

    def test_gradients_match_sigmoid_formulas(self):
        expected_sat = -_sigmoid(LOGITS)
        expected_non_sat = -(1.0 - _sigmoid(LOGITS))
        np.testing.assert_allclose(list(self.sat.values()), expected_sat, rtol=1e-4, atol=1e-12)
        np.testing.assert_allclose(list(self.non_sat.values()), expected_non_sat, rtol=1e-4,
                                   atol=1e-12)


def test_registry():
    assert set(losses.GENERATOR_LOSSES) == {'saturating', 'non_saturating'}
    assert losses.get_generator_loss('saturating') is losses.generator_loss_saturating
    assert losses.get_generator_loss('non_saturating') is losses.generator_loss_non_saturating


def test_unknown_generator_loss_lists_valid_names():
    with pytest.raises(GanJaxError, match="'non_saturating', 'saturating'"):
        losses.get_generator_loss('wasserstein')


# ---------------------------------------------------------------------------------------------
# The zoo (gan_jax.losses.LOSSES): every D and G loss against its formula, values and gradients.

def _log_sigmoid(x):
    return -np.logaddexp(0.0, -np.asarray(x, dtype=np.float64))


def _zoo_reference(name, real, fake):
    """(D loss, dD/d real, dD/d fake, G loss, dG/d fake) of loss `name`, in float64 numpy,
    written from the formulas of the module docstring (expectations = means over elements)."""
    r, f = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    nr, nf = r.size, f.size
    if name in ('non_saturating', 'minimax'):
        d = -np.mean(_log_sigmoid(r)) - np.mean(_log_sigmoid(-f))
        dd_r, dd_f = -(1.0 - _sigmoid(r)) / nr, _sigmoid(f) / nf
        if name == 'non_saturating':
            g, dg_f = -np.mean(_log_sigmoid(f)), -(1.0 - _sigmoid(f)) / nf
        else:
            g, dg_f = np.mean(_log_sigmoid(-f)), -_sigmoid(f) / nf
    elif name == 'least_squares':
        d = 0.5 * np.mean((r - 1.0) ** 2) + 0.5 * np.mean(f ** 2)
        dd_r, dd_f = (r - 1.0) / nr, f / nf
        g, dg_f = 0.5 * np.mean((f - 1.0) ** 2), (f - 1.0) / nf
    elif name == 'wasserstein':
        d = np.mean(f) - np.mean(r)
        dd_r, dd_f = np.full_like(r, -1.0 / nr), np.full_like(f, 1.0 / nf)
        g, dg_f = -np.mean(f), np.full_like(f, -1.0 / nf)
    elif name == 'hinge':
        d = np.mean(np.maximum(0.0, 1.0 - r)) + np.mean(np.maximum(0.0, 1.0 + f))
        dd_r, dd_f = -(r < 1.0).astype(np.float64) / nr, (f > -1.0).astype(np.float64) / nf
        g, dg_f = -np.mean(f), np.full_like(f, -1.0 / nf)
    else:
        raise ValueError(name)
    return d, dd_r, dd_f, g, dg_f


ZOO = ('non_saturating', 'minimax', 'least_squares', 'wasserstein', 'hinge')
# Hand-made outputs on both sides of every kink and label: hinge's 1 (real) and -1 (fake), the
# LSGAN labels 0 and 1, and logits from confident rejection to confident acceptance.
ZOO_REAL = np.array([-3.0, -1.5, -0.25, 0.0, 0.5, 0.999, 1.001, 2.0, 4.5], np.float32)
ZOO_FAKE = np.array([-4.0, -1.001, -0.999, -0.5, 0.0, 0.3, 1.0, 1.75, 3.0], np.float32)


class ZooTest(parameterized.TestCase):

    @chex.variants(with_jit=True, without_jit=True)
    @parameterized.parameters(*ZOO)
    def test_values_and_gradients_match_formulas(self, name):
        pair = losses.get_loss(name)

        def values_and_grads(real, fake):
            d, (dd_r, dd_f) = jax.value_and_grad(pair.d, argnums=(0, 1))(real, fake)
            g, dg_f = jax.value_and_grad(pair.g)(fake)
            return d, dd_r, dd_f, g, dg_f

        for real, fake in [(ZOO_REAL, ZOO_FAKE), (ZOO_FAKE, ZOO_REAL),
                           (ZOO_REAL.reshape(3, 3, 1), ZOO_FAKE[::-1].reshape(3, 3, 1))]:
            out = self.variant(values_and_grads)(jnp.asarray(real), jnp.asarray(fake))
            ref = _zoo_reference(name, real, fake)
            chex.assert_shape([out[0], out[3]], ())
            chex.assert_shape([out[1], out[2], out[4]], real.shape)
            for got, want, what in zip(out, ref, ('D', 'dD/dreal', 'dD/dfake', 'G', 'dG/dfake')):
                np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-7,
                                           err_msg=f'{name} {what}')

    @parameterized.parameters(*ZOO)
    def test_patch_outputs_give_a_scalar_mean(self, name):
        # PatchGAN-shaped outputs (N, h, w, 1): the loss is the mean over every element.
        patch = np.asarray(RNG.normal(size=(2, 3, 3, 1)), np.float32)
        pair = losses.get_loss(name)
        ref = _zoo_reference(name, patch, -patch)
        np.testing.assert_allclose(pair.d(patch, -patch), ref[0], rtol=2e-5)
        np.testing.assert_allclose(pair.g(-patch), ref[3], rtol=2e-5, atol=1e-7)

    def test_known_points(self):
        # Values that are easy to check by hand.
        one, zero = jnp.ones((4,)), jnp.zeros((4,))
        np.testing.assert_allclose(losses.least_squares_discriminator_loss(one, zero), 0.0)
        np.testing.assert_allclose(losses.least_squares_generator_loss(one), 0.0)
        np.testing.assert_allclose(losses.least_squares_discriminator_loss(zero, one), 1.0)
        np.testing.assert_allclose(losses.wasserstein_discriminator_loss(3 * one, one), -2.0)
        np.testing.assert_allclose(losses.hinge_discriminator_loss(one, -one), 0.0)  # margins met
        np.testing.assert_allclose(losses.hinge_discriminator_loss(zero, zero), 2.0)
        np.testing.assert_allclose(losses.hinge_generator_loss(2 * one), -2.0)

    @chex.variants(with_jit=True, without_jit=True)
    def test_sigmoid_losses_finite_at_extremes(self):
        x = jnp.asarray(EXTREMES, dtype=jnp.float32)
        for name in ('non_saturating', 'minimax'):
            pair = losses.get_loss(name)
            out = self.variant(lambda r, f, pair=pair: (
                jax.value_and_grad(pair.d, argnums=(0, 1))(r, f),
                jax.value_and_grad(pair.g)(f)))(x, -x)
            chex.assert_tree_all_finite(out)


def test_zoo_registry():
    assert set(losses.LOSSES) == set(ZOO)
    expected = {
        'non_saturating': (losses.minimax_discriminator_loss,
                           losses.non_saturating_generator_loss, True),
        'minimax': (losses.minimax_discriminator_loss, losses.minimax_generator_loss, True),
        'least_squares': (losses.least_squares_discriminator_loss,
                          losses.least_squares_generator_loss, False),
        'wasserstein': (losses.wasserstein_discriminator_loss,
                        losses.wasserstein_generator_loss, False),
        'hinge': (losses.hinge_discriminator_loss, losses.hinge_generator_loss, False),
    }
    for name, (d, g, probabilities) in expected.items():
        pair = losses.get_loss(name)
        assert isinstance(pair, losses.LossPair)
        assert pair is losses.LOSSES[name]
        assert (pair.d, pair.g, pair.probabilities) == (d, g, probabilities), name
    # TF-GAN's names for the original GAN's losses are the same functions.
    assert losses.minimax_discriminator_loss is losses.discriminator_loss
    assert losses.minimax_generator_loss is losses.generator_loss_saturating
    assert losses.non_saturating_generator_loss is losses.generator_loss_non_saturating


@pytest.mark.parametrize('typo', ['hinged', 'wgan', 'saturating', '', None])
def test_unknown_loss_name_lists_valid_names(typo):
    with pytest.raises(GanJaxError) as info:
        losses.get_loss(typo)
    message = str(info.value)
    assert 'loss.name' in message and repr(typo) in message
    for name in ZOO:
        assert name in message, name


def test_config_typo_fails_when_the_family_is_built():
    from gan_jax import registry
    from gan_jax.gans import vanilla
    from tests.train.helpers import toy_config
    config = toy_config(name='ring')
    config.loss.name = 'least_square'
    with pytest.raises(GanJaxError, match='least_squares'):
        vanilla.make_spec(config, registry.data_info(config))
