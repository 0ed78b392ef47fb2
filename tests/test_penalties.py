"""Tests for the regularisers and constraints of D: gan_jax.penalties (WGAN-GP, R1, R2) against
finite differences and closed forms, the penalties really being in D's gradient (the family's
d_loss and the trainer), spectral normalisation against numpy's SVD, weight clipping, and the
refusal of a penalty on a BatchNorm discriminator."""
import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import penalties, registry
from gan_jax.errors import GanJaxError
from gan_jax.gans import adversarial, vanilla
from gan_jax.nets.layers import SPECTRAL, StridedConv4x4, spectral
from tests.train.helpers import run_steps, toy_config

RNG = np.random.default_rng(1234)


def _f32(*shape, scale=1.0):
    """Random numbers exactly representable in float32 (so the float64 reference sees the very
    same inputs as the float32 implementation)."""
    return (scale * RNG.normal(size=shape)).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# A small MLP critic with numpy weights: D(x) = tanh(flat(x) W1 + b1) W2 + b2, two outputs per
# example (a PatchGAN-like map: the penalty's gradient is that of the sum of an example's
# outputs). The reference is float64 numpy with central differences, independent of JAX.

IN_SHAPE = (2, 3)          # per-example input, flattened to 6
W1, B1 = _f32(6, 8, scale=0.6), _f32(8, scale=0.3)
W2, B2 = _f32(8, 2, scale=0.8), _f32(2, scale=0.3)


def _np_critic_sum(x_flat):
    """sum of D's outputs for one flattened example, float64."""
    h = np.tanh(x_flat @ W1.astype(np.float64) + B1)
    return float(np.sum(h @ W2.astype(np.float64) + B2))


def _jax_critic(x):
    h = jnp.tanh(x.reshape((x.shape[0], -1)) @ W1 + B1)
    return h @ W2 + B2                                             # [B, 2]


def _fd_input_gradients(x, step=1e-6):
    """Central differences of sum D(x_i) w.r.t. x_i, one example at a time: [B, n] float64."""
    x = np.asarray(x, np.float64).reshape((x.shape[0], -1))
    grads = np.zeros_like(x)
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            e = np.zeros(x.shape[1])
            e[j] = step
            grads[i, j] = (_np_critic_sum(x[i] + e) - _np_critic_sum(x[i] - e)) / (2 * step)
    return grads


def _eps_reference(key, index):
    """The documented eps: U(0, 1) from fold_in(key, index_i), one per example."""
    return np.array([float(jax.random.uniform(jax.random.fold_in(key, int(i)))) for i in index])


def test_gradient_penalty_matches_finite_differences():
    b = 5
    real, fake = _f32(b, *IN_SHAPE), _f32(b, *IN_SHAPE, scale=2.0)
    index = np.array([3, 17, 0, 1_000_003, 42], np.int32)
    key = jax.random.key(7)
    gp = jax.jit(lambda r, f, i: penalties.wasserstein_gradient_penalty(_jax_critic, r, f, key, i))(
        real, fake, index)

    eps = _eps_reference(key, index).reshape((b, 1, 1))
    x_hat = real.astype(np.float64) + eps * (fake.astype(np.float64) - real)
    grads = _fd_input_gradients(x_hat)
    norms = np.sqrt(1e-10 + np.sum(grads ** 2, axis=1))
    want = np.mean((norms - 1.0) ** 2)
    assert want > 1e-2                                  # a penalty that is not trivially ~0
    np.testing.assert_allclose(gp, want, rtol=2e-5)
    # The input gradients themselves, against the same finite differences.
    got = penalties.input_gradients(_jax_critic, jnp.asarray(x_hat, jnp.float32))
    np.testing.assert_allclose(np.asarray(got).reshape(b, -1), grads, rtol=1e-4, atol=1e-6)


def test_interpolates_eps_per_example_in_unit_interval():
    b = 64
    real, fake = _f32(b, 2, 2, 1), _f32(b, 2, 2, 1) + 5.0          # fake - real never ~0
    index = np.arange(100, 100 + b, dtype=np.int32)
    key = jax.random.key(0)
    x_hat = np.asarray(penalties.interpolates(real, fake, key, index), np.float64)
    eps = (x_hat - real) / (fake.astype(np.float64) - real)        # [B, 2, 2, 1]
    flat = eps.reshape(b, -1)
    # One eps per example (every coordinate of an example moved by the same fraction) ...
    np.testing.assert_allclose(flat, flat[:, :1].repeat(flat.shape[1], 1), atol=1e-5)
    # ... in [0, 1], different across examples, and the documented U(0, 1) of fold_in(key, i).
    assert flat.min() >= -1e-6 and flat.max() <= 1 + 1e-6
    assert len(np.unique(np.round(flat[:, 0], 5))) == b
    np.testing.assert_allclose(flat[:, 0], _eps_reference(key, index), atol=1e-5)
    # Another key, other eps.
    other = np.asarray(penalties.interpolates(real, fake, jax.random.key(1), index))
    assert not np.allclose(other, x_hat)


