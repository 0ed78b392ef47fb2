"""The vanilla family's options against mode collapse: PacGAN's packing (`vanilla.pack`), the
Unrolled GAN (`vanilla.unroll_steps`) and the minibatch standard deviation (`model.mbstd_group`).

Each is checked where it could silently do nothing: the packing against numpy; D's input width;
D's loss against the loss of D on hand-packed batches; the unrolled G step against an independent
computation (optax Adam unrolled by hand, jax.grad through it) and against the plain G step it
must differ from; n devices = 1 device; the mbstd feature against numpy; and a smoke run of
experiments/mode_collapse.py.
"""
import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from gan_jax import registry
from gan_jax.config import base_config, optimizer
from gan_jax.errors import GanJaxError
from gan_jax.gans import packing
from gan_jax.nets.progressive_layers import minibatch_stddev
from gan_jax.train.loop import build_run, host_batches
from gan_jax.train.parallel import select_devices


def ring_config(**options):
    c = base_config()
    c.data.name = "ring"
    c.model.latent_dim = 4
    c.model.g_hidden = c.model.d_hidden = (16,)
    c.model.g_output = "linear"
    c.optim.g = optimizer("adam", lr=1e-2, b1=0.5)
    c.optim.d = optimizer("adam", lr=1e-2, b1=0.5)
    t = c.train
    t.steps, t.batch_size, t.steps_per_call, t.progress = 3, 16, 1, False
    t.log_every = t.sample_every = t.ckpt_every = 1
    for key, value in options.items():
        section, name = key.split(".")
        c[section][name] = value
    return c


def run_steps(config, num_devices=1, steps=None):
    """The state after `steps` (default train.steps) trainer steps on `num_devices` devices."""
    data, spec, state, mapper = build_run(config, select_devices(num_devices))
    state, position = mapper.put_state(state), 0
    for _ in range(steps or config.train.steps):
        batch, position = host_batches(data, position, config.train)
        state, _ = mapper(state, batch)
    return jax.device_get(state)


# --- PacGAN --------------------------------------------------------------------------------

def test_pack_against_numpy():
    x = np.random.default_rng(0).normal(size=(6, 3, 3, 2)).astype(np.float32)
    out = np.asarray(packing.pack(jnp.asarray(x), 3))
    chex.assert_shape(out, (2, 3, 3, 6))
    for j in range(2):
        np.testing.assert_array_equal(out[j], np.concatenate(list(x[3 * j:3 * j + 3]), axis=-1))
    v = np.arange(12, dtype=np.float32).reshape(6, 2)
    np.testing.assert_array_equal(np.asarray(packing.pack(jnp.asarray(v), 2)),
                                  v.reshape(3, 4))
    assert packing.pack(jnp.asarray(v), 1) is not None
    np.testing.assert_array_equal(np.asarray(packing.pack_alike(jnp.asarray(v), 2)),
                                  np.concatenate([v, v], -1))
    np.testing.assert_array_equal(np.asarray(packing.packed_index(jnp.arange(6), 3)), [0, 3])
    with pytest.raises(GanJaxError, match="multiple of 4"):
        packing.pack(jnp.asarray(v), 4)


def test_packed_d_sees_m_samples_and_its_loss_is_the_packed_one():
    config = ring_config(**{"vanilla.pack": 2})
    data = registry.data_info(config)
    spec = registry.make_spec(config, data)
    batch = {"index": jnp.arange(8, dtype=jnp.int32), "step": jnp.zeros(8, jnp.int32)}
    batch["x"] = data.distribution.sample(jax.random.key(1), batch["index"])
    variables = spec.init(jax.random.key(0), batch)
    first = variables["d"]["params"]["Dense_0"]["kernel"]
    assert first.shape[0] == 4                       # 2 samples x 2 coordinates
    key = jax.random.key(5)
    loss, _ = spec.d_loss(variables, batch, key)
    fake = spec.generate(variables["g"], spec.latent(key, batch["index"]))
    d_real = spec_d(config, variables, packing.pack(batch["x"], 2))
    d_fake = spec_d(config, variables, packing.pack(fake, 2))
    expected = (jnp.mean(jax.nn.softplus(-d_real)) + jnp.mean(jax.nn.softplus(d_fake)))
    np.testing.assert_allclose(loss, expected, rtol=1e-6)
    # A packed D scores single samples packed with copies of themselves.
    single = spec.discriminate(variables["d"], batch["x"])
    chex.assert_shape(single, (8,))
    np.testing.assert_allclose(single, spec_d(config, variables,
                                              jnp.concatenate([batch["x"]] * 2, -1)), rtol=1e-6)


