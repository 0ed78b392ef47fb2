"""The training step: Algorithm 1 against an independent implementation, shapes, traces, k."""
import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from gan_jax.gans.latent import sample_latent
from gan_jax.train.loop import build_run, host_batches
from gan_jax.train.parallel import DeviceMapper, select_devices
from gan_jax.train.step import make_train_step, scan_steps
from gan_jax.config import optimizer
from tests.train.helpers import run_steps, toy_config


def _reference_step(config, state, batch, spec_nets):
    """Algorithm 1 written out by hand: k SGD/Adam steps on D's value, one step on G's loss."""
    generator, discriminator = spec_nets
    tx_d = optax.sgd(config.optim.d.lr, momentum=config.optim.d.momentum)
    tx_g = optax.adam(config.optim.g.lr, b1=config.optim.g.b1, b2=config.optim.g.b2)
    g_params, d_params = state.g["params"], state.d["params"]
    d_opt, g_opt = state.d_opt, state.g_opt
    key = jax.random.fold_in(state.key, state.step)
    log_sig = lambda v: -np.logaddexp(0.0, -v)  # log sigmoid, stable  # noqa: E731
    for i in range(config.train.d_steps):
        x, index = batch["x"][i], batch["index"][i]
        z = sample_latent(jax.random.fold_in(key, i), index, config.model.latent_dim)
        fake = generator.apply({"params": g_params}, z)

        def neg_value(p):
            real_l = discriminator.apply({"params": p}, x)
            fake_l = discriminator.apply({"params": p}, fake)
            return -(jnp.mean(jax.nn.log_sigmoid(real_l)) + jnp.mean(jax.nn.log_sigmoid(-fake_l)))

        upd, d_opt = tx_d.update(jax.grad(neg_value)(d_params), d_opt, d_params)
        d_params = optax.apply_updates(d_params, upd)
    index = batch["index"][-1]
    z = sample_latent(jax.random.fold_in(key, config.train.d_steps), index, config.model.latent_dim)

    def g_loss(p):  # non-saturating: -log D(G(z))
        logits = discriminator.apply({"params": d_params}, generator.apply({"params": p}, z))
        return -jnp.mean(jax.nn.log_sigmoid(logits))

    upd, g_opt = tx_g.update(jax.grad(g_loss)(g_params), g_opt, g_params)
    del log_sig
    return optax.apply_updates(g_params, upd), d_params


@pytest.mark.parametrize("d_steps", [1, 3])
def test_step_matches_hand_written_algorithm_1(d_steps):
    from gan_jax.nets.mlp import MLPDiscriminator, MLPGenerator
    config = toy_config(d_steps=d_steps)
    data, spec, state, mapper = build_run(config, select_devices(1))
    batch, _ = host_batches(data, 0, config.train)
    first = data.transform(jax.tree.map(lambda x: x[0], batch))  # [k, B, ...]
    m = config.model
    nets = (MLPGenerator(out_shape=(1,), hidden=m.g_hidden, activation=m.g_activation,
                         output=m.g_output),
            MLPDiscriminator(hidden=m.d_hidden, activation=m.d_activation))
    want_g, want_d = _reference_step(config, state, first, nets)
    new_state, _ = mapper(mapper.put_state(state), batch)
    chex.assert_trees_all_close(new_state.d["params"], want_d, rtol=1e-5, atol=1e-6)
    chex.assert_trees_all_close(new_state.g["params"], want_g, rtol=1e-5, atol=1e-6)


def test_k_discriminator_updates_per_generator_update():
    """With d_steps = k, each step makes k optimizer updates of D and one of G: counted by the
    Adam states' own update counters (4 steps, k = 3: 12 D updates, 4 G updates), and each D
    update used its own minibatch (the k minibatches of a step differ)."""
    config = toy_config(d_steps=3, steps_per_call=2)
    config.optim.d = optimizer("adam", lr=1e-3)
    state, _, (data, _, _) = run_steps(config, calls=2)  # 4 steps
    assert int(state.step) == 4
    assert int(state.g_opt[0].count) == 4
    assert int(state.d_opt[0].count) == 12
    batch, _ = host_batches(data, 0, config.train)
    assert batch["index"].shape == (2, 3, config.train.batch_size)
    assert len({tuple(batch["index"][0, i]) for i in range(3)}) == 3


