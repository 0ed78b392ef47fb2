"""Tests for gan_jax.train.optimizers: the learning-rate schedules against hand-computed values,
the rate each optimizer really applies at a given update count, the optimizers' update rules,
bad settings, and the trainer's step following the schedule."""
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from gan_jax.config import optimizer
from gan_jax.errors import GanJaxError
from gan_jax.train.optimizers import learning_rate, make_optimizer, make_optimizers
from gan_jax.train.parallel import select_devices
from tests.train.helpers import toy_config

LR = 1e-3
PARAMS = {"w": jnp.zeros((3,)), "b": {"c": jnp.zeros((2, 2))}}


def _lr_applied(tx, count):
    """The learning rate `tx` (plain SGD) applies at update `count`: minus its update of a
    gradient of ones, from a state whose schedule count is set to `count`."""
    state = tx.init(PARAMS)
    state = optax.tree_utils.tree_set(state, count=jnp.asarray(count, jnp.int32))
    updates, _ = tx.update(jax.tree.map(jnp.ones_like, PARAMS), state, PARAMS)
    values = np.concatenate([-np.ravel(u) for u in jax.tree.leaves(updates)])
    np.testing.assert_allclose(values, values[0], rtol=1e-6)
    return float(values[0])


def _check_schedule(cfg, total, expected):
    """learning_rate(cfg, total) at each count of `expected` ({count: rate}), and the rate that
    the SGD optimizer of cfg applies there."""
    schedule = learning_rate(cfg, total)
    sgd = make_optimizer(optimizer("sgd", lr=cfg.lr, momentum=0.0, schedule=cfg.schedule,
                                   warmup_steps=cfg.warmup_steps, decay_start=cfg.decay_start,
                                   final_lr_scale=cfg.final_lr_scale), total)
    for count, want in expected.items():
        np.testing.assert_allclose(float(schedule(count)), want, rtol=1e-5, atol=1e-12,
                                   err_msg=f"schedule at count {count}")
        np.testing.assert_allclose(_lr_applied(sgd, count), want, rtol=1e-5, atol=1e-12,
                                   err_msg=f"applied at count {count}")


def test_constant_without_warmup_is_the_plain_float():
    cfg = optimizer("adam", lr=2e-4)
    lr = learning_rate(cfg, 1000)
    assert isinstance(lr, float) and lr == 2e-4
    # The optimizer state is optax's plain one (runs from before schedules restore unchanged).
    plain = optax.adam(2e-4, b1=0.5, b2=0.999).init(PARAMS)
    ours = make_optimizer(cfg, 1000).init(PARAMS)
    assert jax.tree.structure(ours) == jax.tree.structure(plain)


def test_constant_with_warmup():
    cfg = optimizer(lr=LR, warmup_steps=10)
    _check_schedule(cfg, 100, {0: 0.0, 1: 0.1 * LR, 5: 0.5 * LR, 9: 0.9 * LR, 10: LR, 50: LR,
                               99: LR, 500: LR})


def test_linear_decay_pix2pix():
    # Constant for the first half, then linearly to 0 at the end (Pix2Pix / CycleGAN).
    cfg = optimizer(lr=LR, schedule="linear_decay", decay_start=0.5, final_lr_scale=0.0)
    _check_schedule(cfg, 100, {0: LR, 25: LR, 49: LR, 50: LR, 60: 0.8 * LR, 75: 0.5 * LR,
                               99: 0.02 * LR, 100: 0.0, 150: 0.0})


def test_linear_decay_with_warmup_and_final_scale():
    cfg = optimizer(lr=LR, schedule="linear_decay", warmup_steps=10, decay_start=0.5,
                    final_lr_scale=0.1)
    _check_schedule(cfg, 100, {0: 0.0, 5: 0.5 * LR, 10: LR, 30: LR, 50: LR,
                               75: (1 - 0.9 * 0.5) * LR, 90: (1 - 0.9 * 0.8) * LR,
                               100: 0.1 * LR, 200: 0.1 * LR})


def test_linear_decay_start_extremes():
    # decay_start 0: decays over the whole run; 1: constant throughout.
    _check_schedule(optimizer(lr=LR, schedule="linear_decay", decay_start=0.0), 40,
                    {0: LR, 10: 0.75 * LR, 20: 0.5 * LR, 40: 0.0})
    _check_schedule(optimizer(lr=LR, schedule="linear_decay", decay_start=1.0), 40,
                    {0: LR, 20: LR, 39: LR})


