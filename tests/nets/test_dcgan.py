"""Tests for gan_jax.nets.dcgan: shapes, the paper's layer structure and initialisation,
cross-device BatchNorm under a named axis, sub-pixel vs XLA transposed convolutions, bad input.

Compiling is the cost here (XLA:CPU spends seconds on each network's init, mostly in the random
normal draws), so shape and structure checks use `jax.eval_shape` (no compile) and only a few
tests run real numbers, each in one jitted program.
"""
import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.errors import GanJaxError
from gan_jax.nets.dcgan import (ConvTranspose2D, DCGANDiscriminator, DCGANGenerator,
                                resolve_impl)
from gan_jax.ops.conv_transpose import conv_transpose_matrix

LATENT, BASE, BATCH = 8, 8, 2
SHAPES = [(28, 28, 1), (32, 32, 1), (32, 32, 3), (64, 64, 3)]
# (G BatchNorms, G transposed convs, D BatchNorms, D strided convs) per image side.
STRUCTURE = {28: (2, 2, 1, 2), 32: (3, 3, 2, 3), 64: (4, 4, 3, 4)}
# XLA's backend optimisations multiply the compile time of these one-off programs and do not
# change what is computed.
jit = functools.partial(jax.jit, compiler_options={"xla_backend_optimization_level": 0})


def _nets(shape, **g_kwargs):
    return DCGANGenerator(shape, base_width=BASE, **g_kwargs), DCGANDiscriminator(base_width=BASE)


def _build(g, d, key):
    """Init both nets and run them in eval mode: (g_vars, d_vars, z, G(z), D(G(z)))."""
    k_g, k_d, k_z = jax.random.split(key, 3)
    z = jax.random.normal(k_z, (BATCH, LATENT))
    g_vars = g.init(k_g, z, train=False)
    x = g.apply(g_vars, z, train=False)
    d_vars = d.init(k_d, x, train=False)
    return g_vars, d_vars, z, x, d.apply(d_vars, x, train=False)


@functools.lru_cache(maxsize=None)
def _abstract(shape):
    """`_build`'s output shapes and dtypes, traced only."""
    return jax.eval_shape(functools.partial(_build, *_nets(shape)), jax.random.key(0))


@functools.lru_cache(maxsize=None)
def _real_32():
    """`_build` for 32x32x3, computed (cached: shared by the tests that need numbers)."""
    return jit(functools.partial(_build, *_nets((32, 32, 3))))(jax.random.key(0))


def _flat(tree):
    return {"/".join(str(getattr(k, "key", getattr(k, "idx", k))) for k in path): v
            for path, v in jax.tree_util.tree_flatten_with_path(tree)[0]}


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_shapes_and_dtypes(shape):
    *_, x, logits = _abstract(shape)
    chex.assert_shape(x, (BATCH, *shape))
    chex.assert_type(x, jnp.float32)
    chex.assert_shape(logits, (BATCH,))
    chex.assert_type(logits, jnp.float32)


def test_values():
    _, _, _, x, logits = _real_32()
    chex.assert_tree_all_finite((x, logits))
    assert float(jnp.max(jnp.abs(x))) <= 1.0
    assert float(jnp.std(x)) > 0