def test_interpolates_depend_on_the_index_only():
    b = 12
    real, fake = _f32(b, 3), _f32(b, 3) + 4.0
    index = np.arange(b, dtype=np.int32) * 7 + 5
    key = jax.random.key(3)
    full = np.asarray(penalties.interpolates(real, fake, key, index))
    # The batch in another order: each example keeps its eps.
    perm = RNG.permutation(b)
    shuffled = np.asarray(penalties.interpolates(real[perm], fake[perm], key, index[perm]))
    np.testing.assert_array_equal(shuffled, full[perm])
    # Split over "devices": the halves give the full batch's rows.
    halves = [np.asarray(penalties.interpolates(real[s], fake[s], key, index[s]))
              for s in (slice(0, 5), slice(5, b))]
    np.testing.assert_array_equal(np.concatenate(halves), full)
    # The same example at another position of a different batch (other partners).
    alone = np.asarray(penalties.interpolates(real[7:8], fake[7:8], key, index[7:8]))
    np.testing.assert_array_equal(alone[0], full[7])


def test_eps_is_uniform():
    eps = np.asarray(penalties.interpolates(jnp.zeros((4000, 1)), jnp.ones((4000, 1)),
                                            jax.random.key(11), np.arange(4000)))[:, 0]
    assert eps.min() >= 0.0 and eps.max() <= 1.0
    assert abs(eps.mean() - 0.5) < 0.02 and abs(eps.var() - 1 / 12) < 0.01
    assert eps.min() < 0.005 and eps.max() > 0.995


@pytest.mark.parametrize("norm_w,want", [(3.0, 4.0), (1.0, 0.0), (0.5, 0.25)])
def test_gradient_penalty_linear_critic_closed_form(norm_w, want):
    # D(x) = w.x + b has |grad D| = |w| everywhere: GP = (|w| - 1)^2 whatever the interpolates.
    w = _f32(6)
    w = w / np.linalg.norm(w) * norm_w
    gp = penalties.wasserstein_gradient_penalty(
        lambda x: x.reshape((x.shape[0], -1)) @ w + 0.3, _f32(9, 2, 3), _f32(9, 2, 3),
        jax.random.key(0), np.arange(9))
    np.testing.assert_allclose(gp, want, rtol=1e-5, atol=1e-6)


def test_gradient_penalty_is_differentiable_at_zero_gradient():
    # TF-GAN's sqrt(1e-10 + |g|^2): a critic with zero input gradient gives a penalty of ~1 and
    # a finite gradient (the plain norm's derivative there is 0/0 = NaN).
    def gp(w):
        return penalties.wasserstein_gradient_penalty(lambda x: x @ w, _f32(4, 3), _f32(4, 3),
                                                      jax.random.key(0), np.arange(4))
    value, grad = jax.value_and_grad(gp)(jnp.zeros((3,)))
    np.testing.assert_allclose(value, (np.sqrt(1e-10) - 1.0) ** 2, rtol=1e-6)
    assert np.all(np.isfinite(grad))


