"""CycleGAN (gan.family='cyclegan'): the ResNet generator against the paper's layer list, the
image pool's behaviour, the cycle and identity terms in G's gradient, one training step against
a hand-written reference (G first, then D on the pool's answer to that forward's fakes), the
ablation variants, the learning-rate schedule, exact resume with the pools, n devices = 1
without a pool, and a short real run on digits_mnist that must beat the untrained generator's
label preservation by a measured margin (the CLIs run on that run's workdir)."""
import json
import os
import subprocess
import sys

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from gan_jax import registry
from gan_jax.config import base_config
from gan_jax.errors import GanJaxError
from gan_jax.gans import image_pool
from gan_jax.gans.cyclegan import parse_loss
from gan_jax.nets.layers import ConvTranspose2D
from gan_jax.nets.resnet import ResnetGenerator
from gan_jax.ops.conv_transpose import conv_transpose_matrix
from gan_jax.train.loop import build_run, train
from gan_jax.train.optimizers import learning_rate, make_optimizers
from gan_jax.train.parallel import select_devices
from gan_jax.train.step import DATA_KEY
from tests.train.helpers import run_steps, tree_bytes_equal


def _config(loss="full", lambda_identity=0.5, pool_size=3, **train):
    c = base_config()
    c.gan.family, c.data.name = "cyclegan", "digits_mnist"
    c.model.arch, c.model.g_width, c.model.d_width, c.model.res_blocks = "resnet", 4, 4, 1
    c.model.patch, c.model.norm, c.model.conv_impl = 16, "instance", "xla"
    c.loss.name = "least_squares"
    c.cyclegan.loss, c.cyclegan.lambda_identity = loss, lambda_identity
    c.cyclegan.pool_size = pool_size
    t = c.train
    t.steps, t.batch_size, t.num_devices, t.progress, t.tensorboard = 4, 4, 1, False, False
    t.log_every = t.sample_every = t.ckpt_every = 2
    for k, v in train.items():
        t[k] = v
    c.eval.num_samples = 20
    return c


def _batch(data, n=4):
    batch = jax.tree.map(lambda x: x[0], data.batches(0, 1, n))
    return {**data.transform(batch, jax.random.key(0)), "step": jnp.zeros((), jnp.int32)}


def test_loss_names():
    assert parse_loss("full") == (True, True, True)
    assert parse_loss("cycle") == (False, True, True)
    assert parse_loss("gan") == (True, False, False)
    assert parse_loss("gan+forward") == (True, True, False)
    assert parse_loss("gan+backward") == (True, False, True)
    with pytest.raises(GanJaxError, match="cyclegan.loss"):
        parse_loss("gan+cycle")


def test_resnet_generator_is_the_papers_network():
    """ResNet-9 at 256x256 (c7s1-64, d128, d256, 9 x R256, u128, u64, c7s1-3): the official
    code's 11,378,179 parameters, less the 5,248 biases of normalised convolutions, plus
    InstanceNorm's scale and bias (2 x 5,248)."""
    g = ResnetGenerator(out_channels=3, width=64, n_blocks=9, conv_impl="xla")
    variables = jax.eval_shape(g.init, jax.random.key(0), jnp.zeros((1, 256, 256, 3)))
    count = sum(int(np.prod(x.shape)) for x in jax.tree.leaves(variables["params"]))
    assert count == 11_378_179 - 5_248 + 2 * 5_248 == 11_383_427
    out = jax.eval_shape(g.apply, variables, jnp.zeros((2, 256, 256, 3)))
    assert out.shape == (2, 256, 256, 3)
    small = ResnetGenerator(out_channels=3, width=4, n_blocks=1, conv_impl="xla")
    x = jax.random.uniform(jax.random.key(1), (2, 28, 28, 1), minval=-1, maxval=1)
    y, _ = jax.jit(small.init_with_output)(jax.random.key(0), x)
    chex.assert_shape(y, (2, 28, 28, 3))
    assert float(jnp.max(jnp.abs(y))) < 1.0
    with pytest.raises(GanJaxError, match="multiples of 4"):
        small.init(jax.random.key(0), jnp.zeros((1, 30, 30, 1)))


