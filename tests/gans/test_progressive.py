"""The progressive family (gan_jax.gans.progressive): the growth schedule, one compiled step per
level (chex.assert_max_traces), the per-level step equal to the spec's switched losses, exact
resume in the middle of a fade-in, sampling at a checkpoint's own level, and the pictures."""
import collections
import json
import os

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.config import base_config, optimizer
from gan_jax.errors import GanJaxError
from gan_jax.gans.progressive import Schedule, schedule_of
from gan_jax.nets.progressive_layers import upsample2x
from gan_jax.train import loop
from gan_jax.train.loop import build_run, host_batches, train
from gan_jax.train.optimizers import make_optimizers
from gan_jax.train.parallel import DeviceMapper, select_devices
from gan_jax.train.step import make_train_step, scan_steps
from tests.train.helpers import tree_bytes_equal


def tiny(steps=18, phase_images=32, batch_size=8):
    """Digits resized to 16x16, levels 4, 8, 16; 4 steps per fade-in and per stabilisation:
    level 0 = steps 0-3, level 1 fades in over 4-7 and stabilises 8-11, level 2 from 12."""
    c = base_config()
    c.gan.family, c.data.name, c.data.image_size = "progressive", "mnist_offline", 16
    c.model.latent_dim, c.model.conv_impl = 8, "xla"
    p = c.progressive
    p.resolution, p.fmap_base, p.fmap_max = 16, 32, 8
    p.fade_images = p.stable_images = phase_images
    c.loss.name, c.loss.gp_weight, c.loss.drift = "wasserstein", 10.0, 0.001
    c.optim.g = c.optim.d = optimizer("adam", lr=1e-3, b1=0.0, b2=0.99)
    t = c.train
    t.steps, t.batch_size, t.num_devices = steps, batch_size, 1
    t.progress = t.tensorboard = False
    t.ema_decay = 0.9
    t.log_every, t.sample_every, t.ckpt_every = 1, 6, 6
    c.eval.num_samples, c.eval.metrics = 16, "swd,msssim"
    return c


def test_schedule_levels_and_alpha():
    s = Schedule(levels=4, fade_steps=10, stable_steps=20)
    assert [s.start(lv) for lv in range(4)] == [0, 20, 50, 80]
    assert [s.level_of(t) for t in (0, 19, 20, 49, 50, 79, 80, 10_000)] == [0, 0, 1, 1, 2, 2, 3, 3]
    steps = jnp.arange(120)
    np.testing.assert_array_equal(jax.vmap(s.level_at)(steps), [s.level_of(t) for t in range(120)])
    np.testing.assert_allclose(jax.vmap(lambda t: s.alpha(t, 2))(jnp.arange(50, 62)),
                               [0, .1, .2, .3, .4, .5, .6, .7, .8, .9, 1, 1], rtol=1e-6)
    assert float(s.alpha(5, 0)) == 1.0
    assert float(Schedule(3, 0, 5).alpha(5, 1)) == 1.0     # no fade-in
    c = tiny()
    assert schedule_of(c) == Schedule(levels=3, fade_steps=4, stable_steps=4)
    c.train.steps_per_call = 3
    with pytest.raises(GanJaxError, match="not a multiple of train.steps_per_call=3"):
        schedule_of(c)
    c = tiny()
    c.progressive.resolution = 24
    with pytest.raises(GanJaxError, match="resolution=24: must be a power of two"):
        build_run(c, select_devices(1))
    c = tiny()
    c.progressive.resolution = 8
    with pytest.raises(GanJaxError, match="resolution=8 needs square images of that side"):
        build_run(c, select_devices(1))


