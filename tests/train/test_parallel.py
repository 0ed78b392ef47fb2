"""Data parallelism: n devices with B/n each compute the 1-device step with batch B.

Gradients, BatchNorm statistics and metrics are averaged over the device axis, and noise is drawn
per example from its global index, so after 20 steps the parameters agree to float32 round-off.
pmap and jit(shard_map) map the same per-device function and must agree too.
"""
import chex
import jax
import pytest

from tests.train.helpers import params_of, run_steps, toy_config

STEPS = 20


def _run(num_devices, batch_norm, mapper="pmap"):
    cfg = toy_config(batch_size=32, steps_per_call=STEPS, batch_norm=batch_norm, mapper=mapper,
                     num_devices=num_devices)
    state, history, _ = run_steps(cfg, calls=1)
    return state, history[0]


@pytest.fixture(scope="module", params=[False, True], ids=["mlp", "mlp_batchnorm"])
def single_device(request):
    return request.param, _run(1, request.param)


@pytest.mark.parametrize("num_devices", [2, 4])
def test_data_parallel_matches_single_device(single_device, num_devices):
    assert jax.local_device_count() >= 4, "tests/conftest.py sets 4 simulated CPU devices"
    batch_norm, (want, want_metrics) = single_device
    got, got_metrics = _run(num_devices, batch_norm)
    chex.assert_trees_all_close(params_of(got), params_of(want), rtol=2e-4, atol=2e-5)
    chex.assert_trees_all_close(got_metrics, want_metrics, rtol=2e-4, atol=2e-5)
    if batch_norm:  # running statistics identical to the single-device ones
        chex.assert_trees_all_close(got.g["batch_stats"], want.g["batch_stats"], rtol=2e-4,
                                    atol=2e-5)


def test_batchnorm_statistics_span_devices():
    """After one step on 4 devices with 8 examples each, the BatchNorm running statistics are
    those of the whole batch of 32 (the 1-device run's), not of one device's 8: a run whose
    statistics came from one device's quarter of the batch differs from them."""
    def one_step(num_devices, batch_size):
        cfg = toy_config(batch_size=batch_size, steps_per_call=1, batch_norm=True,
                         num_devices=num_devices)
        return run_steps(cfg, calls=1)[0]

    four, whole, quarter = one_step(4, 32), one_step(1, 32), one_step(1, 8)
    for net in ("g", "d"):
        chex.assert_trees_all_close(getattr(four, net)["batch_stats"], getattr(whole, net)["batch_stats"],
                                    rtol=1e-5, atol=1e-6)
        gap = jax.tree.map(lambda a, b: float(abs(a - b).max()), getattr(four, net)["batch_stats"],
                           getattr(quarter, net)["batch_stats"])
        assert max(jax.tree.leaves(gap)) > 1e-3


def test_pmap_and_shard_map_agree():
    a, ma = _run(4, True, "pmap")
    b, mb = _run(4, True, "shard_map")
    chex.assert_trees_all_close(params_of(a), params_of(b), rtol=1e-5, atol=1e-6)
    chex.assert_trees_all_close(ma, mb, rtol=1e-5, atol=1e-6)


def test_batch_size_must_divide_devices():
    from gan_jax.errors import GanJaxError
    cfg = toy_config(batch_size=30, num_devices=4)
    with pytest.raises(GanJaxError, match="not divisible by the 4 devices"):
        run_steps(cfg, calls=1)