@pytest.mark.parametrize("side", [28, 32, 64])
def test_layer_structure(side):
    shape = {28: (28, 28, 1), 32: (32, 32, 3), 64: (64, 64, 3)}[side]
    g_vars, d_vars, *_ = _abstract(shape)
    g_bn, g_deconv, d_bn, d_conv = STRUCTURE[side]
    gp, dp = g_vars["params"], d_vars["params"]
    # G: project (no bias) -> BN, hidden deconvs (no bias) -> BN, output deconv (bias, no BN).
    assert sorted(g_vars["batch_stats"]) == sorted(
        ["bn_project"] + [f"bn_{i}" for i in range(g_bn - 1)])
    assert sorted(k for k in gp if k.startswith("deconv")) == sorted(
        [f"deconv_{i}" for i in range(g_deconv - 1)] + ["deconv_out"])
    assert "bias" not in gp["project"] and "bias" in gp["deconv_out"]
    assert all("bias" not in gp[f"deconv_{i}"] for i in range(g_deconv - 1))
    start = 7 if side == 28 else 4
    chex.assert_shape(gp["project"]["kernel"], (LATENT, start * start * BASE * 2 ** (g_bn - 1)))
    chex.assert_shape(gp[f"deconv_{g_deconv - 2}"]["kernel"], (4, 4, 2 * BASE, BASE))
    chex.assert_shape(gp["deconv_out"]["kernel"], (4, 4, BASE, shape[-1]))
    # D: no BN on the first conv, BN on the others, one final conv over the remaining extent.
    assert len(d_vars["batch_stats"]) == d_bn
    assert sorted(d_vars["batch_stats"]) == [f"bn_{i}" for i in range(1, d_conv)]
    assert sorted(dp) == sorted([f"conv_{i}" for i in range(d_conv)]
                                + [f"bn_{i}" for i in range(1, d_conv)] + ["logit"])
    assert "bias" in dp["conv_0"] and all("bias" not in dp[f"conv_{i}"] for i in range(1, d_conv))
    chex.assert_shape(dp["conv_0"]["kernel"], (4, 4, shape[-1], BASE))
    chex.assert_shape(dp["logit"]["kernel"], (start, start, BASE * 2 ** (d_conv - 1), 1))


def test_init_statistics():
    g_vars, d_vars, *_ = _real_32()
    for name, tree in (("G", g_vars["params"]), ("D", d_vars["params"])):
        for path, v in _flat(tree).items():
            v = np.asarray(v)
            if path.endswith("kernel"):                   # N(0, 0.02); >= 384 entries each
                assert abs(v.std() - 0.02) < 0.004, (name, path, v.std())
                assert abs(v.mean()) < 0.004, (name, path, v.mean())
            elif path.endswith("bias"):
                np.testing.assert_array_equal(v, 0.0)
            elif path.endswith("scale"):                  # BatchNorm scale ~ N(1, 0.02)
                assert 0.9 < v.min() and v.max() < 1.1 and v.std() > 0, (name, path)
    for path, v in _flat((g_vars["batch_stats"], d_vars["batch_stats"])).items():
        np.testing.assert_array_equal(v, 0.0 if path.endswith("mean") else 1.0)


def test_train_mode_batch_norm_over_named_axis():
    """Under vmap(axis_name='batch') the BN statistics span all shards: 2 shards of 2 examples
    give the output and new running statistics of one batch of 4 with no axis."""
    g, d = _nets((28, 28, 1))

    @jit
    def run(key):
        k_g, k_d, k_z = jax.random.split(key, 3)
        z = jax.random.normal(k_z, (4, LATENT))
        g_vars = g.init(k_g, z, train=False)
        d_vars = d.init(k_d, jnp.zeros((1, 28, 28, 1)), train=False)

        def g_train(module, z):
            return module.apply(g_vars, z, train=True, mutable=["batch_stats"])

        sharded = jax.vmap(functools.partial(g_train, g), axis_name="batch")(z.reshape(2, 2, -1))
        x, upd = g_train(g.clone(axis_name=None), z)
        d_out = jax.vmap(lambda x: d.apply(d_vars, x, train=True, mutable=["batch_stats"]),
                         axis_name="batch")(x.reshape(2, 2, 28, 28, 1))
        return sharded, (x, upd), d_out, d_vars

    (x_sh, upd_sh), (x, upd), (logits, d_upd), d_vars = run(jax.random.key(1))
    chex.assert_trees_all_close(x_sh.reshape(x.shape), x, atol=1e-5)
    chex.assert_trees_all_close(jax.tree.map(lambda a: a[0], upd_sh), upd, atol=1e-5)
    assert not np.allclose(upd["batch_stats"]["bn_project"]["mean"], 0.0)
    assert float(jnp.max(jnp.abs(x))) <= 1.0
    chex.assert_shape(logits, (2, 2))
    chex.assert_type(logits, jnp.float32)
    chex.assert_tree_all_finite(logits)
    chex.assert_trees_all_equal_structs(jax.tree.map(lambda a: a[0], d_upd),
                                        {"batch_stats": d_vars["batch_stats"]})