def test_cosine():
    cfg = optimizer(lr=LR, schedule="cosine")
    _check_schedule(cfg, 100, {0: LR, 25: LR * 0.5 * (1 + math.cos(math.pi / 4)),
                               50: 0.5 * LR, 75: LR * 0.5 * (1 + math.cos(3 * math.pi / 4)),
                               100: 0.0, 130: 0.0})


def test_cosine_with_warmup_and_final_scale():
    # Warm-up over 20 updates, then cosine over the remaining 100 to 0.1 x lr.
    cfg = optimizer(lr=LR, schedule="cosine", warmup_steps=20, final_lr_scale=0.1)
    _check_schedule(cfg, 120, {0: 0.0, 10: 0.5 * LR, 20: LR, 70: (0.9 * 0.5 + 0.1) * LR,
                               120: 0.1 * LR})


def test_run_shorter_than_warmup():
    sched = learning_rate(optimizer(lr=LR, schedule="cosine", warmup_steps=10), 5)
    np.testing.assert_allclose([float(sched(c)) for c in (0, 5, 10)], [0.0, 0.5 * LR, LR],
                               rtol=1e-6)


def test_make_optimizers_schedules_over_each_players_updates():
    # G makes train.steps updates, D train.steps x train.d_steps: halfway is count 5 for G and
    # count 15 for D.
    config = toy_config(steps=10, d_steps=3)
    for player in ("g", "d"):
        config.optim[player] = optimizer("sgd", lr=LR, momentum=0.0, schedule="linear_decay",
                                         decay_start=0.0)
    tx_g, tx_d = make_optimizers(config)
    np.testing.assert_allclose(_lr_applied(tx_g, 5), 0.5 * LR, rtol=1e-6)
    np.testing.assert_allclose(_lr_applied(tx_d, 15), 0.5 * LR, rtol=1e-6)
    np.testing.assert_allclose(_lr_applied(tx_d, 5), LR * (1 - 5 / 30), rtol=1e-6)


@pytest.mark.parametrize("settings,match", [
    (dict(schedule="exponential"), "schedule"),
    (dict(warmup_steps=-1), "warmup_steps"),
    (dict(decay_start=1.5), "decay_start"),
    (dict(decay_start=-0.1), "decay_start"),
    (dict(final_lr_scale=-0.5), "final_lr_scale"),
    (dict(name="adagrad"), "adam.*sgd.*rmsprop"),
])
def test_bad_settings_raise(settings, match):
    with pytest.raises(GanJaxError, match=match):
        make_optimizer(optimizer(**settings), 100)


G1 = {"w": jnp.array([0.5, -2.0, 1.0])}
G2 = {"w": jnp.array([-1.0, 0.25, 3.0])}


def _two_updates(tx):
    p = {"w": jnp.zeros((3,))}
    s = tx.init(p)
    u1, s = tx.update(G1, s, p)
    u2, _ = tx.update(G2, s, p)
    return np.asarray(u1["w"], np.float64), np.asarray(u2["w"], np.float64)


def test_rmsprop_update_rule():
    # nu_t = rho nu_{t-1} + (1 - rho) g_t^2 from 0; update -lr g_t / sqrt(nu_t) (eps 1e-8 is
    # negligible for these gradients).
    rho = 0.9
    u1, u2 = _two_updates(make_optimizer(optimizer("rmsprop", lr=LR, rho=rho), 100))
    g1, g2 = np.asarray(G1["w"], np.float64), np.asarray(G2["w"], np.float64)
    nu1 = (1 - rho) * g1 ** 2
    nu2 = rho * nu1 + (1 - rho) * g2 ** 2
    np.testing.assert_allclose(u1, -LR * g1 / np.sqrt(nu1), rtol=1e-4)
    np.testing.assert_allclose(u2, -LR * g2 / np.sqrt(nu2), rtol=1e-4)
    # With a schedule too (the rate at count 1 of a 4-update warm-up is lr / 4).
    u1, u2 = _two_updates(make_optimizer(optimizer("rmsprop", lr=LR, rho=rho, warmup_steps=4),
                                         100))
    np.testing.assert_array_equal(u1, 0.0)
    np.testing.assert_allclose(u2, -0.25 * LR * g2 / np.sqrt(nu2), rtol=1e-4)


