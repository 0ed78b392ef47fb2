"""DCGAN through the generic trainer: data parallelism with cross-device BatchNorm on conv
nets (n devices with B/n each compute the 1-device step with batch B), and determinism."""
import chex
import jax
import pytest

from gan_jax.config import base_config, optimizer
from gan_jax.train.loop import build_run, host_batches
from gan_jax.train.parallel import select_devices
from tests.train.helpers import params_of, run_steps, tree_bytes_equal


def dcgan_config(num_devices: int, impl: str = "fast"):
    c = base_config()
    c.data.name = "mnist_offline"
    c.model.arch = "dcgan"
    c.model.latent_dim = 16
    c.model.g_width = c.model.d_width = 8
    c.model.conv_impl = impl
    c.optim.g = optimizer("adam", lr=1e-3, b1=0.5)
    c.optim.d = optimizer("adam", lr=1e-3, b1=0.5)
    t = c.train
    t.steps, t.batch_size, t.steps_per_call, t.num_devices, t.progress = 3, 16, 1, num_devices, False
    t.log_every = t.sample_every = t.ckpt_every = 1
    return c


@pytest.fixture(scope="module")
def one_device(data_dir):
    return run_steps(dcgan_config(1), calls=3)


def test_two_devices_match_one(one_device):
    want, want_metrics, _ = one_device
    got, got_metrics, _ = run_steps(dcgan_config(2), calls=3)
    chex.assert_trees_all_close(params_of(got), params_of(want), rtol=2e-4, atol=2e-5)
    chex.assert_trees_all_close(got.g["batch_stats"], want.g["batch_stats"], rtol=2e-4,
                                atol=2e-5)
    chex.assert_trees_all_close(got.d["batch_stats"], want.d["batch_stats"], rtol=2e-4,
                                atol=2e-5)
    chex.assert_trees_all_close(got_metrics, want_metrics, rtol=2e-4, atol=2e-5)


def test_same_seed_is_bit_identical(one_device):
    """A second run from a freshly built state (same seed), through the compiled step."""
    want, want_metrics, (data, _, mapper) = one_device
    config = dcgan_config(1)
    _, _, state, _ = build_run(config, select_devices(1), data=data)
    state, position, got_metrics = mapper.put_state(state), 0, []
    for _ in range(3):
        batch, position = host_batches(data, position, config.train)
        state, metrics = mapper(state, batch)
        got_metrics.append(jax.device_get(metrics))
    got = jax.device_get(state)
    assert tree_bytes_equal(params_of(got), params_of(want))
    assert tree_bytes_equal(got_metrics, want_metrics)


def test_the_step_learns_something(one_device):
    state, metrics, _ = one_device
    chex.assert_tree_all_finite(params_of(state))
    assert int(state.step) == 3
    assert metrics[-1]["mean_d_x"][0] > metrics[0]["mean_d_x"][0]   # D tells real from fake
