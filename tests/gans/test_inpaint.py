"""Inpainting (gan.family='inpaint', the context encoder): keyed masks and a user's mask, the
networks' shapes, D's region, the reconstruction and adversarial terms in G's gradient with
their weights, the L2-only baseline never training D, sampling keeping the known pixels, the
hole scores against references, and a short real run on MNIST that must beat the untrained
model's hole PSNR by a measured margin."""
import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from PIL import Image

from gan_jax import registry
from gan_jax.config import base_config
from gan_jax.data import masks
from gan_jax.errors import GanJaxError
from gan_jax.evaluators import inpainting
from gan_jax.gans import adversarial
from gan_jax.gans.inpaint import make_inpaint
from gan_jax.nets.context_encoder import ContextDiscriminator, ContextEncoder
from gan_jax.train.loop import build_run, train
from gan_jax.train.parallel import select_devices


def _config(mask="centre", mask_size=12, lambda_adv=0.001, d_region="hole", width=4):
    c = base_config()
    c.gan.family, c.data.name, c.model.arch = "inpaint", "mnist_offline", "context_encoder"
    c.model.g_width = c.model.d_width = width
    c.model.norm, c.model.conv_impl = "batch", "xla"
    c.inpaint.mask, c.inpaint.mask_size, c.inpaint.d_region = mask, mask_size, d_region
    c.inpaint.lambda_adv = lambda_adv
    t = c.train
    t.steps, t.batch_size, t.num_devices, t.progress, t.tensorboard = 2, 8, 1, False, False
    t.log_every = t.sample_every = t.ckpt_every = 2
    c.eval.num_samples = 100
    return c


# ---------------------------------------------------------------------------------------------
# Masks

def test_centre_mask_is_the_centre_square():
    m = np.asarray(masks.draw("centre", jax.random.key(0), jnp.arange(3), (28, 28), 12))
    chex.assert_shape(m, (3, 28, 28, 1))
    assert m.sum() == 3 * 144 and m[:, 8:20, 8:20].all()
    assert masks.resolve_size("centre", (128, 128), 0) == 64          # the paper's 64 of 128
    with pytest.raises(GanJaxError, match="mask_size=30 must lie in 1..28"):
        masks.draw("centre", None, jnp.arange(1), (28, 28), 30)
    with pytest.raises(GanJaxError, match="unknown mask 'circle'"):
        masks.check_kind("circle")


@pytest.mark.parametrize("kind", ["rectangles", "strokes"])
def test_random_masks_are_keyed_per_example(kind):
    key = jax.random.key(7)
    batch = np.asarray(masks.draw(kind, key, jnp.arange(10), (32, 32), 12))
    chex.assert_shape(batch, (10, 32, 32, 1))
    assert set(np.unique(batch)) <= {0.0, 1.0}
    covered = batch.mean(axis=(1, 2, 3))
    assert (covered > 0).all() and (covered < 0.9).all()
    # example i's mask depends on (key, i) only: the same on any batch or device split
    order = np.random.default_rng(0).permutation(10)
    np.testing.assert_array_equal(
        np.asarray(masks.draw(kind, key, jnp.asarray(order), (32, 32), 12)), batch[order])
    assert len({m.tobytes() for m in batch}) == 10                    # all different
    other = np.asarray(masks.draw(kind, jax.random.key(8), jnp.arange(10), (32, 32), 12))
    assert not np.array_equal(other, batch)


def test_a_users_mask_is_read_and_checked(tmp_path):
    grey = np.zeros((28, 28), np.uint8)
    grey[5:10, 3:20] = 255
    Image.fromarray(grey).save(tmp_path / "m.png")
    m = masks.load_mask(str(tmp_path / "m.png"), (28, 28))
    chex.assert_shape(m, (28, 28, 1))
    assert m.sum() == 5 * 17 and m[5:10, 3:20].all()
    with pytest.raises(GanJaxError, match="is 28x28, but the image is 32x28"):
        masks.load_mask(str(tmp_path / "m.png"), (28, 32))
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(tmp_path / "empty.png")
    with pytest.raises(GanJaxError, match="marks no pixel as missing"):
        masks.load_mask(str(tmp_path / "empty.png"), (28, 28))
    Image.fromarray(np.full((28, 28), 255, np.uint8)).save(tmp_path / "full.png")
    with pytest.raises(GanJaxError, match="marks every pixel"):
        masks.load_mask(str(tmp_path / "full.png"), (28, 28))
    with pytest.raises(GanJaxError, match="does not exist"):
        masks.load_mask(str(tmp_path / "nothing.png"), (28, 28))


