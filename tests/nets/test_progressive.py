"""PGGAN's networks and layers (gan_jax.nets.progressive, progressive_layers): the fade-in at
alpha 0 and 1, one parameter structure at every level, the equalized learning rate, pixel norm
and the minibatch standard deviation against numpy."""
import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.errors import GanJaxError
from gan_jax.nets.progressive import (ProgressiveDiscriminator, ProgressiveGenerator,
                                      level_channels)
from gan_jax.nets.progressive_layers import (EqualizedConv, EqualizedDense, downsample2x,
                                             he_constant, minibatch_stddev, pixel_norm,
                                             upsample2x)

CHANNELS = (8, 8, 4, 4)            # levels 4, 8, 16, 32


@pytest.fixture(scope="module")
def nets():
    g = ProgressiveGenerator(CHANNELS, 1, conv_impl="xla")
    d = ProgressiveDiscriminator(CHANNELS, conv_impl="xla")
    z = jax.random.normal(jax.random.key(0), (8, 16))
    x = jax.random.uniform(jax.random.key(1), (8, 32, 32, 1), minval=-1, maxval=1)
    return g, d, g.init(jax.random.key(2), z, 3, 1.0), d.init(jax.random.key(3), x, 3, 1.0), z, x


def _perturbed(variables, layer):
    """The variables with `layer`'s parameters changed."""
    params = dict(variables["params"])
    params[layer] = jax.tree.map(lambda p: p + 1.0, params[layer])
    return {"params": params}


