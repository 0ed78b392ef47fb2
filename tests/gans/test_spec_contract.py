"""The GANSpec contract (gan_jax/gans/spec.py) for every registered family: shapes and dtypes,
determinism, n devices = 1 device, checkpoint round trip into restore's template, sampling with a
fixed key, and the family's pictures and numbers. A family added to gan_jax.registry.FAMILIES
must add a tiny config to TINY below, or the first test fails.

Per-device state (TrainState.extra) and a family update order are exercised by the test-only
family in tests/gans/counting_family.py, registered here for the duration of a test.
"""
import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import registry
from gan_jax.config import base_config
from gan_jax.evaluation import Evaluator
from gan_jax.train.checkpoint import Checkpointer
from gan_jax.train.loop import build_run, train
from gan_jax.train.parallel import select_devices
from gan_jax.train.restore import abstract_state, load_run
from gan_jax.train.step import DATA_KEY
from tests.train.helpers import run_steps, tree_bytes_equal


def _base(data_name, steps_per_call=2):
    c = base_config()
    c.data.name = data_name
    c.model.latent_dim, c.model.g_hidden, c.model.d_hidden = 4, (16,), (16,)
    t = c.train
    t.steps, t.batch_size, t.steps_per_call, t.num_devices, t.progress = 4, 8, steps_per_call, 1, False
    t.log_every = t.sample_every = t.ckpt_every = steps_per_call
    t.tensorboard = False
    c.eval.num_samples = 100
    return c


def _vanilla():
    c = _base("ring")
    c.model.g_output = "linear"
    return c


def _conditional():
    c = _base("mnist_offline")
    c.gan.family = "conditional"
    c.model.g_batch_norm = True     # statistics that must be averaged across devices
    return c


def _pix2pix():
    c = _base("digit_scenes")
    c.gan.family, c.model.arch = "pix2pix", "unet"
    c.data.image_size = 32              # the 128x128 scenes resized: a depth-5 U-Net
    c.model.g_width = c.model.d_width = 4
    c.model.patch, c.model.norm = 16, "batch"   # statistics averaged across devices
    c.model.conv_impl = "xla"           # compiles faster; the fast forms are tested in ops/
    c.eval.num_samples = 20
    return c


def _cyclegan():
    c = _base("digits_mnist")
    c.gan.family, c.model.arch = "cyclegan", "resnet"
    c.model.g_width = c.model.d_width = 4
    c.model.res_blocks, c.model.patch, c.model.norm = 1, 16, "instance"
    c.model.conv_impl = "xla"
    c.loss.name = "least_squares"
    c.cyclegan.pool_size = 3            # fills within the test's steps, then swaps
    c.eval.num_samples = 20
    return c


def _inpaint():
    c = _base("mnist_offline")
    c.gan.family, c.model.arch = "inpaint", "context_encoder"
    c.data.image_size = 16              # the digits resized: a 2-stage context encoder
    c.model.g_width = c.model.d_width = 4
    c.model.norm = "batch"              # statistics averaged across devices
    c.model.conv_impl = "xla"
    c.inpaint.mask, c.inpaint.mask_size = "rectangles", 8    # keyed per example
    return c


def _progressive():
    c = _base("mnist_offline")
    c.gan.family = "progressive"
    c.data.image_size = 16              # the digits resized: levels 4, 8, 16
    p = c.progressive
    p.resolution, p.fmap_base, p.fmap_max = 16, 32, 8     # widths 8, 8, 4
    p.fade_images = p.stable_images = 16    # 2 steps each: the 2 calls span levels 0 and 1
    c.model.conv_impl = "xla"
    c.loss.name, c.loss.gp_weight, c.loss.drift = "wasserstein", 10.0, 0.001
    c.train.ema_decay = 0.9
    c.eval.num_samples = 20
    return c


TINY = {"vanilla": _vanilla, "conditional": _conditional, "pix2pix": _pix2pix,
        "cyclegan": _cyclegan, "inpaint": _inpaint, "progressive": _progressive}


def test_every_registered_family_has_a_contract_config():
    assert set(TINY) == set(registry.FAMILIES)


@pytest.fixture(params=sorted(TINY))
def family(request, data_dir):
    return request.param, TINY[request.param]