# ---------------------------------------------------------------------------------------------
# Networks and the family's wiring (shapes traced, nothing compiled)

@pytest.mark.parametrize("side,channels", [(28, 1), (64, 3)])
def test_network_shapes(side, channels):
    g, d = ContextEncoder(out_channels=channels, width=4), ContextDiscriminator(width=4)
    x = jnp.zeros((2, side, side, channels + 1))
    out, _ = jax.eval_shape(lambda: g.init_with_output(jax.random.key(0), x))
    chex.assert_shape(out, (2, side, side, channels))
    logits, _ = jax.eval_shape(lambda: d.init_with_output(jax.random.key(0), x))
    chex.assert_shape(logits, (2, 1))


@pytest.mark.parametrize("mask,region,d_channels,d_side", [
    ("centre", "hole", 1, 12),          # the paper: D sees the 12x12 fill
    ("centre", "image", 1, 28),         # the whole filled image
    ("rectangles", "hole", 2, 28)])     # the fill alone, with the mask as a channel
def test_d_sees_the_configured_region(data_dir, mask, region, d_channels, d_side):
    config = _config(mask=mask, d_region=region)
    info = registry.data_info(config)
    spec = registry.make_spec(config, info)
    shapes = jax.eval_shape(spec.init, jax.random.key(0), registry.example_batch(info))
    assert shapes["g"]["params"]["down0"]["kernel"].shape[2] == 2      # image + mask
    assert shapes["d"]["params"]["conv0"]["kernel"].shape[2] == d_channels
    side, n = d_side, 0
    while n == 0 or side > 4:
        side, n = (side + 2 - 4) // 2 + 1, n + 1
    assert shapes["d"]["params"]["logit"]["kernel"].shape[0] == side * side * 4 * 2 ** (n - 1)


def test_bad_options_are_named(data_dir):
    for key, value, match in (("d_region", "patch", "inpaint.d_region"),
                              ("mask", "blob", "unknown mask"),
                              ("lambda_adv", -1.0, "lambda_adv=-1.0 must be >= 0")):
        config = _config()
        config.inpaint[key] = value
        with pytest.raises(GanJaxError, match=match):
            registry.make_spec(config, registry.data_info(config))
    config = _config()
    config.data.name, config.gan.family = "digit_scenes", "inpaint"
    with pytest.raises(GanJaxError, match="fills holes in images"):
        registry.make_spec(config, registry.data_info(config))


# ---------------------------------------------------------------------------------------------
# The loss: a generator whose prediction is known (a learnt constant image)

class ConstantImage(nn.Module):
    """G predicting one learnt image whatever its input (so the loss can be checked by hand)."""
    channels: int = 1

    @nn.compact
    def __call__(self, x, train=False):
        image = self.param("image", nn.initializers.uniform(1.0), x.shape[1:3] + (self.channels,))
        return jnp.broadcast_to(image, x.shape[:3] + (self.channels,))


class MeanLogit(nn.Module):
    @nn.compact
    def __call__(self, x, train=False):
        return nn.Dense(1)(x.reshape(x.shape[0], -1))


def _spec(lambda_rec, lambda_adv, mask="centre"):
    adv = adversarial.Adversarial(adversarial.losses.get_loss("non_saturating"))
    return make_inpaint(ConstantImage(), MeanLogit(), adv, (16, 16, 1), mask=mask, mask_size=8,
                        lambda_rec=lambda_rec, lambda_adv=lambda_adv)


def _batch(n=4):
    x = jax.random.uniform(jax.random.key(1), (n, 16, 16, 1), minval=-1, maxval=1)
    return {"x": x, "index": jnp.arange(n, dtype=jnp.int32), "step": jnp.zeros((), jnp.int32)}