def spec_d(config, variables, x):
    d = registry.discriminator("mlp", config, registry.data_info(config))
    return d.apply(variables["d"], x, train=False)


def test_pack_must_divide_the_batch():
    with pytest.raises(GanJaxError, match="vanilla.pack"):
        build_run(ring_config(**{"vanilla.pack": 3}), select_devices(1))


# --- minibatch standard deviation ----------------------------------------------------------

def test_mbstd_on_vectors_against_numpy():
    x = np.random.default_rng(1).normal(size=(8, 5)).astype(np.float32)
    out = np.asarray(minibatch_stddev(jnp.asarray(x), 4))
    chex.assert_shape(out, (8, 6))
    np.testing.assert_array_equal(out[:, :5], x)
    for g in range(2):
        expected = np.mean(np.sqrt(np.var(x[4 * g:4 * g + 4], axis=0) + 1e-8))
        np.testing.assert_allclose(out[4 * g:4 * g + 4, 5], expected, rtol=1e-6)


@pytest.mark.parametrize("arch", ["mlp", "dcgan"])
def test_mbstd_feeds_d_and_changes_its_output(arch):
    if arch == "mlp":
        config = ring_config(**{"model.mbstd_group": 4})
        x = jax.random.normal(jax.random.key(0), (8, 2))
    else:
        config = base_config()
        config.model.arch, config.model.d_width, config.model.mbstd_group = "dcgan", 8, 4
        config.model.conv_impl = "xla"
        x = jax.random.normal(jax.random.key(0), (8, 28, 28, 1))
    info = registry.data_info(config)
    d = registry.discriminator(arch, config, info)
    variables = d.init(jax.random.key(1), x, train=False)
    out = d.apply(variables, x, train=False)
    chex.assert_shape(out, (8,))
    # Changing example 0 moves the logits of its group (examples 1-3) through the mbstd
    # feature, and leaves the other group's (4-7) alone.
    y = x.at[0].multiply(3.0)
    changed = np.abs(np.asarray(d.apply(variables, y, train=False) - out))
    assert changed[1:4].min() > 1e-6, changed
    np.testing.assert_array_equal(changed[4:], 0.0)


# --- Unrolled GAN --------------------------------------------------------------------------