@pytest.mark.parametrize("level", [1, 2, 3])
def test_generator_fade_in_is_exact_at_alpha_0_and_1(nets, level):
    g, _, gv, _, z, _ = nets
    # alpha 0: exactly the smaller network's output, upsampled (eager: the same kernels)
    smaller = g.apply(gv, z, level - 1, 1.0)
    out0 = g.apply(gv, z, level, 0.0)
    chex.assert_shape(out0, (8, 4 * 2 ** level, 4 * 2 ** level, 1))
    np.testing.assert_array_equal(out0, upsample2x(smaller))
    np.testing.assert_array_equal(out0, g.apply(_perturbed(gv, f"to_rgb{level}"), z, level, 0.0))
    # alpha 1: the new block's toRGB alone (the old toRGB has no influence)
    out1 = g.apply(gv, z, level, 1.0)
    np.testing.assert_array_equal(out1, g.apply(_perturbed(gv, f"to_rgb{level - 1}"), z, level,
                                                1.0))
    assert not np.allclose(out1, out0)
    # in between: the linear blend
    half = g.apply(gv, z, level, 0.25)
    np.testing.assert_allclose(half, 0.75 * out0 + 0.25 * out1, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("level", [1, 2, 3])
def test_discriminator_fade_in_is_exact_at_alpha_0_and_1(nets, level):
    _, d, _, dv, _, x = nets
    r = 4 * 2 ** level
    xl = x
    for _ in range(3 - level):
        xl = downsample2x(xl)
    chex.assert_shape(xl, (8, r, r, 1))
    out0 = d.apply(dv, xl, level, 0.0)
    chex.assert_shape(out0, (8, 1))
    np.testing.assert_array_equal(out0, d.apply(dv, downsample2x(xl), level - 1, 1.0))
    np.testing.assert_array_equal(out0, d.apply(_perturbed(dv, f"from_rgb{level}"), xl, level, 0.0))
    out1 = d.apply(dv, xl, level, 1.0)
    np.testing.assert_array_equal(
        out1, d.apply(_perturbed(dv, f"from_rgb{level - 1}"), xl, level, 1.0))


def test_every_level_has_the_same_parameter_tree(nets):
    g, d, gv, dv, z, x = nets
    for level in range(4):
        r = 4 * 2 ** level
        g_l = g.init(jax.random.key(2), z, level, 1.0)
        d_l = d.init(jax.random.key(3), x[:, :r, :r], level, 1.0)
        chex.assert_trees_all_equal_shapes(g_l, gv)
        chex.assert_trees_all_equal_shapes(d_l, dv)
    assert {f"to_rgb{lv}" for lv in range(4)} <= set(gv["params"])
    assert {f"from_rgb{lv}" for lv in range(4)} | {"block1_conv0", "block3_conv1"} <= set(
        dv["params"])
    with pytest.raises(GanJaxError, match="level 4 does not exist"):
        g.apply(gv, z, 4, 1.0)
    with pytest.raises(GanJaxError, match=r"D at level 2 takes \[N, 16, 16, C\]"):
        d.apply(dv, x, 2, 1.0)


def test_level_channels_follow_the_paper():
    # the paper's 1024x1024 network: fmap_base 8192, fmap_max 512
    assert level_channels(9, 8192, 512) == (512, 512, 512, 512, 256, 128, 64, 32, 16)
    assert level_channels(4, 512, 128) == (128, 128, 64, 32)


def test_equalized_learning_rate_scales_at_run_time():
    x = jax.random.normal(jax.random.key(0), (4096, 256))
    layer = EqualizedDense(64)
    v = layer.init(jax.random.key(1), x)
    w = v["params"]["kernel"]
    # the parameter the optimizer sees is N(0, 1); the layer computes with c * w, c = sqrt(2/256)
    assert abs(float(jnp.std(w)) - 1.0) < 0.03
    c = he_constant(256)
    np.testing.assert_allclose(c, np.sqrt(2.0 / 256))
    np.testing.assert_allclose(layer.apply(v, x), x @ (c * w), rtol=1e-5, atol=1e-5)
    # He's variance at the output: var(y) = fan_in c^2 var(x) = 2
    assert abs(float(jnp.var(layer.apply(v, x))) - 2.0) < 0.1
    # the gradient w.r.t. the stored parameter is c times the effective weight's
    loss = lambda p: jnp.sum(jnp.sin(layer.apply({"params": p}, x[:8])))  # noqa: E731
    g_param = jax.grad(loss)(v["params"])["kernel"]
    g_eff = jax.grad(lambda we: jnp.sum(jnp.sin(x[:8] @ we)))(c * w)
    np.testing.assert_allclose(g_param, c * g_eff, rtol=1e-5, atol=1e-7)
    # switched off: the parameter itself is initialised N(0, c^2) and used as it is
    plain = EqualizedDense(64, equalized=False)
    vp = plain.init(jax.random.key(1), x)
    assert abs(float(jnp.std(vp["params"]["kernel"])) / c - 1.0) < 0.03
    np.testing.assert_allclose(plain.apply(vp, x), x @ vp["params"]["kernel"], rtol=1e-5,
                               atol=1e-5)


def test_equalized_conv_is_a_same_convolution_of_the_scaled_kernel():
    x = jax.random.normal(jax.random.key(0), (2, 8, 8, 5))
    for k, impl in ((3, "xla"), (3, "fast"), (1, "xla")):
        layer = EqualizedConv(6, k, impl=impl)
        v = layer.init(jax.random.key(1), x)
        w = v["params"]["kernel"] * he_constant(k * k * 5)
        want = jax.lax.conv_general_dilated(x, w, (1, 1), "SAME",
                                            dimension_numbers=("NHWC", "HWIO", "NHWC"))
        np.testing.assert_allclose(layer.apply(v, x), want, rtol=1e-4, atol=1e-5)


def test_pixel_norm_against_numpy():
    x = np.random.default_rng(0).normal(size=(3, 4, 4, 7)).astype(np.float32) * 5
    want = x / np.sqrt(np.mean(x ** 2, axis=-1, keepdims=True) + 1e-8)
    np.testing.assert_allclose(pixel_norm(jnp.asarray(x)), want, rtol=1e-5)
    np.testing.assert_allclose(np.mean(np.asarray(pixel_norm(jnp.asarray(x))) ** 2, -1), 1.0,
                               rtol=1e-5)


def test_minibatch_stddev_against_numpy():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(8, 3, 3, 5)).astype(np.float32)
    out = np.asarray(minibatch_stddev(jnp.asarray(x), 4))
    chex.assert_shape(out, (8, 3, 3, 6))
    np.testing.assert_array_equal(out[..., :5], x)
    for group in range(2):
        members = x[4 * group:4 * group + 4].astype(np.float64)
        want = np.mean(np.sqrt(members.var(axis=0) + 1e-8))
        np.testing.assert_allclose(out[4 * group:4 * group + 4, :, :, 5], want, rtol=1e-5)
    # consecutive groups: a batch split in two (two devices) gives the same maps
    halves = np.concatenate([np.asarray(minibatch_stddev(jnp.asarray(x[:4]), 4)),
                             np.asarray(minibatch_stddev(jnp.asarray(x[4:]), 4))])
    np.testing.assert_array_equal(out, halves)
    with pytest.raises(GanJaxError, match="multiple of 4"):
        minibatch_stddev(jnp.asarray(x[:6]), 4)
    # a smaller batch than the group: one group of all
    np.testing.assert_allclose(np.asarray(minibatch_stddev(jnp.asarray(x[:2]), 4))[0, 0, 0, 5],
                               np.mean(np.sqrt(x[:2].astype(np.float64).var(axis=0) + 1e-8)),
                               rtol=1e-5)