def test_step_shapes_dtypes_finite_and_traced_once():
    config = toy_config(steps_per_call=5)
    data, spec, state, _ = build_run(config, select_devices(1))
    from gan_jax.train.optimizers import make_optimizer
    step = make_train_step(spec, make_optimizer(config.optim.g), make_optimizer(config.optim.d),
                           transform_batch=data.transform)
    mapper = DeviceMapper(scan_steps(chex.assert_max_traces(step, n=1)), select_devices(1))
    state = mapper.put_state(state)
    position = 0
    for _ in range(3):  # a second trace would raise
        batch, position = host_batches(data, position, config.train)
        state, metrics = mapper(state, batch)
    assert int(state.step) == 15
    assert set(metrics) == {"d_loss", "g_loss", "mean_d_x", "mean_d_g_z"}
    for v in metrics.values():
        chex.assert_shape(v, (5,))
        chex.assert_type(v, jnp.float32)
    chex.assert_tree_all_finite((state.g, state.d, state.g_opt, state.d_opt))
    chex.assert_trees_all_equal_shapes(state.g, state.ema_g or state.g)
    assert jax.random.key_data(state.key).dtype == jnp.uint32


def test_generator_loss_choice_changes_the_update():
    """Loss terms are not silently unused: the G loss named in the config drives the G update."""
    ns, _, _ = run_steps(toy_config(steps_per_call=20), calls=1)
    cfg = toy_config(steps_per_call=20)
    cfg.loss.name = "minimax"
    sat, _, _ = run_steps(cfg, calls=1)
    diff = jax.tree.map(lambda a, b: float(np.abs(a - b).max()), sat.g["params"], ns.g["params"])
    assert max(jax.tree.leaves(diff)) > 1e-3


def test_ema_of_generator():
    """ema_0 = g_0 and ema_t = d ema_{t-1} + (1 - d) g_t after every step, for every leaf."""
    cfg = toy_config(steps_per_call=1)
    cfg.train.ema_decay = d = 0.75
    data, spec, state, mapper = build_run(cfg, select_devices(1))
    chex.assert_trees_all_equal(state.ema_g, state.g)
    ema = jax.device_get(state.g)
    state, position = mapper.put_state(state), 0
    for _ in range(3):
        batch, position = host_batches(data, position, cfg.train)
        state, _ = mapper(state, batch)
        g = jax.device_get(state.g)
        ema = jax.tree.map(lambda e, p: np.float32(d) * e + np.float32(1.0 - d) * p, ema, g)
        chex.assert_trees_all_close(jax.device_get(state.ema_g), ema, rtol=1e-6, atol=1e-7)
    diff = jax.tree.map(lambda a, b: float(np.abs(a - b).max()), state.ema_g["params"],
                        state.g["params"])
    assert max(jax.tree.leaves(diff)) > 1e-4   # it lags G, it is not a copy


def test_ema_rampup_values():
    from gan_jax.train.step import ema_decay_at
    assert ema_decay_at(5, 0.999) == 0.999                               # off: the plain decay
    half_life = np.log(0.5) / np.log(0.999)                              # 692.8 steps
    for step in (0, 9, 99, 999, 13_855, 20_000):
        n = step + 1
        want = 0.5 ** (1.0 / min(half_life, 0.05 * n))
        np.testing.assert_allclose(float(ema_decay_at(step, 0.999, 0.05)), want, rtol=1e-6)
    assert float(ema_decay_at(0, 0.999, 0.05)) < 1e-6                    # step 1: EMA = G
    np.testing.assert_allclose(float(ema_decay_at(50_000, 0.999, 0.05)), 0.999, rtol=1e-7)


def test_ema_with_rampup_follows_the_recurrence():
    """With train.ema_rampup the step uses decay_n = ema_decay_at(n - 1) at update n."""
    from gan_jax.train.step import ema_decay_at
    cfg = toy_config(steps_per_call=1)
    cfg.train.ema_decay, cfg.train.ema_rampup = 0.99, 0.5
    data, spec, state, mapper = build_run(cfg, select_devices(1))
    ema = jax.device_get(state.g)
    state, position = mapper.put_state(state), 0
    for step in range(4):
        batch, position = host_batches(data, position, cfg.train)
        state, _ = mapper(state, batch)
        d = np.float32(ema_decay_at(step, 0.99, 0.5))
        g = jax.device_get(state.g)
        ema = jax.tree.map(lambda e, p: d * e + (np.float32(1.0) - d) * p, ema, g)
        chex.assert_trees_all_close(jax.device_get(state.ema_g), ema, rtol=1e-6, atol=1e-7)


def test_one_step_per_call_equals_a_scan_of_steps():
    """steps_per_call=1 calls the step directly (no lax.scan, docs/design.md): two such calls give
    the state that one scanned call of two steps gives."""
    direct, direct_metrics, _ = run_steps(toy_config(steps_per_call=1), calls=2)
    scanned, scanned_metrics, _ = run_steps(toy_config(steps_per_call=2), calls=1)
    chex.assert_trees_all_close(direct.g, scanned.g, rtol=1e-6, atol=1e-7)
    chex.assert_trees_all_close(direct.d, scanned.d, rtol=1e-6, atol=1e-7)
    assert direct_metrics[0]["d_loss"].shape == (1,)
    np.testing.assert_allclose(direct_metrics[1]["d_loss"][0], scanned_metrics[0]["d_loss"][1],
                               rtol=1e-6)
