"""Progressive Growing of GANs (Karras, Aila, Laine & Lehtinen 2018) as a GANSpec
(`gan.family='progressive'`): G and D grow from 4x4 by doubling, each new level faded in.

The schedule (`Schedule`, from `progressive.*` and the batch size): level 0 (4x4) trains for
`stable_images` images; every later level l fades in over `fade_images` images (alpha rising
linearly from 0 to 1) and then stabilises for `stable_images` (alpha 1); the top level trains on
until `train.steps`. Images convert to steps by ceil(images / train.batch_size). Alpha is a
function of `batch['step']` (traced), the level a function of the step counter (static):

- the trainer compiles one step per level (`phase_of` / `at_phase`, see `gan_jax.gans.spec`), so a
  level's program holds only the layers it runs, and nothing recompiles inside a level;
- the spec's own `d_loss` / `g_loss` pick the level with `lax.switch` on `batch['step']`: the same
  numbers for a caller that knows nothing of phases (tests compare the two);
- G's variables carry the growth step (`{'growth': {'step': int32}}`, set by every G update and
  copied, not averaged, by the EMA of G), so `sample` on any checkpoint draws at the level and
  alpha that checkpoint trained at; samples are upsampled (nearest) to the top resolution.

Real images are shown to D at the current resolution (2x2 average pooling from the top) and, in
a fade-in, blended like G's output: (1 - alpha) * upsample(pool(x)) + alpha * x (section 3 of the
paper). Images smaller than `progressive.resolution` (MNIST's 28x28 in a 32x32 network) are
padded with the background value -1 for the networks and samples are cropped back, so metrics
compare with the data as it is.

The paper's techniques are switches: `progressive.pixelnorm`, `progressive.equalized_lr`,
`progressive.mbstd_group` (0: off); the loss is the zoo's (`loss.name='wasserstein'`,
`loss.gp_weight=10`, `loss.drift=0.001` in the configs), the EMA of G `train.ema_decay`, Adam
`optim.*`. Networks: `gan_jax.nets.progressive`.
"""
import dataclasses
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import ml_collections
from jax import lax

from gan_jax.errors import GanJaxError
from gan_jax.evaluators import EvalPlan
from gan_jax.evaluators.images import ImageMetrics
from gan_jax.gans import adversarial
from gan_jax.gans.latent import sample_latent
from gan_jax.gans.spec import GANSpec
from gan_jax.nets.progressive import (ProgressiveDiscriminator, ProgressiveGenerator, fade,
                                      level_channels, resolution)
from gan_jax.nets.progressive_layers import downsample2x, upsample2x


def config_section():
    return ml_collections.ConfigDict(dict(
        resolution=32,          # the top level's side (a power of two >= 4); levels 4 .. this
        fmap_base=512,          # widths: level l (4 * 2^l px) has min(fmap_base / 2^(l+1),
        fmap_max=128,           # fmap_max) channels (the paper: 8192 and 512)
        fade_images=60_000,     # images shown while a new level fades in (the paper: 600k)
        stable_images=60_000,   # images shown per level at alpha = 1 (the paper: 600k)
        pixelnorm=True,         # pixelwise feature normalisation in G (section 4.2)
        equalized_lr=True,      # equalized learning rate (section 4.1)
        mbstd_group=4))         # minibatch standard deviation group in D (0: off; section 3)


class Schedule(NamedTuple):
    """The growth schedule in steps (see the module docstring)."""
    levels: int
    fade_steps: int
    stable_steps: int

    def start(self, level: int) -> int:
        """The first step of `level` (its fade-in)."""
        if level == 0:
            return 0
        return self.stable_steps + (level - 1) * (self.fade_steps + self.stable_steps)

    def level_of(self, step: int) -> int:
        """The level step `step` trains (Python ints: the static phase)."""
        return max(lv for lv in range(self.levels) if self.start(lv) <= step)

    def level_at(self, step):
        """`level_of` for a traced step."""
        return sum((step >= self.start(lv)).astype(jnp.int32) for lv in range(1, self.levels)) \
            if self.levels > 1 else jnp.zeros((), jnp.int32)

    def alpha(self, step, level: int):
        """The fade-in weight of `level` at `step`: (step - start) / fade_steps, clipped to [0, 1]
        (1 at level 0, and with no fade-in)."""
        if level == 0 or self.fade_steps == 0:
            return jnp.ones((), jnp.float32)
        done = (jnp.asarray(step, jnp.float32) - self.start(level)) / self.fade_steps
        return jnp.clip(done, 0.0, 1.0)


def schedule_of(config) -> Schedule:
    p, t = config.progressive, config.train
    side = int(p.resolution)
    if side < 4 or side & (side - 1):
        raise GanJaxError(f"progressive.resolution={side} must be a power of two >= 4")
    if p.fade_images < 0 or p.stable_images <= 0:
        raise GanJaxError(f"progressive.fade_images={p.fade_images} must be >= 0 and "
                          f"progressive.stable_images={p.stable_images} > 0")
    steps = [math.ceil(n / t.batch_size) for n in (p.fade_images, p.stable_images)]
    for name, n in zip(("fade_images", "stable_images"), steps):
        if n % t.steps_per_call:
            raise GanJaxError(
                f"progressive.{name} gives {n} steps at batch {t.batch_size}, not a multiple of "
                f"train.steps_per_call={t.steps_per_call}: one call must not span two levels")
    return Schedule(int(math.log2(side)) - 1, *steps)