def test_unrolled_g_step_against_an_independent_unroll():
    """One trainer step with unroll_steps=2 against: D's Adam step on the step's minibatch,
    then G's gradient of its loss against D after 2 more hand-written Adam steps from D's
    updated optimizer state, differentiated through them, then G's Adam step."""
    k = 2
    config = ring_config(**{"vanilla.unroll_steps": k, "train.steps": 1})
    data, _, state0, _ = build_run(config, select_devices(1))
    batch, _ = host_batches(data, 0, config.train)
    after = run_steps(config, 1)

    # The step's minibatch and keys, as the trainer derives them (gan_jax.train.step).
    from gan_jax.train.step import DATA_KEY
    base = ring_config()
    plain_spec = registry.make_spec(base, registry.data_info(base))
    raw = jax.tree.map(lambda x: jnp.asarray(x[0]), batch)               # [d_steps, B, ...]
    full = data.transform(raw, jax.random.fold_in(state0.key, DATA_KEY))
    mb = {**jax.tree.map(lambda x: x[0], full), "step": jnp.zeros((), jnp.int32)}
    key = jax.random.fold_in(state0.key, 0)
    adam_d = optax.adam(1e-2, b1=0.5)
    adam_g = optax.adam(1e-2, b1=0.5)

    def d_loss(g, d_params):
        return plain_spec.d_loss({"g": g, "d": {"params": d_params}, "extra": None}, mb,
                                 jax.random.fold_in(key, 0))[0]

    d_grad = jax.jit(jax.grad(lambda p: d_loss(state0.g, p)))(state0.d["params"])
    upd, d_opt = adam_d.update(d_grad, adam_d.init(state0.d["params"]), state0.d["params"])
    d_params = optax.apply_updates(state0.d["params"], upd)
    g_key = jax.random.fold_in(key, 1)

    def unrolled(g_params):
        g = {"params": g_params}
        p, s = d_params, d_opt
        for _ in range(k):
            grad = jax.grad(lambda q: plain_spec.d_loss({"g": g, "d": {"params": q},
                                                         "extra": None}, mb, g_key)[0])(p)
            u, s = adam_d.update(grad, s, p)
            p = optax.apply_updates(p, u)
        return plain_spec.g_loss({"g": g, "d": {"params": p}, "extra": None}, mb, g_key)[0]

    g_grad = jax.jit(jax.grad(unrolled))(state0.g["params"])
    u, _ = adam_g.update(g_grad, adam_g.init(state0.g["params"]), state0.g["params"])
    expected_g = optax.apply_updates(state0.g["params"], u)
    chex.assert_trees_all_close(after.d["params"], d_params, rtol=1e-5, atol=1e-7)
    chex.assert_trees_all_close(after.g["params"], expected_g, rtol=1e-5, atol=1e-7)
    # ... and the unroll is really in G's step: the plain step's G differs.
    plain_after = run_steps(ring_config(**{"train.steps": 1}), 1)
    diff = max(float(np.max(np.abs(a - b))) for a, b in zip(
        jax.tree.leaves(plain_after.g["params"]), jax.tree.leaves(after.g["params"])))
    assert diff > 1e-4, diff


@pytest.mark.parametrize("option", [{"vanilla.unroll_steps": 2}, {"vanilla.pack": 2},
                                    {"model.mbstd_group": 4}])
def test_two_devices_equal_one(option):
    config = ring_config(**option)
    one = (run_steps(config, 1))
    two = (run_steps(config, 2))
    chex.assert_trees_all_close((one.g["params"], one.d["params"]),
                                (two.g["params"], two.d["params"]), rtol=1e-5, atol=1e-6)


def test_option_validation():
    from gan_jax.validation import problems
    c = ring_config(**{"vanilla.pack": 0, "vanilla.unroll_steps": -1, "model.mbstd_group": -2})
    text = "\n".join(problems(c))
    for key in ("vanilla.pack", "vanilla.unroll_steps", "model.mbstd_group"):
        assert key in text, text
    # Options that another family would silently ignore are refused.
    c = ring_config(**{"vanilla.pack": 2, "vanilla.diffaugment": "cutout",
                       "model.mbstd_group": 4})
    c.gan.family, c.model.arch = "pix2pix", "unet"
    text = "\n".join(problems(c))
    assert "vanilla.pack=2: applies to the vanilla and conditional families" in text, text
    assert "vanilla.diffaugment='cutout': applies to" in text, text
    assert "model.mbstd_group=4: applies to the mlp and dcgan discriminators" in text, text


def test_conditional_family_takes_the_options():
    from gan_jax.gans import vanilla
    c = base_config()
    c.gan.family, c.vanilla.unroll_steps = "conditional", 2
    spec = registry.make_spec(c, registry.data_info(c))
    assert spec.update is not None and spec.update.func is vanilla.unrolled_update
    c.vanilla.unroll_steps, c.vanilla.pack = 0, 2
    with pytest.raises(GanJaxError, match="conditional family cannot pack"):
        registry.make_spec(c, registry.data_info(c))


# --- the experiment ------------------------------------------------------------------------

def test_mode_collapse_quick_run(tmp_path):
    from experiments import mode_collapse
    results = mode_collapse.main(["--quick", "--out", str(tmp_path), "--datasets", "ring",
                                  "--variants", "unrolled,pacgan,mbstd", "--steps_2d", "100"])
    assert [r["variant"] for r in results] == ["unrolled", "pacgan", "mbstd"]
    table = (tmp_path / "table.md").read_text()
    assert "| unrolled | " in table and "(1) |" in table and "VEEGAN" in table
    assert (tmp_path / "mode_collapse_2d.png").stat().st_size > 1000