def test_fractionally_strided_layer_is_the_transpose_of_its_convolution():
    """u_k: ConvTranspose2d(k=3, stride 2, padding 1, output_padding 1) doubles the side, and is
    the explicit-matrix transposed convolution (PyTorch semantics)."""
    layer = ConvTranspose2D(5, kernel_size=3, stride=2, padding=1, output_padding=1,
                            use_bias=False, impl="fast")
    x = jax.random.normal(jax.random.key(0), (2, 7, 7, 3))
    variables = layer.init(jax.random.key(1), x)
    y = layer.apply(variables, x)
    chex.assert_shape(y, (2, 14, 14, 5))
    want = conv_transpose_matrix(x, variables["params"]["kernel"], 2, 1, output_padding=1)
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------------------------------------
# The image pool.

def _fakes(n, start=0):
    return jnp.arange(start, start + n, dtype=jnp.float32)[:, None, None, None] * jnp.ones(
        (n, 2, 2, 1))


def test_pool_stores_until_full_then_swaps_half_the_time():
    pool = image_pool.empty_pool(5, (2, 2, 1))
    out, pool = image_pool.query(pool, _fakes(3), jax.random.key(0), jnp.arange(3))
    np.testing.assert_array_equal(out, _fakes(3))               # not full: the fakes themselves
    assert int(pool["count"]) == 3
    np.testing.assert_array_equal(pool["images"][:3], _fakes(3))
    out, pool = image_pool.query(pool, _fakes(2, 3), jax.random.key(0), jnp.arange(3, 5))
    np.testing.assert_array_equal(out, _fakes(2, 3))
    assert int(pool["count"]) == 5
    swaps, n = 0, 2000
    query = jax.jit(image_pool.query)
    for i in range(n // 100):
        before = np.asarray(pool["images"][:, 0, 0, 0])
        new = _fakes(100, 1000 + 100 * i)
        out, pool = query(pool, new, jax.random.key(7), jnp.arange(100) + 100 * i)
        out = np.asarray(out[:, 0, 0, 0])
        fresh = out == np.asarray(new[:, 0, 0, 0])
        swaps += int(np.sum(~fresh))
        # every returned image is the new fake or one that was stored in the pool
        stored = set(before) | set(np.asarray(new[:, 0, 0, 0]))
        assert set(out) <= stored
    assert 0.45 < swaps / n < 0.55                                 # p = 1/2
    assert int(pool["count"]) == 5


def test_pool_draws_are_keyed_by_example_and_size_zero_is_no_pool():
    pool = image_pool.empty_pool(2, (2, 2, 1))
    pool = image_pool.query(pool, _fakes(2), jax.random.key(0), jnp.arange(2))[1]
    a = image_pool.query(pool, _fakes(8, 10), jax.random.key(3), jnp.arange(8))
    b = image_pool.query(pool, _fakes(8, 10), jax.random.key(3), jnp.arange(8))
    c = image_pool.query(pool, _fakes(8, 10), jax.random.key(4), jnp.arange(8))
    chex.assert_trees_all_equal(a, b)
    assert not np.array_equal(a[0], c[0]) or not np.array_equal(a[1]["images"], c[1]["images"])
    empty = image_pool.empty_pool(0, (2, 2, 1))
    out, same = image_pool.query(empty, _fakes(3), jax.random.key(0), jnp.arange(3))
    np.testing.assert_array_equal(out, _fakes(3))
    chex.assert_trees_all_equal(same, empty)


# ---------------------------------------------------------------------------------------------
# The objective and the step.

@pytest.fixture(scope="module")
def built(data_dir):
    """(data, state) of the base config, built once: the variants below share its shapes."""
    data, _, state, _ = build_run(_config(), select_devices(1))
    return data, state


def _g_grad(config, data, state, batch):
    spec = registry.make_spec(config, data)
    variables = {"g": state.g, "d": state.d, "extra": None}

    def loss(params):
        return spec.g_loss({**variables, "g": {**state.g, "params": params}}, batch,
                           jax.random.key(1))
    return jax.jit(jax.grad(lambda p: loss(p)[0]))(state.g["params"])


def _term_grad(config, data, state, batch, term):
    """The gradient of the cycle or the identity term alone, computed here from the two
    generator modules (not through the family's losses)."""
    nets = {d: registry.generator("resnet", config, data, direction=d) for d in ("ab", "ba")}

    def value(params):
        g = {d: {"params": params[d]} for d in ("ab", "ba")}
        G = lambda x: nets["ab"].apply(g["ab"], x, train=True)      # noqa: E731
        F = lambda x: nets["ba"].apply(g["ba"], x, train=True)      # noqa: E731
        a, b = batch["a"], batch["b"]
        if term == "cycle":
            return jnp.mean(jnp.abs(F(G(a)) - a)) + jnp.mean(jnp.abs(G(F(b)) - b))
        return jnp.mean(jnp.abs(G(b) - b)) + jnp.mean(jnp.abs(F(a) - a))
    return jax.jit(jax.grad(value))(state.g["params"])


def test_cycle_and_identity_terms_are_in_gs_gradient_with_their_weights(built):
    """Raising lambda by 1 adds exactly the gradient of lambda x the term (computed here from
    the generators alone); the identity term weighs lambda_identity x lambda_cycle. A term
    computed but not added, detached, or weighed wrongly fails."""
    data, state = built
    batch = _batch(data)

    def grad(lambda_cycle, lambda_identity):
        config = _config(lambda_identity=lambda_identity)
        config.cyclegan.lambda_cycle = lambda_cycle
        return _g_grad(config, data, state, batch)

    base = grad(2.0, 0.0)
    for (lc, li), term, weight in (((3.0, 0.0), "cycle", 1.0),
                                   ((2.0, 0.5), "identity", 0.5 * 2.0)):
        change = jax.tree.map(lambda x, y: x - y, grad(lc, li), base)
        want = jax.tree.map(lambda g: weight * g, _term_grad(_config(), data, state, batch, term))
        scale = max(float(jnp.max(jnp.abs(x))) for x in jax.tree.leaves(want))
        assert scale > 1e-4
        chex.assert_trees_all_close(change, want, rtol=0, atol=1e-3 * scale)


def test_ablation_variants_drop_their_terms(built):
    data, state = built
    batch = _batch(data)

    def metrics(loss):
        spec = registry.make_spec(_config(loss), data)
        variables = {"g": state.g, "d": state.d, "extra": None}
        return set(jax.eval_shape(spec.g_loss, variables, batch,
                                  jax.random.key(1))[1]["metrics"])
    names = {loss: metrics(loss) for loss in ("gan", "cycle", "gan+forward", "gan+backward")}
    assert "cycle" not in names["gan"] and "g_adv" in names["gan"]
    assert "g_adv" not in names["cycle"] and {"cycle_a", "cycle_b"} <= names["cycle"]
    assert "cycle_a" in names["gan+forward"] and "cycle_b" not in names["gan+forward"]
    assert "cycle_b" in names["gan+backward"] and "cycle_a" not in names["gan+backward"]


def test_one_step_is_g_first_then_d_on_the_pools_answer(data_dir):
    """The trainer's step equals, to float rounding: Adam on G's gradient of g_loss against the
    current D; then Adam on D's gradient of d_loss, whose fakes are the pre-update G's and go
    through the pools (a step with D first, or fakes of the updated G, differs)."""
    config = _config()
    data, spec, state0, _ = build_run(config, select_devices(1))
    state1, _, _ = run_steps(config, calls=1)       # steps_per_call 1: one step
    tx_g, tx_d = make_optimizers(config)
    batch = jax.tree.map(lambda x: x[0], data.batches(0, 1, config.train.batch_size))
    batch = data.transform(batch, jax.random.fold_in(state0.key, DATA_KEY))
    batch = {**batch, "step": jnp.zeros((), jnp.int32)}
    key = jax.random.fold_in(state0.key, 0)
    extra = jax.tree.map(lambda x: x[0], state0.extra)
    variables = {"g": state0.g, "d": state0.d, "extra": extra}

    def player_grad(loss_fn, player):
        def loss(params):
            return loss_fn({**variables, player: {**variables[player], "params": params}},
                           batch, key)
        return jax.jit(jax.grad(lambda p: loss(p)[0]))(variables[player]["params"]), loss

    g_grad, _ = player_grad(spec.g_loss, "g")
    upd, _ = tx_g.update(g_grad, state0.g_opt, state0.g["params"])
    g_params = optax.apply_updates(state0.g["params"], upd)
    d_grad, d_loss = player_grad(spec.d_loss, "d")
    upd, _ = tx_d.update(d_grad, state0.d_opt, state0.d["params"])
    d_params = optax.apply_updates(state0.d["params"], upd)
    new_extra = jax.jit(d_loss)(state0.d["params"])[1]["state"]
    chex.assert_trees_all_close(state1.g["params"], g_params, rtol=1e-4, atol=1e-6)
    chex.assert_trees_all_close(state1.d["params"], d_params, rtol=1e-4, atol=1e-6)
    chex.assert_trees_all_close(jax.tree.map(lambda x: x[0], state1.extra), new_extra, atol=1e-5)
    assert int(state1.extra["b"]["count"][0]) == 3       # the pool took this step's fakes


def test_cycle_alone_never_updates_d(data_dir):
    config = _config("cycle")
    state0 = build_run(config, select_devices(1))[2]
    state, history, (_, spec, _) = run_steps(config, calls=2)
    assert spec.init_extra is None and state.extra is None       # no D, no pool
    assert tree_bytes_equal(jax.device_get(state0.d), state.d)
    assert "d_loss" not in history[0]


def test_shipped_schedule_is_constant_then_linear_to_zero():
    from gan_jax.config import load_experiment
    config = load_experiment("cyclegan_digits_mnist")
    total = config.train.steps
    lr = learning_rate(config.optim.g, total)
    values = [float(lr(s)) for s in (0, total // 2 - 1, total // 2, total * 3 // 4, total)]
    np.testing.assert_allclose(values, [2e-4, 2e-4, 2e-4, 1e-4, 0.0], atol=1e-9)
    assert config.optim.d.schedule == "linear_decay" and config.optim.d.b1 == 0.5


def test_resume_with_the_pools_is_exact(data_dir, tmp_path):
    full, _ = train(_config(), str(tmp_path / "full"))
    part = str(tmp_path / "part")
    train(_config(), part, stop_at=2)
    resumed, _ = train(_config(), part)
    assert int(jax.device_get(resumed.extra["a"]["count"])[0]) == 3
    assert tree_bytes_equal(jax.device_get(full), jax.device_get(resumed))


def test_two_devices_equal_one_without_a_pool(data_dir):
    one, m1, _ = run_steps(_config(pool_size=0), calls=2)
    two, m2, _ = run_steps(_config(pool_size=0, num_devices=2), calls=2)
    chex.assert_trees_all_close((one.g, one.d), (two.g, two.d), rtol=2e-4, atol=2e-5)
    chex.assert_trees_all_close(m1, m2, rtol=2e-4, atol=2e-5)


def test_wrong_data_and_settings_are_named(data_dir):
    c = _config()
    c.data.name = "mnist_offline"
    with pytest.raises(GanJaxError, match="two image domains"):
        registry.make_spec(c, registry.data_info(c))
    c = _config()
    c.model.arch = "unet"
    with pytest.raises(GanJaxError, match="resnet"):
        registry.make_spec(c, registry.data_info(c))
    c = _config()
    c.train.d_steps = 2
    with pytest.raises(GanJaxError, match="d_steps"):
        registry.make_spec(c, registry.data_info(c))


# ---------------------------------------------------------------------------------------------
# A short real run, and the CLIs on its workdir.

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _short_run_config():
    """120 steps of a small CycleGAN (widths 8, one residual block) on digits_mnist. Measured:
    LeNet accuracy on G(a) (label preservation) 10.0 % untrained -> 80.0 % trained; the
    untranslated sklearn digits give 92.3 %."""
    c = _config(pool_size=50, steps=120, batch_size=8, log_every=40, sample_every=120,
                ckpt_every=120)
    c.model.g_width = c.model.d_width = 8
    c.eval.num_samples = 300
    return c


@pytest.fixture(scope="module")
def short_run(tmp_path_factory, data_dir):
    workdir = str(tmp_path_factory.mktemp("cyclegan"))
    _, result = train(_short_run_config(), workdir)
    return workdir, result


def test_a_short_run_on_digits_mnist_learns_to_keep_the_labels(short_run):
    from gan_jax.evaluation import Evaluator
    from gan_jax.train.state import initial_state
    workdir, trained = short_run
    config = _short_run_config()
    data = registry.make_stream(config)
    spec = registry.make_spec(config, data)
    untrained = Evaluator(spec, data, config)(initial_state(config, spec, data).g)
    print(f"label preservation {untrained['label_acc_ab']:.3f} -> {trained['label_acc_ab']:.3f}"
          f", cycle L1 {untrained['cycle_l1_a']:.3f} -> {trained['cycle_l1_a']:.3f}")
    assert trained["label_acc_ab"] >= untrained["label_acc_ab"] + 0.30    # measured: +0.70
    assert trained["label_acc_ba"] >= untrained["label_acc_ba"] + 0.25    # measured: +0.51
    assert trained["cycle_l1_a"] < 0.5 * untrained["cycle_l1_a"]          # measured: 0.05 / 0.46
    assert os.path.isfile(os.path.join(workdir, "samples", "step_0000120.png"))


def test_translate_cli_runs_both_directions(short_run, tmp_path):
    from PIL import Image
    from gan_jax.translate import translate_files
    workdir, _ = short_run
    src = tmp_path / "in"
    src.mkdir()
    digit = np.zeros((28, 28), np.uint8)
    digit[6:22, 12:16] = 255                                      # a "1"
    Image.fromarray(digit).save(src / "one.png")
    a = translate_files(workdir, str(src), str(tmp_path / "ab"))
    b = translate_files(workdir, str(src), str(tmp_path / "ba"), direction="BtoA")
    out_a, out_b = (np.asarray(Image.open(p[0])) for p in (a, b))
    assert out_a.shape == out_b.shape == (28, 28) and not np.array_equal(out_a, out_b)
    cmd = [sys.executable, "-m", "gan_jax.translate", f"--workdir={workdir}",
           f"--input={src}", f"--out={tmp_path / 'cli'}", "--direction=BtoA"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    np.testing.assert_array_equal(np.asarray(Image.open(done.stdout.split()[-1])), out_b)
    bad = subprocess.run(cmd[:-1] + ["--direction=sideways"], cwd=ROOT, capture_output=True,
                         text=True)
    assert bad.returncode != 0 and "direction" in bad.stderr


def test_evaluate_cli_reports_the_baseline(short_run):
    workdir, _ = short_run
    done = subprocess.run([sys.executable, "-m", "gan_jax.evaluate", f"--workdir={workdir}",
                           "--baseline", "--num_samples=100"], cwd=ROOT, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert abs(result["real_label_acc_ab"] - 0.923) < 0.01        # LeNet on the sklearn digits
    assert {"label_acc_ab", "label_acc_ba", "fid_ab", "cycle_l1_b"} <= set(result)
