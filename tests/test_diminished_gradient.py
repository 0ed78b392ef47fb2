"""Tests for gan_jax.diminished_gradient: the closed forms of both G losses and their slopes
against jax.grad of gan_jax.losses, |grad_G| against a hand computation on a tiny GAN, and a
quick real run of experiments/diminished_gradient.py (the saturating gradient collapses once D
is confident; the pictures and the table are written)."""
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from scipy.special import logit

from gan_jax import diminished_gradient as dgr
from gan_jax import losses
from gan_jax.gans.vanilla import make_vanilla_gan
from gan_jax.nets.mlp import MLPDiscriminator, MLPGenerator

D = np.array([1e-4, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99, 0.9999])


@pytest.fixture
def x64():
    with jax.enable_x64(True):
        yield


def per_logit(loss):
    """``loss`` of a single fake logit, as a function of a scalar."""
    return lambda lg: loss(jnp.reshape(lg, (1,)))


def test_losses_are_gan_jax_losses_of_d(x64):
    for d in D:
        lg = jnp.float64(logit(d))
        np.testing.assert_allclose(losses.generator_loss_saturating(lg[None]),
                                   dgr.saturating_loss(d), rtol=1e-12)
        np.testing.assert_allclose(losses.generator_loss_non_saturating(lg[None]),
                                   dgr.non_saturating_loss(d), rtol=1e-12)
    assert losses.get_loss("minimax").g is losses.generator_loss_saturating
    assert losses.get_loss("non_saturating").g is losses.generator_loss_non_saturating
    assert dgr.LOSS_NAMES == ("minimax", "non_saturating")


def test_slopes_in_the_logit_match_jax_grad(x64):
    logits = jnp.asarray(logit(D))
    for loss, slope in ((losses.generator_loss_saturating, dgr.saturating_logit_slope),
                        (losses.generator_loss_non_saturating, dgr.non_saturating_logit_slope)):
        grads = jax.vmap(jax.grad(per_logit(loss)))(logits)
        np.testing.assert_allclose(grads, slope(logits), rtol=1e-10)
    np.testing.assert_allclose(dgr.saturating_logit_slope(logits), -D, rtol=1e-10)
    np.testing.assert_allclose(dgr.non_saturating_logit_slope(logits), -(1 - D), rtol=1e-10)


def test_slopes_in_d_match_jax_grad(x64):
    def of_d(loss):       # the loss as a function of d = D(G(z)), through the logit
        return jax.vmap(jax.grad(lambda d: per_logit(loss)(jnp.log(d) - jnp.log1p(-d))))

    np.testing.assert_allclose(of_d(losses.generator_loss_saturating)(jnp.asarray(D)),
                               dgr.saturating_slope(D), rtol=1e-8)
    np.testing.assert_allclose(of_d(losses.generator_loss_non_saturating)(jnp.asarray(D)),
                               dgr.non_saturating_slope(D), rtol=1e-8)


def test_loss_curves():
    d = dgr.d_grid(101)
    assert d.min() > 0 and d.max() < 1 and np.all(np.diff(d) > 0)
    c = dgr.loss_curves(d)
    for name in dgr.LOSS_NAMES:        # both losses fall as D(G(z)) rises: G pushes it up
        assert np.all(np.diff(c[name]) < 0)
        assert np.all(c[f"{name}_slope"] < 0) and np.all(c[f"{name}_logit_slope"] < 0)
    low = d < 0.01                     # D confident: the saturating logit slope vanishes
    assert np.all(np.abs(c["minimax_logit_slope"][low]) < 0.01)
    assert np.all(np.abs(c["non_saturating_logit_slope"][low]) > 0.99)
    np.testing.assert_allclose(c["minimax_logit_slope"][50], c["non_saturating_logit_slope"][50])


def tiny_gan(loss):
    """A 2-d latent, 1-d sample MLP GAN of the vanilla family, with G loss ``loss``."""
    return make_vanilla_gan(MLPGenerator(out_shape=(1,), hidden=(4,), output="linear"),
                            MLPDiscriminator(hidden=(5,)), latent_dim=2, loss=loss)


def tiny_setup(n):
    specs = {name: tiny_gan(name) for name in dgr.LOSS_NAMES}
    batch = {"index": np.arange(n, dtype=np.int32), "x": np.zeros((n, 1), np.float32),
             "step": np.zeros((), np.int32)}    # numpy: no eager op compiles (seconds here)
    variables = jax.jit(specs["minimax"].init)(jax.random.key(3), batch)
    return specs, {**variables, "extra": None}, batch, jax.random.key(7)