@pytest.mark.parametrize("shape", [(5,), (2, 2, 1)])
def test_r1_r2_closed_forms(shape):
    b, n = 7, int(np.prod(shape))
    x = _f32(b, *shape)
    flat = x.reshape(b, n).astype(np.float64)
    # Linear D(x) = w.x + c: |grad|^2 = |w|^2 for every example.
    w = _f32(n)
    linear = lambda v: v.reshape((v.shape[0], -1)) @ w + 1.5  # noqa: E731
    np.testing.assert_allclose(penalties.r1_penalty(linear, x), np.sum(w.astype(float) ** 2),
                               rtol=1e-5)
    np.testing.assert_allclose(penalties.r2_penalty(linear, x), np.sum(w.astype(float) ** 2),
                               rtol=1e-5)
    # Quadratic D(x) = 1/2 x^T A x (A symmetric): grad = A x, R = mean_i |A x_i|^2.
    a = _f32(n, n)
    a = (a + a.T).astype(np.float32)
    quad = lambda v: 0.5 * jnp.einsum("bi,ij,bj->b", v.reshape((v.shape[0], -1)), a,  # noqa
                                      v.reshape((v.shape[0], -1)))
    want = np.mean(np.sum((flat @ a.astype(np.float64)) ** 2, axis=1))
    np.testing.assert_allclose(penalties.r1_penalty(quad, x), want, rtol=1e-5)
    # Two outputs per example, [sum sin x, sum x^2]: grad of their sum is cos x + 2x.
    two = lambda v: jnp.stack([jnp.sum(jnp.sin(v).reshape((v.shape[0], -1)), 1),  # noqa
                               jnp.sum((v * v).reshape((v.shape[0], -1)), 1)], 1)
    want = np.mean(np.sum((np.cos(flat) + 2 * flat) ** 2, axis=1))
    np.testing.assert_allclose(penalties.r2_penalty(two, x), want, rtol=1e-5)


# ---------------------------------------------------------------------------------------------
# The penalty is in D's gradient (not only computed and logged): the vanilla family's d_loss.

def _ring_spec(**loss):
    config = toy_config(name="ring", batch_size=16)
    config.model.d_activation = "elu"          # smooth: the penalties' gradients are rich
    for k, v in loss.items():
        setattr(config.loss, k, v)
    info = registry.data_info(config)
    spec = vanilla.make_spec(config, info)
    return config, info, spec


@functools.lru_cache(maxsize=None)
def _ring_variables():
    """G's and D's variables of the ring config (the same whatever loss.*: compiled once)."""
    _, info, spec = _ring_spec()
    return jax.jit(spec.init)(jax.random.key(0), registry.example_batch(info))


def _ring_batch(n=16):
    angles = 2 * np.pi * RNG.integers(0, 8, n) / 8
    x = 2.0 * np.stack([np.cos(angles), np.sin(angles)], 1) + 0.02 * RNG.normal(size=(n, 2))
    return {"x": jnp.asarray(x, jnp.float32), "index": jnp.arange(n, dtype=jnp.int32) + 40}


def _d_loss_and_grads(spec, variables, batch, key, metric=None):
    """(loss, metrics, d grads, grads of metrics[metric]) of the family's d_loss w.r.t. D's
    params (one compiled call: the reverse pass of [loss, metric] for both cotangents)."""
    @jax.jit
    def run(params):
        def total(p):
            loss, aux = spec.d_loss({**variables, "d": {**variables["d"], "params": p}}, batch,
                                    key)
            m = aux["metrics"]
            return jnp.stack([loss, m[metric] if metric else 0.0 * loss]), m

        out, vjp, metrics = jax.vjp(total, params, has_aux=True)
        (grads,) = jax.vmap(vjp)(jnp.eye(2))
        return out, metrics, grads

    out, metrics, grads = run(variables["d"]["params"])
    loss_grads = jax.tree.map(lambda g: g[0], grads)
    pen_grads = jax.tree.map(lambda g: g[1], grads) if metric else None
    return out[0], metrics, loss_grads, pen_grads


def _assert_tree_close(a, b, rtol=1e-4, atol_scale=1e-5):
    la, lb = jax.tree.leaves(a), jax.tree.leaves(b)
    scale = max(float(np.max(np.abs(x))) for x in la + lb)
    for x, y in zip(la, lb):
        np.testing.assert_allclose(x, y, rtol=rtol, atol=atol_scale * scale)


PENALTY_CASES = [  # (config key, value, metric, factor on the metric in D's loss)
    ("gp_weight", 10.0, "gradient_penalty", 10.0),
    ("r1_gamma", 10.0, "r1_penalty", 5.0),
    ("r2_gamma", 4.0, "r2_penalty", 2.0),
    ("drift", 0.1, "drift_penalty", 0.1),   # PGGAN's epsilon-drift (0.001 there)
]