G_IMPLS = ("xla", "subpixel", "winograd", "gemm", "fast")
D_IMPLS = ("xla", "winograd", "gemm", "fast")


def test_fast_picks_per_layer_on_cpu():
    assert jax.default_backend() == "cpu"
    assert resolve_impl("fast", 64, 1) == "gemm" and resolve_impl("fast", 3, 64) == "gemm"
    assert resolve_impl("fast", 128, 64) == "winograd"
    assert resolve_impl("fast", 128, 64, pixels=1024) == "winograd"
    # layers with few pixels (the U-Net's inner ones): one GEMM beats the Winograd transforms
    assert resolve_impl("fast", 512, 512, pixels=512) == "gemm"
    assert resolve_impl("xla", 128, 64) == "xla"


def test_conv_impls_agree():
    """G with subpixel, winograd and xla transposed convolutions, D with XLA's and the Winograd
    strided convolution: the same numbers (train mode, so BatchNorm normalises)."""
    g, d = _nets((32, 32, 3), axis_name=None)
    g_vars, d_vars, z, x, _ = _real_32()

    @jit
    def all_impls(g_vars, d_vars, z, x):
        ys = [g.clone(conv_impl=impl).apply(g_vars, z, train=True, mutable=["batch_stats"])[0]
              for impl in G_IMPLS]
        logits = [DCGANDiscriminator(base_width=BASE, axis_name=None, conv_impl=impl).apply(
            d_vars, x, train=True, mutable=["batch_stats"])[0] for impl in D_IMPLS]
        return ys, logits

    ys, logits = all_impls(g_vars, d_vars, z, x)
    for y in ys[1:]:
        chex.assert_trees_all_close(y, ys[0], atol=1e-5)
    for logit in logits[1:]:
        chex.assert_trees_all_close(logit, logits[0], atol=1e-5)
    y_sub = ys[0]
    assert float(jnp.std(y_sub)) > 1e-2


def test_conv_transpose_layer_matches_reference():
    x = jax.random.normal(jax.random.key(2), (1, 4, 4, 3))
    layer = ConvTranspose2D(5)

    @jit
    def run(key, x):
        params = jax.tree.map(lambda p: p + 0.1, layer.init(key, x))   # non-zero bias
        p = params["params"]
        return p, layer.apply(params, x), conv_transpose_matrix(x, p["kernel"], 2, 1) + p["bias"]

    p, y, ref = run(jax.random.key(3), x)
    chex.assert_shape(p["kernel"], (4, 4, 3, 5))
    chex.assert_shape(y, (1, 8, 8, 5))
    chex.assert_trees_all_close(y, ref, atol=1e-5)


@pytest.mark.parametrize("shape, match", [
    ((48, 48, 3), "side"), ((32, 28, 1), "square"), ((32, 32), r"\(H, W, C\)"),
])
def test_generator_bad_image_shape(shape, match):
    with pytest.raises(GanJaxError, match=match):
        DCGANGenerator(shape, base_width=BASE).init(jax.random.key(0), jnp.zeros((1, LATENT)))


@pytest.mark.parametrize("x, match", [
    (jnp.zeros((2, 32, 32)), r"\[B, H, W, C\]"),
    (jnp.zeros((2, 16, 16, 1)), "side"),
    (jnp.zeros((2, 32, 64, 3)), "square"),
    (jnp.zeros((2, 32, 32, 1), jnp.uint8), "float"),
])
def test_discriminator_bad_input(x, match):
    with pytest.raises(GanJaxError, match=match):
        DCGANDiscriminator(base_width=BASE).init(jax.random.key(0), x)