def _real_batch(data, spec, config, n=8):
    batch = jax.tree.map(lambda x: x[0], data.batches(0, 1, n))
    batch = data.transform(batch, jax.random.fold_in(jax.random.key(0), DATA_KEY))
    return {**batch, "step": jnp.zeros((), jnp.int32)}


def test_shapes_dtypes_and_aux(family):
    name, make = family
    config = make()
    data, spec, state, _ = build_run(config, select_devices(1))
    info = data.info
    # the losses are per-device functions: this device's slice of the per-device state
    extra = None if state.extra is None else jax.tree.map(lambda x: x[0], state.extra)
    variables = {"g": state.g, "d": state.d, "extra": extra}
    assert set(jax.tree.leaves(jax.tree.map(lambda x: x.dtype == jnp.float32,
                                            (state.g["params"], state.d["params"])))) == {True}
    batch = _real_batch(data, spec, config)
    for loss_fn, player in ((spec.d_loss, "d"), (spec.g_loss, "g")):
        # the losses are per-device functions: run them on a device axis of size 1
        one_device = jax.vmap(lambda b, f=loss_fn: f(variables, b, jax.random.key(1)),
                              axis_name="batch")
        loss, aux = jax.tree.map(lambda x: x[0], jax.jit(one_device)(
            jax.tree.map(lambda x: x[None], batch)))
        chex.assert_shape(loss, ())
        chex.assert_type(loss, jnp.float32)
        chex.assert_tree_all_finite(loss)
        assert f"{player}_loss" in aux["metrics"]
        for v in aux["metrics"].values():
            chex.assert_shape(v, ())
        assert set(aux.get("updates", {})) <= {"g", "d"}
        for collection, tree in aux.get("updates", {}).get(player, {}).items():
            chex.assert_trees_all_equal_shapes(tree, getattr(state, player)[collection])
    cond = None if not spec.num_classes else jnp.arange(5) % spec.num_classes
    if spec.cond_kind == "image":
        cond = jnp.zeros((5,) + info.shape_of("a"))
    out = jax.jit(spec.sample, static_argnums=2)(state.g, jax.random.key(2), 5, cond)
    chex.assert_shape(out, (5,) + tuple(info.example_shape))
    chex.assert_type(out, jnp.float32)


def test_sample_with_a_fixed_key(family):
    _, make = family
    config = make()
    data, spec, state, _ = build_run(config, select_devices(1))
    if spec.cond_kind == "image":      # translation: the output depends on the input image
        sample = jax.jit(spec.sample, static_argnums=2)
        a_in = jax.random.uniform(jax.random.key(5), (6,) + data.info.shape_of("a"),
                                  minval=-1, maxval=1)
        a = sample(state.g, jax.random.key(3), 6, a_in)
        chex.assert_trees_all_equal(a, sample(state.g, jax.random.key(3), 6, a_in))
        assert not np.allclose(a, sample(state.g, jax.random.key(3), 6, -a_in))
        return
    sample = jax.jit(spec.sample, static_argnums=2)
    a = sample(state.g, jax.random.key(3), 6)
    chex.assert_trees_all_equal(a, sample(state.g, jax.random.key(3), 6))
    assert not np.allclose(a, sample(state.g, jax.random.key(4), 6))
    if spec.latent is not None:   # sample i depends on (key, i) only
        chex.assert_trees_all_close(a[:3], sample(state.g, jax.random.key(3), 3), atol=1e-6)
    if spec.num_classes:
        cond = jnp.full((6,), 1, jnp.int32)
        chex.assert_trees_all_close(sample(state.g, jax.random.key(3), 6, cond),
                                    jax.jit(spec.generate)(state.g, spec.latent(
                                        jax.random.key(3), jnp.arange(6)), cond), atol=1e-6)


def test_determinism(family):
    _, make = family
    a, ma, _ = run_steps(make(), calls=2)
    b, mb, _ = run_steps(make(), calls=2)
    assert tree_bytes_equal(a, b) and tree_bytes_equal(ma, mb)