def test_reconstruction_is_the_mean_squared_error_in_the_hole():
    spec, batch = _spec(1.0, 0.0), _batch()
    variables = spec.init(jax.random.key(0), batch)
    g_loss = jax.jit(spec.g_loss)
    loss, aux = g_loss({**variables, "extra": None}, batch, jax.random.key(2))
    image = variables["g"]["params"]["image"]
    hole = np.asarray(batch["x"])[:, 4:12, 4:12] - np.asarray(image)[None, 4:12, 4:12]
    np.testing.assert_allclose(loss, np.mean(hole ** 2), rtol=1e-6)
    assert "g_adv" not in aux["metrics"]
    # the known pixels do not count: change them, the loss stays
    outside = batch["x"].at[:, :4].set(0.3)
    loss2, _ = g_loss({**variables, "extra": None}, {**batch, "x": outside}, jax.random.key(2))
    np.testing.assert_allclose(loss2, loss, rtol=1e-6)


def test_both_terms_are_in_gs_gradient_with_their_weights():
    """G's gradient is lambda_rec x the reconstruction's + lambda_adv x the adversarial term's,
    and both are non-zero."""
    batch = _batch()
    variables = {**_spec(1.0, 1.0).init(jax.random.key(0), batch), "extra": None}

    def grad(lambda_rec, lambda_adv):
        spec = _spec(lambda_rec, lambda_adv)

        def loss(params):
            return spec.g_loss({**variables, "g": {"params": params}}, batch, jax.random.key(2))
        (value, aux), g = jax.jit(jax.value_and_grad(loss, has_aux=True))(
            variables["g"]["params"])
        return value, aux["metrics"], g["image"]

    value, metrics, both = grad(0.999, 0.001)
    _, _, rec = grad(1.0, 0.0)
    _, _, adv = grad(0.0, 1.0)
    np.testing.assert_allclose(value, 0.999 * metrics["g_rec"] + 0.001 * metrics["g_adv"],
                               rtol=1e-6)
    assert np.abs(rec).max() > 1e-3 and np.abs(adv).max() > 1e-4
    np.testing.assert_allclose(both, 0.999 * rec + 0.001 * adv, rtol=1e-4, atol=1e-8)
    # the adversarial term reaches only the hole's pixels (D sees the fill), like the L2 term
    assert np.abs(np.asarray(adv)[:4]).max() == 0 and np.abs(np.asarray(adv)[4:12, 4:12]).max() > 0


def test_sampling_fills_only_the_hole():
    spec, batch = _spec(1.0, 0.001, mask="rectangles"), _batch()
    variables = spec.init(jax.random.key(0), batch)
    sample = jax.jit(spec.sample, static_argnums=2)
    with pytest.raises(GanJaxError, match="needs the images"):
        sample(variables["g"], jax.random.key(0), 4)
    with pytest.raises(GanJaxError, match=r"cond must be images \[n, 16, 16, 1\]"):
        sample(variables["g"], jax.random.key(0), 4, jnp.zeros((4, 16, 16, 3)))
    user = jnp.zeros((4, 16, 16, 1)).at[:, 2:5, 3:9].set(1.0)
    filled = sample(variables["g"], jax.random.key(0), 4, jnp.concatenate([batch["x"], user], -1))
    image = variables["g"]["params"]["image"]
    np.testing.assert_array_equal(np.where(user > 0, image, batch["x"]), filled)
    # without a mask channel the masks are the family's, keyed by the sampling key
    a = sample(variables["g"], jax.random.key(0), 4, batch["x"])
    b = sample(variables["g"], jax.random.key(1), 4, batch["x"])
    chex.assert_trees_all_equal(a, sample(variables["g"], jax.random.key(0), 4, batch["x"]))
    assert not np.array_equal(a, b)


# ---------------------------------------------------------------------------------------------
# Scores