@pytest.mark.parametrize("key_name,value,metric,factor", PENALTY_CASES)
def test_penalty_is_added_to_d_gradient(key_name, value, metric, factor):
    _, info, spec0 = _ring_spec(name="wasserstein")
    _, _, spec = _ring_spec(name="wasserstein", **{key_name: value})
    variables = _ring_variables()
    batch, key = _ring_batch(), jax.random.key(5)
    loss0, metrics0, grads0, _ = _d_loss_and_grads(spec0, variables, batch, key)
    loss, metrics, grads, pen_grads = _d_loss_and_grads(spec, variables, batch, key, metric)
    assert metric not in metrics0 and metric in metrics
    assert float(metrics[metric]) > 0
    # The penalty's own gradient is not zero (a detached penalty would pass the next check)...
    assert max(float(np.max(np.abs(g))) for g in jax.tree.leaves(pen_grads)) > 1e-3
    # ... and the loss and its gradient change by exactly factor x the penalty and its gradient.
    np.testing.assert_allclose(loss - loss0, factor * metrics[metric], rtol=1e-5)
    _assert_tree_close(jax.tree.map(lambda a, b: a - b, grads, grads0),
                       jax.tree.map(lambda g: factor * g, pen_grads))


@pytest.mark.parametrize("key_name,metric", [("r1_gamma", "r1_penalty"),
                                             ("r2_gamma", "r2_penalty")])
def test_r1_r2_metric_matches_independent_computation(key_name, metric):
    # R1 on the real batch / R2 on G(z) of the family's latent, each example's input gradient
    # taken one at a time (vmap of grad), not through gan_jax.penalties.
    config, info, spec = _ring_spec(**{key_name: 2.0})
    variables = _ring_variables()
    batch, key = _ring_batch(), jax.random.key(9)
    _, aux = jax.jit(spec.d_loss)(variables, batch, key)
    metrics = aux["metrics"]
    d_net = registry.discriminator("mlp", config, info)
    g_net = registry.generator("mlp", config, info)
    if metric == "r1_penalty":
        x = batch["x"]
    else:
        x = g_net.apply(variables["g"], spec.latent(key, batch["index"]), train=True)
    one = jax.grad(lambda v: d_net.apply(variables["d"], v[None], train=True)[0])
    want = np.mean(np.sum(np.asarray(jax.vmap(one)(x)) ** 2, axis=1))
    np.testing.assert_allclose(metrics[metric], want, rtol=1e-5)


def test_drift_metric_is_the_mean_squared_critic_output_on_real_data():
    config, info, spec = _ring_spec(name="wasserstein", drift=0.001)
    variables = _ring_variables()
    batch = _ring_batch()
    _, aux = jax.jit(spec.d_loss)(variables, batch, jax.random.key(3))
    d_net = registry.discriminator("mlp", config, info)
    want = np.mean(np.square(np.asarray(d_net.apply(variables["d"], batch["x"], train=True))))
    np.testing.assert_allclose(aux["metrics"]["drift_penalty"], want, rtol=1e-5)


def test_trainer_step_uses_the_gradient_penalty():
    def one_step(gp_weight):
        config = toy_config(name="ring", steps=1, batch_size=16)
        config.loss.name = "wasserstein"
        config.loss.gp_weight = gp_weight
        state, history, _ = run_steps(config, 1)
        return state, history[0]

    state0, _ = one_step(0.0)
    state, metrics = one_step(10.0)
    gp = np.asarray(metrics["gradient_penalty"])
    assert np.all(np.isfinite(gp)) and np.all(gp > 0)
    diff = max(float(np.max(np.abs(a - b))) for a, b in zip(
        jax.tree.leaves(state.d["params"]), jax.tree.leaves(state0.d["params"])))
    assert diff > 1e-4, diff


# ---------------------------------------------------------------------------------------------
# Spectral normalisation (gan_jax.nets.layers.spectral, flax's nn.SpectralNorm).

class _Spectral(nn.Module):
    make_layer: object
    train: bool = True

    @nn.compact
    def __call__(self, x):
        return spectral(self.make_layer(), True, self.train)(x)


def _power_iterate(module, x, iterations=2000):
    """D's layer applied `iterations` times in training mode (one power iteration each)."""
    variables = module.init(jax.random.key(0), x)

    @jax.jit
    def run(variables):
        def body(_, v):
            _, upd = module.apply(v, x, mutable=[SPECTRAL])
            return {**v, **upd}
        return jax.lax.fori_loop(0, iterations, body, variables)

    return variables, run(variables)


def _stored_sigma(variables):
    stats = jax.tree_util.tree_flatten_with_path(variables[SPECTRAL])[0]
    by_name = {jax.tree_util.keystr(path): np.asarray(v) for path, v in stats}
    sigma = [v for k, v in by_name.items() if k.endswith("sigma']")]
    assert len(sigma) == 1, by_name
    return float(sigma[0])