def test_per_level_step_equals_the_switched_losses():
    config = tiny()
    data, spec, state, phased = build_run(config, select_devices(1))
    tx_g, tx_d = make_optimizers(config)
    switched = DeviceMapper(scan_steps(make_train_step(spec, tx_g, tx_d,
                                                       transform_batch=data.transform,
                                                       ema_decay=0.9)), select_devices(1))
    a = phased.put_state(state)
    b = switched.put_state(jax.tree.map(jnp.copy, state))
    position = 0
    for step in range(14):
        batch, position = host_batches(data, position, config.train)
        a, ma = phased(a, batch, step=step)
        b, mb = switched(b, batch)
        chex.assert_trees_all_close(ma, mb, rtol=1e-4, atol=1e-5)
    chex.assert_trees_all_close(jax.device_get((a.g, a.d, a.ema_g)),
                                jax.device_get((b.g, b.d, b.ema_g)), rtol=1e-4, atol=1e-5)
    with pytest.raises(GanJaxError, match="call the mapper with the step"):
        phased(a, batch)


def _count_traces(monkeypatch):
    """Make the trainer's per-level steps count their traces (by level, in order of first use)
    and fail on a retrace: chex counts the traces of every level's `counted` together."""
    traces = collections.Counter()
    original = loop.scan_steps
    chex.clear_trace_counter()

    def counted_scan_steps(step):
        fn = original(step)
        phase = len(traces)

        def counted(state, batch):
            traces[phase] += 1
            return fn(state, batch)
        return chex.assert_max_traces(counted, n=3)

    monkeypatch.setattr(loop, "scan_steps", counted_scan_steps)
    return traces


def test_one_compile_per_level_and_resume_mid_fade_in_is_bit_identical(monkeypatch, tmp_path):
    traces = _count_traces(monkeypatch)
    full, full_eval = train(tiny(), str(tmp_path / "full"))
    assert dict(traces) == {0: 1, 1: 1, 2: 1}        # 18 steps over 3 levels: 3 compilations
    monkeypatch.setattr(loop, "scan_steps", scan_steps)
    assert int(full.g["growth"]["step"]) == 18 == int(full.ema_g["growth"]["step"])
    rows = [json.loads(line) for line in open(tmp_path / "full" / "metrics.jsonl")]
    alpha = {r["step"]: r["alpha"] for r in rows if "alpha" in r}
    res = {r["step"]: r["resolution"] for r in rows if "resolution" in r}
    # row k holds step k-1's metrics: level 1 fades in over steps 4-7 (alpha 0, .25, .5, .75)
    assert [alpha[k] for k in range(5, 10)] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert [res[k] for k in (4, 5, 12, 13)] == [4.0, 8.0, 8.0, 16.0]
    part = str(tmp_path / "part")
    half, _ = train(tiny(), part, stop_at=14)          # level 2 fading in, alpha 0.5
    assert int(half.step) == 14 and int(half.g["growth"]["step"]) == 14
    resumed, resumed_eval = train(tiny(), part)
    assert tree_bytes_equal(jax.device_get(full), jax.device_get(resumed))

    def rows(workdir):
        return [{k: v for k, v in json.loads(line).items() if k != "steps_per_sec"}
                for line in open(os.path.join(workdir, "metrics.jsonl"))]
    assert rows(str(tmp_path / "full")) == rows(part)
    assert full_eval == resumed_eval
    assert {"swd_16", "swd_avg", "msssim", "real_msssim"} <= set(full_eval)
    for name in ("levels.png", "growth.gif"):
        assert os.path.isfile(os.path.join(part, name))


def test_sample_draws_at_the_checkpoints_level():
    config = tiny()
    data, spec, state, _ = build_run(config, select_devices(1))
    z = spec.latent(jax.random.key(0), jnp.arange(4))
    from gan_jax.nets.progressive import ProgressiveGenerator
    net = ProgressiveGenerator((8, 8, 4), 1, conv_impl="xla")
    for step, level, alpha in ((2, 0, 1.0), (5, 1, 0.25), (9, 1, 1.0), (14, 2, 0.5), (99, 2, 1.0)):
        g = {**state.g, "growth": {"step": jnp.asarray(step, jnp.int32)}}
        got = jax.jit(spec.generate)(g, z)
        want = net.apply({"params": state.g["params"]}, z, level, alpha)
        for _ in range(2 - level):
            want = upsample2x(want)
        chex.assert_shape(got, (4, 16, 16, 1))
        np.testing.assert_allclose(got, np.clip(want, -1, 1), rtol=1e-4, atol=1e-5)
