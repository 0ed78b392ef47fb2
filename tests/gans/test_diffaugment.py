"""Tests for DiffAugment (gan_jax.gans.diffaugment): shapes and dtypes, the translation against a
numpy shift, the cutout's exact square, the colour transforms' closed forms, gradients (the
transposed mask / shift), per-example keys (a batch split in two, or permuted, is transformed
the same), the policy parser, and the vanilla family applying it in D's and G's losses."""
import itertools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import registry
from gan_jax.errors import GanJaxError
from gan_jax.gans import diffaugment as da
from tests.train.helpers import toy_config

RNG = np.random.default_rng(2020)
SIDE = 28
ALL = ("color", "translation", "cutout")


def _images(b=6, side=SIDE, c=1):
    return jnp.asarray(RNG.uniform(-1, 1, (b, side, side, c)), jnp.float32)


def _example_key(key, index, position=0):
    """The documented key of transform `position` of example `index`."""
    return jax.random.fold_in(jax.random.fold_in(key, index), position)


def _np_shift(x, dy, dx):
    """numpy reference: out[i, j] = x[i + dy, j + dx], 0 outside."""
    h, w = x.shape[:2]
    out = np.zeros_like(x)
    for i, j in itertools.product(range(h), range(w)):
        if 0 <= i + dy < h and 0 <= j + dx < w:
            out[i, j] = x[i + dy, j + dx]
    return out


# ---------------------------------------------------------------------------------------------
# Shapes, dtypes, sizes as the official code's.

@pytest.mark.parametrize("policy", [("color",), ("translation",), ("cutout",), ALL])
@pytest.mark.parametrize("shape", [(5, 28, 28, 1), (3, 32, 32, 3)])
def test_shapes_and_dtypes(policy, shape):
    x = jnp.asarray(RNG.uniform(-1, 1, shape), jnp.float32)
    y = jax.jit(lambda x, k, i: da.augment(x, k, i, policy))(x, jax.random.key(0),
                                                             jnp.arange(shape[0]))
    chex.assert_shape(y, shape)
    chex.assert_type(y, jnp.float32)
    chex.assert_tree_all_finite(y)
    assert not np.array_equal(y, x)


def test_empty_policy_is_the_identity():
    x = _images()
    assert da.augment(x, jax.random.key(0), jnp.arange(6), ()) is x


def test_sizes_follow_the_official_rounding():
    assert da.shift_amounts((28, 28, 1)) == (4, 4)      # int(28 / 8 + 0.5)
    assert da.shift_amounts((32, 64, 3)) == (4, 8)
    assert da.cutout_size((28, 28, 1)) == (14, 14)
    assert da.cutout_size((27, 64, 3)) == (14, 32)      # int(13.5 + 0.5)


# ---------------------------------------------------------------------------------------------
# Translation.

@pytest.mark.parametrize("dy,dx", [(0, 0), (4, -4), (-3, 2), (1, 4), (-4, -1)])
def test_translate_equals_numpy_shift(dy, dx):
    x = np.asarray(_images(1, c=2)[0])
    np.testing.assert_array_equal(da.translate(jnp.asarray(x), dy, dx), _np_shift(x, dy, dx))


def test_random_translation_is_a_documented_shift():
    x = _images(40)
    key, index = jax.random.key(3), jnp.arange(100, 140)
    y = np.asarray(da.augment(x, key, index, ("translation",)))
    seen = set()
    for e in range(40):
        d = jax.random.randint(_example_key(key, int(index[e])), (2,), -4, 5)
        dy, dx = int(d[0]), int(d[1])
        np.testing.assert_array_equal(y[e], _np_shift(np.asarray(x[e]), dy, dx))
        seen.add((dy, dx))
    assert len(seen) > 20                     # many different shifts, all within +-4