def test_spectral_norm_dense_sigma_and_unit_norm():
    module = _Spectral(lambda: nn.Dense(5))
    x = _f32(3, 7)
    init, trained = _power_iterate(module, x)
    kernel = np.asarray(trained["params"]["Dense_0"]["kernel"], np.float64)
    np.testing.assert_array_equal(kernel, init["params"]["Dense_0"]["kernel"])  # params untouched
    top = np.linalg.svd(kernel, compute_uv=False)[0]
    np.testing.assert_allclose(_stored_sigma(trained), top, rtol=1e-4)
    # The layer's effective kernel, read off its outputs on the basis vectors, is W / sigma:
    # spectral norm 1. In eval mode the stored statistics are not changed.
    eval_module = _Spectral(lambda: nn.Dense(5), train=False)
    basis = jnp.eye(7)
    effective = (np.asarray(eval_module.apply(trained, basis), np.float64)
                 - np.asarray(eval_module.apply(trained, jnp.zeros((1, 7))), np.float64))
    np.testing.assert_allclose(effective, kernel / top, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(np.linalg.svd(effective, compute_uv=False)[0], 1.0, rtol=1e-4)


def test_spectral_norm_conv_sigma_and_unit_norm():
    module = _Spectral(lambda: StridedConv4x4(6, use_bias=False, impl="xla"))
    x = _f32(2, 8, 8, 3)
    init, trained = _power_iterate(module, x)
    kernel = np.asarray(trained["params"]["StridedConv4x4_0"]["kernel"], np.float64)
    assert kernel.shape == (4, 4, 3, 6)
    top = np.linalg.svd(kernel.reshape(-1, 6), compute_uv=False)[0]
    np.testing.assert_allclose(_stored_sigma(trained), top, rtol=1e-4)
    assert abs(_stored_sigma(init) - top) > 0.1 * top   # one iteration at init is far from it
    # The layer computes the convolution with W / sigma_max(reshaped W).
    normalised = (kernel / top).astype(np.float32)
    assert abs(np.linalg.svd(normalised.reshape(-1, 6), compute_uv=False)[0] - 1) < 1e-5
    want = jax.lax.conv_general_dilated(x, normalised, (2, 2), ((1, 1), (1, 1)),
                                        dimension_numbers=("NHWC", "HWIO", "NHWC"))
    got = _Spectral(lambda: StridedConv4x4(6, use_bias=False, impl="xla"),
                    train=False).apply(trained, x)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def _d_variable_shapes(arch, spectral_norm, **model):
    config = toy_config(name="ring" if arch == "mlp" else "mnist_offline")
    config.model.arch = arch
    config.model.spectral_norm = spectral_norm
    config.model.g_width = config.model.d_width = 8
    for k, v in model.items():
        setattr(config.model, k, v)
    info = registry.data_info(config)
    spec = vanilla.make_spec(config, info)
    return jax.eval_shape(spec.init, jax.random.key(0), registry.example_batch(info))["d"]


@pytest.mark.parametrize("arch", ["mlp", "dcgan"])
def test_spectral_collection_present_only_when_enabled(arch):
    on = _d_variable_shapes(arch, True)
    off = _d_variable_shapes(arch, False)
    assert SPECTRAL in on and SPECTRAL not in off
    # A u vector and a sigma for every kernel of D.
    n_kernels = sum(1 for path, _ in jax.tree_util.tree_flatten_with_path(on["params"])[0]
                    if jax.tree_util.keystr(path).endswith("['kernel']"))
    names = [jax.tree_util.keystr(p) for p, _ in
             jax.tree_util.tree_flatten_with_path(on[SPECTRAL])[0]]
    assert sum(n.endswith("/sigma']") for n in names) == n_kernels
    assert sum(n.endswith("/u']") for n in names) == n_kernels
    # Same parameters either way: spectral normalisation adds no parameters.
    assert jax.tree.map(lambda s: s.shape, on["params"]) == jax.tree.map(lambda s: s.shape,
                                                                         off["params"])


def test_trainer_updates_spectral_statistics():
    # The trainer keeps D's power-iteration vectors: they move from their initial values, stay
    # finite, and u stays a unit vector (it is averaged over devices like BatchNorm statistics).
    from gan_jax.train.loop import build_run, host_batches
    from gan_jax.train.parallel import select_devices
    config = toy_config(name="ring", steps=3, steps_per_call=3, batch_size=16)
    config.loss.name = "hinge"
    config.model.spectral_norm = True
    data, _, state, mapper = build_run(config, select_devices(1))
    before = jax.device_get(state.d[SPECTRAL])
    batch, _ = host_batches(data, 0, config.train)
    state, metrics = mapper(mapper.put_state(state), batch)
    after = jax.device_get(state.d[SPECTRAL])
    assert jax.tree.structure(before) == jax.tree.structure(after)
    paths = [jax.tree_util.keystr(p) for p, _ in jax.tree_util.tree_flatten_with_path(after)[0]]
    changed = 0
    for path, b, a in zip(paths, jax.tree.leaves(before), jax.tree.leaves(after)):
        assert a.shape == b.shape and np.all(np.isfinite(a)), path
        if path.endswith("/u']"):
            np.testing.assert_allclose(np.linalg.norm(a), 1.0, rtol=1e-5, err_msg=path)
        changed += not np.allclose(a, b)
    assert changed >= len(paths) // 2, (changed, paths)
    assert np.all(np.isfinite(jax.device_get(metrics["d_loss"])))


# ---------------------------------------------------------------------------------------------
# Weight clipping (the original WGAN's constraint on D).

def test_clip_weights_function():
    adv = adversarial.Adversarial(adversarial.losses.get_loss("wasserstein"), weight_clip=0.5)
    tree = {"a": jnp.array([-2.0, -0.5, 0.1, 0.7]), "b": {"c": jnp.array([[3.0]])}}
    out = adversarial.clip_weights(adv)(tree)
    np.testing.assert_array_equal(out["a"], np.float32([-0.5, -0.5, 0.1, 0.5]))
    np.testing.assert_array_equal(out["b"]["c"], np.float32([[0.5]]))
    assert adversarial.clip_weights(adv._replace(weight_clip=0.0)) is None


def test_weight_clipping_bounds_every_d_param_after_training():
    c = 0.01
    config = toy_config(name="ring", steps=4, steps_per_call=4, batch_size=16)
    config.loss.name = "wasserstein"
    config.loss.weight_clip = c
    state, history, _ = run_steps(config, 1)
    bound = np.float32(c)
    d_leaves = jax.tree.leaves(state.d["params"])
    for p in d_leaves:
        p = np.asarray(p)
        assert p.dtype == np.float32
        assert np.all(p >= -bound) and np.all(p <= bound), (p.min(), p.max())
    # The bound is reached (the default initialisation is far wider than 0.01) ...
    assert any(np.any(np.abs(np.asarray(p)) == bound) for p in d_leaves)
    # ... and G is not clipped.
    assert max(float(np.max(np.abs(p))) for p in jax.tree.leaves(state.g["params"])) > 10 * c
    assert np.all(np.isfinite(history[0]["d_loss"]))


# ---------------------------------------------------------------------------------------------
# A penalty on a BatchNorm discriminator is refused; any other D is accepted.

def _build(arch, **settings):
    config = toy_config(name="ring" if arch == "mlp" else "mnist_offline")
    config.model.arch = arch
    config.model.g_width = config.model.d_width = 8
    for key, value in settings.items():
        section, name = key.split("__")
        setattr(config[section], name, value)
    return vanilla.make_spec(config, registry.data_info(config))


@pytest.mark.parametrize("penalty", ["gp_weight", "r1_gamma", "r2_gamma"])
@pytest.mark.parametrize("arch,bn", [("mlp", {"model__d_batch_norm": True}),
                                     ("dcgan", {"model__d_norm": "batch"})])
def test_penalty_with_batch_norm_d_is_refused(penalty, arch, bn):
    with pytest.raises(GanJaxError, match=rf"loss\.{penalty}.*BatchNorm") as info:
        _build(arch, **bn, **{f"loss__{penalty}": 1.0})
    assert "d_norm='layer'" in str(info.value)


@pytest.mark.parametrize("arch,settings", [
    ("mlp", {"model__d_batch_norm": False}),
    ("dcgan", {"model__d_norm": "layer"}),
    ("dcgan", {"model__d_norm": "none"}),
])
def test_penalty_without_batch_norm_is_accepted(arch, settings):
    spec = _build(arch, **settings, loss__gp_weight=10.0, loss__r1_gamma=1.0, loss__r2_gamma=1.0)
    assert spec.d_loss is not None


def test_weight_clip_with_batch_norm_is_accepted_and_negative_settings_refused():
    assert _build("mlp", model__d_batch_norm=True, loss__weight_clip=0.01).d_constraint
    for key in ("gp_weight", "r1_gamma", "r2_gamma", "weight_clip", "drift"):
        with pytest.raises(GanJaxError, match=rf"loss\.{key}=-1"):
            _build("mlp", **{f"loss__{key}": -1.0})