def make_spec(config, data) -> GANSpec:
    p, m = config.progressive, config.model
    if data.kind != "image":
        raise GanJaxError(f"gan.family='progressive' generates images; the data {data.name!r} "
                          f"is {data.kind!r}")
    schedule = schedule_of(config)
    top = schedule.levels - 1
    h, w, c = data.shape_of("x")
    side = int(p.resolution)
    if h != w or h > side or (side - h) % 2:
        raise GanJaxError(f"progressive.resolution={side} needs square images of that side or "
                          f"smaller by an even margin (padded with -1), got {h}x{w}; set "
                          "progressive.resolution or data.image_size")
    pad = (side - h) // 2
    channels = level_channels(schedule.levels, p.fmap_base, p.fmap_max)
    g_net = ProgressiveGenerator(channels, c, pixelnorm=p.pixelnorm, equalized=p.equalized_lr,
                                 conv_impl=m.conv_impl)
    d_net = ProgressiveDiscriminator(channels, mbstd_group=p.mbstd_group,
                                     equalized=p.equalized_lr, conv_impl=m.conv_impl)
    adv = adversarial.from_config(config.loss)

    def latent(key, index):
        return sample_latent(key, index, m.latent_dim, m.latent_distribution)

    def padded(x):
        return jnp.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)), constant_values=-1.0)

    def cropped(x):
        return x[:, pad:pad + h, pad:pad + w]

    def real_at(x, level, alpha):
        """Real images for D at `level`: pooled from the top, blended in a fade-in."""
        for _ in range(top - level):
            x = downsample2x(x)
        return fade(upsample2x(downsample2x(x)), x, alpha) if level > 0 else x

    def params(variables):
        return {"params": variables["params"]}

    def d_loss_at(level):
        def d_loss(variables, batch, key):
            alpha = schedule.alpha(batch["step"], level)
            fake = g_net.apply(params(variables["g"]), latent(key, batch["index"]), level, alpha)
            real = real_at(padded(batch["x"]), level, alpha)

            def d_apply(d_variables, x):
                return d_net.apply(d_variables, x, level, alpha), {}

            loss, metrics, upd = adversarial.d_objective(adv, d_apply, variables["d"], real, fake,
                                                         key, batch["index"])
            return loss, {"metrics": metrics, "updates": {"d": upd}}
        return d_loss

    def g_loss_at(level):
        def g_loss(variables, batch, key):
            alpha = schedule.alpha(batch["step"], level)
            fake = g_net.apply(params(variables["g"]), latent(key, batch["index"]), level, alpha)
            loss = adversarial.g_objective(adv, d_net.apply(variables["d"], fake, level, alpha))
            metrics = {"g_loss": loss, "alpha": alpha,
                       "resolution": jnp.asarray(resolution(level), jnp.float32)}
            growth = {"step": jnp.asarray(batch["step"], jnp.int32) + 1}
            return loss, {"metrics": metrics, "updates": {"g": {"growth": growth}}}
        return g_loss

    def switched(losses):
        def loss(variables, batch, key):
            return lax.switch(schedule.level_at(batch["step"]), losses, variables, batch, key)
        return loss

    def init(key, batch):
        k_g, k_d = jax.random.split(key)
        g = g_net.init(k_g, latent(k_g, batch["index"]), top, 1.0)
        d = d_net.init(k_d, padded(batch["x"]), top, 1.0)
        return {"g": {**g, "growth": {"step": jnp.zeros((), jnp.int32)}}, "d": d}

    def generate(g_variables, z, cond=None):
        """Images at the level and alpha of G's growth step, upsampled to the top resolution,
        cropped to the data's size and clipped to [-1, 1] (G's output is linear; the official
        code clips too when it turns samples into pictures; D trains on the unclipped output)."""
        step = g_variables.get("growth", {}).get("step", schedule.start(top))

        def at(level):
            def draw():
                x = g_net.apply(params(g_variables), z, level, schedule.alpha(step, level))
                for _ in range(top - level):
                    x = upsample2x(x)
                return jnp.clip(cropped(x), -1.0, 1.0)
            return draw

        return lax.switch(schedule.level_at(jnp.asarray(step)), [at(lv) for lv in range(top + 1)])

    def sample(g_variables, key, n: int, cond=None):
        return generate(g_variables, latent(key, jnp.arange(n)), cond)

    def discriminate(d_variables, x, cond=None):
        return d_net.apply(d_variables, padded(x), top, 1.0)

    def at_phase(level):
        return dataclasses.replace(spec, d_loss=d_loss_at(level), g_loss=g_loss_at(level),
                                   phase_of=None, at_phase=None)

    levels = range(top + 1)
    spec = GANSpec(init=init, d_loss=switched([d_loss_at(lv) for lv in levels]),
                   g_loss=switched([g_loss_at(lv) for lv in levels]), sample=sample,
                   discriminate=discriminate, latent=latent, generate=generate,
                   d_constraint=adversarial.clip_weights(adv), phase_of=schedule.level_of,
                   at_phase=at_phase, progress=("d_loss", "g_loss", "alpha"),
                   snapshots=lambda seed: _growth_pictures(spec, seed, schedule),
                   evaluators=_evaluators)
    return spec


def _growth_pictures(spec, seed, schedule):
    from gan_jax.snapshots import GrowthGrid
    return GrowthGrid(spec, seed, schedule)


def _evaluators(context):
    from gan_jax.evaluators.pyramid import PyramidMetrics
    return EvalPlan([ImageMetrics(context), PyramidMetrics(context, auto=True)])