def test_two_devices_equal_one(family):
    name, make = family
    one, m1, (_, spec, _) = run_steps(make(), calls=2)
    if spec.init_extra is not None:
        pytest.skip(f"{name} keeps per-device state")
    config = make()
    config.train.num_devices = 2
    two, m2, _ = run_steps(config, calls=2)
    chex.assert_trees_all_close((one.g, one.d), (two.g, two.d), rtol=2e-4, atol=2e-5)
    chex.assert_trees_all_close(m1, m2, rtol=2e-4, atol=2e-5)


def test_checkpoint_round_trip_into_restore_template(family, tmp_path):
    _, make = family
    config = make()
    state, _, (data, spec, _) = run_steps(config, calls=1)
    ckpt = Checkpointer(str(tmp_path / "checkpoints"))
    ckpt.save(int(state.step), state, 16)
    ckpt.wait()
    # restore's template comes from the config and the data's description only
    template = lambda stored: abstract_state(config, registry.make_spec(config, data.info),  # noqa
                                             registry.data_info(config), stored)
    restored, position = ckpt.restore(template)
    ckpt.close()
    assert position == 16 and tree_bytes_equal(jax.device_get(state), jax.device_get(restored))


def test_pictures_and_numbers(family, tmp_path):
    _, make = family
    config = make()
    data, spec, state, _ = build_run(config, select_devices(1))
    writer = spec.snapshots(config.seed)
    path = writer.write(str(tmp_path), 2, state.g, state.d)
    assert path.endswith("step_0000002.png") and (tmp_path / "samples" / "step_0000002.png").is_file()
    result = Evaluator(spec, data, config, num_samples=100)(state.g)
    assert result["num_samples"] == 100
    numbers = [v for v in result.values() if isinstance(v, float)]
    assert numbers and all(np.isfinite(numbers))


# ---------------------------------------------------------------------------------------------
# Per-device state and a family update order (the test-only counting family).

@pytest.fixture
def counting(monkeypatch):
    monkeypatch.setitem(registry.FAMILIES, "counting", "tests.gans.counting_family")

    def make(num_devices=2, mapper="pmap"):
        c = _vanilla()
        c.gan.family = "counting"
        c.train.num_devices, c.train.mapper = num_devices, mapper
        return c
    return make


def test_per_device_state_is_kept_per_device_and_update_order_is_the_familys(counting):
    state, _, _ = run_steps(counting(), calls=2)          # 4 steps on 2 devices, G first
    extra = jax.device_get(state.extra)
    chex.assert_shape(extra["d_updates"], (2,))
    np.testing.assert_array_equal(extra["d_updates"], [4, 4])
    np.testing.assert_array_equal(extra["g_updates"], [4, 4])
    np.testing.assert_array_equal(extra["d_saw_g"], [1 + 2 + 3 + 4] * 2)   # G ran first
    assert extra["index_sum"][0] != extra["index_sum"][1]                   # not averaged
    # device 0 saw examples 0..3 of every batch of 8, device 1 examples 4..7
    want = [sum(b * 8 + i for b in range(4) for i in range(4)),
            sum(b * 8 + i for b in range(4) for i in range(4, 8))]
    np.testing.assert_array_equal(extra["index_sum"], want)


def test_per_device_state_with_shard_map_equals_pmap(counting):
    a, ma, _ = run_steps(counting(mapper="pmap"), calls=2)
    b, mb, _ = run_steps(counting(mapper="shard_map"), calls=2)
    chex.assert_trees_all_close(jax.device_get(a.extra), jax.device_get(b.extra))
    chex.assert_trees_all_close((a.g, a.d), (b.g, b.d), rtol=1e-5, atol=1e-6)


def test_per_device_state_resumes_exactly_and_restores(counting, tmp_path):
    full, _ = train(counting(), str(tmp_path / "full"))
    part = str(tmp_path / "part")
    train(counting(), part, stop_at=2)
    resumed, _ = train(counting(), part)
    assert tree_bytes_equal(jax.device_get(full), jax.device_get(resumed))
    run = load_run(part)          # restore's template takes the device count from the checkpoint
    np.testing.assert_array_equal(jax.device_get(run.state.extra["d_updates"]), [4, 4])
    from gan_jax.errors import GanJaxError
    config = counting(num_devices=1)
    with pytest.raises(GanJaxError, match="per-device state for 2 devices, but this run maps 1"):
        train(config, part, overwrite=True)