def test_generator_bad_latent_and_impl():
    with pytest.raises(GanJaxError, match="latent"):
        DCGANGenerator((28, 28, 1)).init(jax.random.key(0), jnp.zeros((2, 4, 4)))
    with pytest.raises(GanJaxError, match="conv_impl"):
        DCGANGenerator((28, 28, 1), conv_impl="fft").init(jax.random.key(0), jnp.zeros((2, 8)))


def _dot_and_conv_dtypes(fn, *args):
    """The operand dtypes of every dot_general / conv in ``fn``'s jaxpr (sub-jaxprs included)."""
    found = set()

    def walk(jaxpr):
        for eqn in jaxpr.eqns:
            if eqn.primitive.name in ("dot_general", "conv_general_dilated"):
                found.update(str(v.aval.dtype) for v in eqn.invars)
            for sub in jax.core.jaxprs_in_params(eqn.params):
                walk(sub)

    walk(jax.make_jaxpr(fn)(*args).jaxpr)
    return found


@pytest.mark.parametrize("impl", ["fast", "xla"])
def test_bfloat16_compute_mode(impl):
    """compute_dtype='bfloat16': float32 parameters and outputs, every GEMM/conv in bfloat16,
    and the numbers within bfloat16 rounding of the float32 nets with the same parameters."""
    shape = (32, 32, 1)
    g32, d32 = (DCGANGenerator(shape, base_width=BASE, axis_name=None, conv_impl=impl),
                DCGANDiscriminator(base_width=BASE, axis_name=None, conv_impl=impl))
    g16, d16 = (g32.clone(compute_dtype="bfloat16"), d32.clone(compute_dtype="bfloat16"))
    g_vars, d_vars, z, *_ = _abstract(shape)
    chex.assert_trees_all_equal_dtypes(jax.eval_shape(g16.init, jax.random.key(0), z), g_vars)

    def forward(g, d, g_vars, d_vars, z):
        x, _ = g.apply(g_vars, z, train=True, mutable=["batch_stats"])
        logits, _ = d.apply(d_vars, x, train=True, mutable=["batch_stats"])
        return x, logits

    def d_grad(d, d_vars, x):
        return jax.grad(lambda p: jnp.sum(d.apply({**d_vars, "params": p}, x, train=True,
                                                  mutable=["batch_stats"])[0]))(d_vars["params"])

    @jit
    def run(key):
        k_g, k_d, k_z = jax.random.split(key, 3)
        z = jax.random.normal(k_z, (16, LATENT))
        g_vars = g32.init(k_g, z, train=False)
        d_vars = d32.init(k_d, g32.apply(g_vars, z, train=False), train=False)
        x32, l32 = forward(g32, d32, g_vars, d_vars, z)
        x16, l16 = forward(g16, d16, g_vars, d_vars, z)
        return g_vars, d_vars, z, x32, l32, x16, l16, d_grad(d16, d_vars, x32)

    g_vars, d_vars, z, x32, l32, x16, l16, grads = run(jax.random.key(5))
    assert _dot_and_conv_dtypes(functools.partial(forward, g16, d16), g_vars, d_vars, z) == \
        {"bfloat16"}
    assert _dot_and_conv_dtypes(functools.partial(forward, g32, d32), g_vars, d_vars, z) == \
        {"float32"}
    chex.assert_type([x16, l16], jnp.float32)
    chex.assert_trees_all_equal_dtypes(grads, d_vars["params"])
    chex.assert_tree_all_finite(grads)
    # bfloat16 keeps 8 significant bits (relative rounding 2^-9 per value); through 3+3 layers
    # with BatchNorm the images stay within a few hundredths.
    np.testing.assert_allclose(x16, x32, atol=0.05)
    np.testing.assert_allclose(l16, l32, atol=0.05 * float(jnp.max(jnp.abs(l32))) + 0.05)
    assert float(jnp.max(jnp.abs(x16 - x32))) > 0       # it really ran in bfloat16


def test_bad_compute_dtype():
    with pytest.raises(GanJaxError, match="compute_dtype"):
        DCGANGenerator((28, 28, 1), compute_dtype="float16").init(jax.random.key(0),
                                                                  jnp.zeros((2, 8)))