def test_sgd_and_adam_update_rules():
    g1, g2 = np.asarray(G1["w"], np.float64), np.asarray(G2["w"], np.float64)
    u1, u2 = _two_updates(make_optimizer(optimizer("sgd", lr=LR, momentum=0.9), 100))
    np.testing.assert_allclose(u1, -LR * g1, rtol=1e-6)
    np.testing.assert_allclose(u2, -LR * (g2 + 0.9 * g1), rtol=1e-6)
    u1, u2 = _two_updates(make_optimizer(optimizer("sgd", lr=LR, momentum=0.9, nesterov=True),
                                         100))
    np.testing.assert_allclose(u1, -LR * (g1 + 0.9 * g1), rtol=1e-6)
    u1, _ = _two_updates(make_optimizer(optimizer("adam", lr=LR, b1=0.5, b2=0.999), 100))
    np.testing.assert_allclose(u1, -LR * np.sign(g1), rtol=1e-5)   # bias-corrected first step


# ---------------------------------------------------------------------------------------------
# The trainer's step applies the schedule: from one state and one batch, the update of a
# player made with plain SGD at schedule count c is -lr(c) x the same gradient, so it scales
# with lr(c) (the other player's count held fixed, so its gradient does not change).

def test_step_follows_the_schedule():
    from gan_jax.train.loop import build_run, host_batches
    lr_d, lr_g = 0.05, 0.02
    config = toy_config(steps=20, batch_size=16, name="ring")
    config.optim.d = optimizer("sgd", lr=lr_d, momentum=0.0, schedule="linear_decay",
                               warmup_steps=4, decay_start=0.5)
    config.optim.g = optimizer("sgd", lr=lr_g, momentum=0.0, schedule="cosine")
    data, _, state0, mapper = build_run(config, select_devices(1))
    state0 = jax.device_get(state0)
    batch, _ = host_batches(data, 0, config.train)

    def step(d_count, g_count):
        state = jax.tree.map(jnp.copy, state0).replace(   # copied: the mapper donates its input
            d_opt=optax.tree_utils.tree_set(state0.d_opt, count=jnp.int32(d_count)),
            g_opt=optax.tree_utils.tree_set(state0.g_opt, count=jnp.int32(g_count)))
        new, _ = mapper(mapper.put_state(state), batch)
        new = jax.device_get(new)
        assert int(optax.tree_utils.tree_get(new.d_opt, "count")) == d_count + 1
        return new

    def delta(new, player):
        before, after = getattr(state0, player)["params"], getattr(new, player)["params"]
        return np.concatenate([np.ravel(np.asarray(a, np.float64) - b) for a, b in zip(
            jax.tree.leaves(after), jax.tree.leaves(before))])

    # D: linear warm-up over 4 updates, constant until count 10, linear to 0 at count 20.
    ref = delta(step(7, 0), "d")                             # lr_d(7) = lr_d
    assert np.max(np.abs(ref)) > 1e-3
    for count, scale in {0: 0.0, 2: 0.5, 4: 1.0, 10: 1.0, 15: 0.5, 19: 0.1, 20: 0.0}.items():
        got = delta(step(count, 0), "d")
        np.testing.assert_allclose(got, scale * ref, rtol=2e-3, atol=2e-7 * (1 + 1 / lr_d),
                                   err_msg=f"D update at count {count}")
    # G: cosine over 20 updates (D's count fixed at 7).
    ref = delta(step(7, 0), "g")                             # lr_g(0) = lr_g
    assert np.max(np.abs(ref)) > 1e-4
    for count in (5, 10, 19):
        scale = 0.5 * (1 + math.cos(math.pi * count / 20))
        got = delta(step(7, count), "g")
        np.testing.assert_allclose(got, scale * ref, rtol=2e-3, atol=1e-6,
                                   err_msg=f"G update at count {count}")


@pytest.mark.parametrize("lr", [0.0, -1e-3])
def test_non_positive_learning_rate_is_refused(lr):
    with pytest.raises(GanJaxError, match=r"lr=.* \(> 0\)"):
        make_optimizer(optimizer("adam", lr=lr), 100)