def test_grad_norm_matches_a_hand_computation():
    specs, variables, batch, key = tiny_setup(8)
    gen, disc = MLPGenerator(out_shape=(1,), hidden=(4,), output="linear"), \
        MLPDiscriminator(hidden=(5,))

    def latents():
        return specs["minimax"].latent(key, batch["index"])     # the z g_loss draws

    @jax.jit
    def by_hand(params):
        """Both losses' G gradients, straight through the nets and gan_jax.losses."""
        z = latents()

        def loss_of(loss):
            return lambda p: loss(disc.apply(variables["d"],
                                             gen.apply({"params": p}, z, train=True),
                                             train=True))
        return {"minimax": jax.grad(loss_of(losses.generator_loss_saturating))(params),
                "non_saturating": jax.grad(loss_of(losses.generator_loss_non_saturating))(params)}

    @jax.jit
    def ours(variables):
        return (dgr.generator_grad_norms(specs, variables, batch, key),
                {name: dgr.generator_gradient(spec, variables, batch, key)
                 for name, spec in specs.items()},
                dgr.mean_d_of_fakes(specs["minimax"], variables, batch, key),
                jnp.mean(jax.nn.sigmoid(disc.apply(variables["d"],
                                                   gen.apply(variables["g"], latents())))))

    hand = by_hand(variables["g"]["params"])
    norms, gradients, mean_d, expected_mean_d = ours(variables)
    for name in dgr.LOSS_NAMES:
        expected = np.sqrt(sum(np.sum(np.square(np.asarray(g)))
                               for g in jax.tree.leaves(hand[name])))
        np.testing.assert_allclose(norms[name], expected, rtol=1e-5)
        np.testing.assert_allclose(norms[name], optax.global_norm(gradients[name]), rtol=1e-6)
        assert jax.tree.structure(gradients[name]) == jax.tree.structure(hand[name])
        for got, want in zip(jax.tree.leaves(gradients[name]), jax.tree.leaves(hand[name])):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(mean_d, expected_mean_d, rtol=1e-6)


def test_one_sample_ratio_is_d_over_one_minus_d():
    """For one z, both gradients are the logit slope times the same dl/dtheta_G, so their norms'
    ratio is exactly sigmoid(l) / (1 - sigmoid(l)) = D / (1 - D)."""
    specs, variables, batch, key = tiny_setup(1)
    norms, d = jax.jit(lambda v: (dgr.generator_grad_norms(specs, v, batch, key),
                                  dgr.mean_d_of_fakes(specs["minimax"], v, batch, key)))(variables)
    np.testing.assert_allclose(norms["minimax"] / norms["non_saturating"], d / (1 - d), rtol=1e-4)


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    from experiments.diminished_gradient import main

    return main(["--quick", "--out", str(tmp_path_factory.mktemp("diminished_gradient"))])


def test_quick_run_writes_figures_and_tables(quick):
    from PIL import Image

    for path, least in ((quick["figure"], (1200, 700)), (quick["toy_figure"], (500, 400))):
        with Image.open(path) as picture:
            assert picture.size[0] >= least[0] and picture.size[1] >= least[1]
    table = open(quick["table"]).read()
    assert "| G trained with | D head start | step |" in table and "| G loss | W1 | KS |" in table
    assert "Wall time" in table
    out = os.path.dirname(quick["table"])
    with open(os.path.join(out, "measurements.json")) as f:
        assert len(json.load(f)["runs"]) == 4
    assert [(r["loss"], r["head_start"]) for r in quick["runs"]] == [
        ("minimax", 0), ("non_saturating", 0), ("minimax", 50), ("non_saturating", 50)]
    for toy in quick["toys"]:
        assert os.path.isfile(toy["figure1"]) and np.isfinite(toy["w1"])


def test_saturating_gradient_collapses_once_d_is_confident(quick):
    """Measured (--quick, seed 0): at initialisation mean D(G(z)) = 0.44 and the saturating
    |grad_G| is 0.79 x the non-saturating one; after 50 D-only updates mean D(G(z)) = 0.042 and
    it is 0.043 x, on the same G, D and z in both runs."""
    for run in quick["runs"]:
        first = run["rows"][0]
        assert first["step"] == -run["head_start"]
        assert first["mean_d"] > 0.3 and first["ratio"] > 0.5
        for r in run["rows"]:       # the ratio follows D / (1 - D) of the mean D (0.976-0.998)
            assert 0.8 < r["ratio"] / (r["mean_d"] / (1 - r["mean_d"])) < 1.25
    confident = [next(r for r in run["rows"] if r["step"] == 0)
                 for run in quick["runs"] if run["head_start"]]
    assert confident[0] == confident[1]         # same point: same G, D and z in both runs
    assert confident[0]["mean_d"] < 0.1
    assert confident[0]["ratio"] < 0.1
    assert confident[0]["non_saturating"] > 1.0