def test_hole_scores_against_references():
    from skimage.metrics import structural_similarity
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (3, 24, 24, 2)).astype(np.float32)
    y = np.clip(x + rng.normal(0, 0.2, x.shape), -1, 1).astype(np.float32)
    m = np.zeros((3, 24, 24, 1), np.float32)
    m[:, 6:18, 4:16] = 1
    y = np.where(m > 0, y, x)
    hole = m[..., 0] > 0
    ux, uy = (x.astype(np.float64) + 1) / 2, (y.astype(np.float64) + 1) / 2
    mse = [np.mean(((ux[i] - uy[i]) ** 2)[hole[i]]) for i in range(3)]
    np.testing.assert_allclose(inpainting.hole_psnr(y, x, m),
                               np.mean([10 * np.log10(1 / v) for v in mse]), rtol=1e-10)
    np.testing.assert_allclose(inpainting.hole_l1(y, x, m),
                               np.mean([np.abs(ux[i] - uy[i])[hole[i]].mean() for i in range(3)]),
                               rtol=1e-10)
    def skimage_map(a, b):
        return structural_similarity(a, b, data_range=1, gaussian_weights=True, sigma=1.5,
                                     use_sample_covariance=False, full=True)[1]
    want = np.mean([[skimage_map(uy[i, ..., c], ux[i, ..., c])[hole[i]].mean() for c in range(2)]
                    for i in range(3)])
    np.testing.assert_allclose(inpainting.hole_ssim(y, x, m), want, rtol=1e-6)
    assert inpainting.hole_psnr(x, x, m) == 100.0


# ---------------------------------------------------------------------------------------------
# Training

def short_config(steps):
    """The short run's config (also the CLI tests' model: the same compiled programs)."""
    c = _config(width=8)
    c.train.steps, c.train.batch_size = steps, 32
    c.train.log_every = c.train.sample_every = c.train.ckpt_every = steps
    c.optim.g.lr, c.optim.d.lr = 1e-3, 1e-4
    c.eval.num_samples = 200
    return c


@pytest.mark.parametrize("lambda_adv,players", [(0.001, ["d", "g"]), (0.0, ["g"])])
def test_update_order_and_gs_gradient(lambda_adv, players):
    """The family's step: D first (on the filled images of the same masks), then G with the
    gradient of its loss; the L2-only baseline (lambda_adv 0) never plays D."""
    spec, batch = _spec(0.999, lambda_adv, mask="rectangles"), _batch()
    variables = spec.init(jax.random.key(0), batch)
    game = {"g": variables["g"], "d": variables["d"], "extra": None}
    played = []

    def play(player, game, minibatch, key, grads=None):
        played.append((player, minibatch, grads))
        return game, {}

    stacked = jax.tree.map(lambda x: x[None], batch)           # the step's d_steps axis
    spec.update(play, game, stacked, jax.random.key(3))
    assert [p for p, _, _ in played] == players
    (_, minibatch, grads) = played[-1]
    want = jax.grad(lambda p: spec.g_loss({**game, "g": {"params": p}}, minibatch,
                                          jax.random.key(3))[0])(game["g"]["params"])
    chex.assert_trees_all_close(grads[0], want, rtol=1e-5, atol=1e-8)
    if "d" in players:
        d_batch = played[0][1]
        np.testing.assert_array_equal(d_batch["mask"], minibatch["mask"])
        assert d_batch["mask"].sum() > 0
        np.testing.assert_array_equal(d_batch["fake"], jnp.where(
            d_batch["mask"] > 0, game["g"]["params"]["image"], batch["x"]))


@pytest.mark.slow
def test_a_short_run_on_mnist_fills_the_centre(data_dir, tmp_path):
    """SHORT_STEPS steps of the family's default loss (0.999 L2 + 0.001 adversarial) on MNIST
    with the centre 12x12 hidden (widths 8, batch 32, Adam 1e-3 / 1e-4): the hole PSNR on 200
    held-out digits must beat the untrained model's by MARGIN dB. Measured: see the README."""
    c = short_config(SHORT_STEPS)
    from gan_jax.evaluation import Evaluator
    data, spec, state, _ = build_run(c, select_devices(1))
    before = Evaluator(spec, data, c)(state.g)
    _, after = train(c, str(tmp_path / "run"))
    print(f"hole PSNR: untrained {before['hole_psnr']:.2f} dB, after {SHORT_STEPS} steps "
          f"{after['hole_psnr']:.2f} dB (masked input {after['masked_hole_psnr']:.2f}); LeNet on "
          f"filled {before['filled_accuracy']:.3f} -> {after['filled_accuracy']:.3f}")
    assert after["hole_psnr"] >= before["hole_psnr"] + MARGIN, (before, after)
    assert (tmp_path / "run" / "samples" / f"step_{SHORT_STEPS:07d}.png").is_file()


SHORT_STEPS, MARGIN = 150, 1.5