def test_translation_range_is_plus_minus_one_eighth():
    x = jnp.zeros((400, SIDE, SIDE, 1)).at[:, SIDE // 2, SIDE // 2, 0].set(1.0)
    y = np.asarray(da.augment(x, jax.random.key(5), jnp.arange(400), ("translation",)))
    rows, cols = np.nonzero(y[..., 0].max(axis=2))[1], np.nonzero(y[..., 0].max(axis=1))[1]
    assert rows.min() == SIDE // 2 - 4 and rows.max() == SIDE // 2 + 4
    assert cols.min() == SIDE // 2 - 4 and cols.max() == SIDE // 2 + 4


# ---------------------------------------------------------------------------------------------
# Cutout.

@pytest.mark.parametrize("top,left", [(0, 0), (7, 3), (-7, 20), (21, -5), (14, 14)])
def test_cutout_mask_is_the_square_inside_the_image(top, left):
    mask = np.asarray(da.cutout_mask((SIDE, SIDE, 1), top, left))[..., 0]
    want = np.ones((SIDE, SIDE), np.float32)
    want[max(top, 0):max(top + 14, 0), max(left, 0):max(left + 14, 0)] = 0.0
    np.testing.assert_array_equal(mask, want)


def test_random_cutout_zeroes_exactly_the_expected_square():
    x = jnp.asarray(RNG.uniform(0.5, 1.0, (50, SIDE, SIDE, 2)), jnp.float32)   # no zeros in x
    key, index = jax.random.key(11), jnp.arange(7, 57)
    y = np.asarray(da.augment(x, key, index, ("cutout",)))
    centres = set()
    for e in range(50):
        c = jax.random.randint(_example_key(key, int(index[e])), (2,), 0, SIDE + 1)
        top, left = int(c[0]) - 7, int(c[1]) - 7
        zero = np.zeros((SIDE, SIDE), bool)
        zero[max(top, 0):top + 14, max(left, 0):left + 14] = True
        np.testing.assert_array_equal(y[e] == 0, np.repeat(zero[..., None], 2, -1))
        np.testing.assert_array_equal(y[e][~zero], np.asarray(x[e])[~zero])
        centres.add((int(c[0]), int(c[1])))
        assert 0 <= c[0] <= SIDE and 0 <= c[1] <= SIDE
    assert len(centres) > 40


# ---------------------------------------------------------------------------------------------
# Colour.

def test_adjust_color_closed_form():
    x = np.asarray(_images(1, c=3)[0], np.float64)
    b, s, c = 0.3, 1.7, 0.6
    y = x + b
    y = (y - y.mean(-1, keepdims=True)) * s + y.mean(-1, keepdims=True)
    y = (y - y.mean()) * c + y.mean()
    np.testing.assert_allclose(da.adjust_color(jnp.asarray(x, jnp.float32), b, s, c), y,
                               rtol=1e-5, atol=1e-5)


def test_random_color_draws_are_in_the_official_ranges():
    key = jax.random.key(1)
    x = _images(1)[0]
    u = jax.random.uniform(jax.random.key(2), (3,))
    np.testing.assert_array_equal(da.color(x, jax.random.key(2)),
                                  da.adjust_color(x, u[0] - 0.5, u[1] * 2, u[2] + 0.5))
    # one channel: saturation is the identity, and the image's mean moves by the brightness
    # (in [-1/2, 1/2)) only.
    ones = jnp.full((64, 4, 4, 1), 0.25)
    y = da.augment(ones, key, jnp.arange(64), ("color",))
    shift = np.asarray(y.mean(axis=(1, 2, 3))) - 0.25
    assert shift.min() >= -0.5 - 1e-6 and shift.max() < 0.5 and shift.std() > 0.2


# ---------------------------------------------------------------------------------------------
# Gradients: every transform is differentiable w.r.t. x; translation and cutout are linear, so
# the gradient of <w, augment(x)> is the transposed shift / the mask applied to w.

def test_gradients_are_the_transposed_shift_and_the_mask():
    x, w = _images(8, c=1), _images(8, c=1)
    key, index = jax.random.key(4), jnp.arange(8)
    for policy in (("translation",), ("cutout",)):
        grad = jax.grad(lambda x: jnp.sum(w * da.augment(x, key, index, policy)))(x)
        assert float(jnp.abs(grad).sum()) > 0
        for e in range(8):
            k = _example_key(key, e)
            if policy == ("translation",):
                d = jax.random.randint(k, (2,), -4, 5)
                want = _np_shift(np.asarray(w[e]), -int(d[0]), -int(d[1]))
            else:
                c = jax.random.randint(k, (2,), 0, SIDE + 1)
                want = np.asarray(w[e] * da.cutout_mask((SIDE, SIDE, 1), c[0] - 7, c[1] - 7))
            np.testing.assert_array_equal(grad[e], want)


@pytest.mark.parametrize("policy", [("color",), ALL])
def test_jvp_matches_the_affine_difference(policy):
    """Each transform is affine in x for a fixed draw: f(x + v) - f(x) = J v."""
    x, v = _images(4, c=3), 0.1 * _images(4, c=3)
    key, index = jax.random.key(8), jnp.arange(4)

    def f(x):
        return da.augment(x, key, index, policy)

    _, jv = jax.jvp(f, (x,), (v,))
    assert float(jnp.abs(jv).max()) > 0
    np.testing.assert_allclose(f(x + v) - f(x), jv, atol=2e-5)


# ---------------------------------------------------------------------------------------------
# Per-example keys: 1 device with batch B == n devices with B / n.

def test_split_and_permuted_batches_are_transformed_alike():
    x = _images(10, c=3)
    key, index = jax.random.key(9), jnp.arange(30, 40)
    run = jax.jit(lambda x, i: da.augment(x, key, i, ALL))        # as inside the train step
    whole = run(x, index)
    halves = jnp.concatenate([run(x[:4], index[:4]), run(x[4:], index[4:])])
    np.testing.assert_array_equal(whole, halves)
    perm = np.asarray(RNG.permutation(10))
    np.testing.assert_array_equal(run(x[perm], index[perm]), whole[perm])
    # Another key or index, another result; unjitted, the same up to the colour's rounding.
    assert not np.array_equal(da.augment(x, jax.random.key(10), index, ALL), whole)
    assert not np.array_equal(run(x, index + 1), whole)
    np.testing.assert_allclose(da.augment(x, key, index, ALL), whole, atol=1e-6)


def test_transforms_in_a_policy_draw_their_own_keys():
    x = _images(1)
    key, index = jax.random.key(12), jnp.arange(1)
    both = da.augment(x, key, index, ("translation", "translation"))
    once = da.augment(x, key, index, ("translation",))
    k0, k1 = _example_key(key, 0, 0), _example_key(key, 0, 1)
    np.testing.assert_array_equal(once[0], da.translation(x[0], k0))
    np.testing.assert_array_equal(both[0], da.translation(da.translation(x[0], k0), k1))


# ---------------------------------------------------------------------------------------------
# The policy parser.

def test_parse_policy():
    assert da.parse_policy("none") == ()
    assert da.parse_policy("") == ()
    assert da.parse_policy("translation,cutout") == ("translation", "cutout")
    assert da.parse_policy(" color , translation,cutout ") == ALL
    for bad in ("colour", "translation,flip", "Cutout"):
        with pytest.raises(GanJaxError, match="unknown vanilla.diffaugment"):
            da.parse_policy(bad)


def test_augment_refuses_bad_shapes_and_names():
    with pytest.raises(GanJaxError, match=r"\[B, H, W, C\]"):
        da.augment(jnp.zeros((4, 28, 28)), jax.random.key(0), jnp.arange(4), ("cutout",))
    with pytest.raises(GanJaxError, match=r"\[B, H, W, C\]"):
        da.augment(jnp.zeros((4, 28, 28, 1)), jax.random.key(0), jnp.arange(3), ("cutout",))
    with pytest.raises(GanJaxError, match="unknown DiffAugment"):
        da.augment(jnp.zeros((4, 28, 28, 1)), jax.random.key(0), jnp.arange(4), ("flip",))


# ---------------------------------------------------------------------------------------------
# The vanilla family applies the policy before D, in D's and G's losses.

def _dcgan_spec(policy, **model):
    config = toy_config(name="mnist_offline")
    config.model.arch = "dcgan"
    config.model.g_width = config.model.d_width = 8
    for k, v in model.items():
        setattr(config.model, k, v)
    config.vanilla.diffaugment = policy
    info = registry.data_info(config)
    return registry.make_spec(config, info), info


def _losses(spec, variables, batch, key):
    """(D's loss, G's loss) of one step's batch and key, on one device (BatchNorm's axis)."""
    def both(variables):
        return spec.d_loss(variables, batch, key)[0], spec.g_loss(variables, batch, key)[0]

    d, g = jax.jit(jax.vmap(both, axis_name="batch"))(
        jax.tree.map(lambda v: v[None], variables))
    return float(d[0]), float(g[0])


def test_vanilla_family_applies_diffaugment_in_both_losses():
    off, info = _dcgan_spec("none")
    on, _ = _dcgan_spec("color,translation,cutout")
    batch = registry.example_batch(info, 8)
    batch["x"] = _images(8)
    variables = off.init(jax.random.key(0), batch)
    key = jax.random.key(1)
    d_off, g_off = _losses(off, variables, batch, key)
    d_on, g_on = _losses(on, variables, batch, key)
    assert d_on != d_off and g_on != g_off
    # Keyed: the same step key gives the same augmented losses.
    assert _losses(on, variables, batch, key) == (d_on, g_on)


def test_g_gets_d_gradient_through_the_transforms():
    spec, info = _dcgan_spec("color,translation,cutout", d_norm="layer")
    batch = registry.example_batch(info, 8)
    batch["x"] = _images(8)
    variables = spec.init(jax.random.key(0), batch)

    def g_loss(params):
        return spec.g_loss({**variables, "g": {**variables["g"], "params": params}}, batch,
                           jax.random.key(1))[0]

    grads = jax.jit(jax.vmap(jax.grad(g_loss), axis_name="batch"))(
        jax.tree.map(lambda v: v[None], variables["g"]["params"]))
    assert all(np.all(np.isfinite(leaf)) for leaf in jax.tree.leaves(grads))
    assert float(jnp.abs(grads["deconv_out"]["kernel"]).max()) > 0


def test_vanilla_family_refuses_diffaugment_on_toy_data():
    config = toy_config()
    config.vanilla.diffaugment = "translation"
    with pytest.raises(GanJaxError, match="not image data"):
        registry.make_spec(config, registry.data_info(config))
