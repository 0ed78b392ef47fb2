"""The original GAN of Goodfellow et al. (2014) as a GANSpec (`gan.family='vanilla'`), with the
loss and regulariser zoo as its options.

D maximises V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))]; G minimises either the same
saturating term log(1 - D(G(z))) (`loss.name='minimax'`) or the non-saturating -log D(G(z))
(`'non_saturating'`, the paper's practical choice, the default). The zoo (`gan_jax.losses`,
`gan_jax.penalties`, `gan_jax.gans.adversarial`): least squares, Wasserstein (with weight
clipping or the gradient penalty), hinge; R1/R2 penalties; spectral normalisation of D
(`model.spectral_norm`); `train.d_steps` critic updates per generator update.

The family's own options (config section `vanilla`), each against a failure mode:
- `pack` (PacGAN, Lin et al. 2018): D judges m samples packed into one input
  (`gan_jax.gans.packing`), which penalises a G that lacks variety (mode collapse);
- `unroll_steps` (Unrolled GAN, Metz et al. 2017): G's loss is taken against D after k more of
  its optimizer's steps on the same minibatch, differentiated through those steps, so G
  anticipates D's answer instead of chasing the current D from mode to mode;
- `diffaugment` (DiffAugment, Zhao et al. 2020): the same random, differentiable transforms
  (`gan_jax.gans.diffaugment`) applied to real and generated images before D, in D's and G's
  losses, so D cannot memorise a small training set.

Networks: `model.arch` from the net registry (MLPs for the toys and MNIST, DCGAN's
convolutional pair for images), any Flax modules with the `(inputs, train)` call convention.
Pictures: a sample grid for images, the Figure-1 panels for the 1-D toy, a scatter plot for 2-D
mixtures. Numbers: the image metric set, or the toys' own (`gan_jax.evaluators`).
`make_vanilla_gan` also serves the conditional family (`num_classes` > 0: the batch's labels go
to both nets).
"""
import dataclasses
import functools

import jax
import jax.numpy as jnp
import ml_collections
from jax import lax

from gan_jax import registry, snapshots
from gan_jax.errors import GanJaxError
from gan_jax.evaluators import EvalPlan
from gan_jax.evaluators.images import ImageMetrics
from gan_jax.evaluators.pyramid import PyramidMetrics
from gan_jax.evaluators.toy import ToyMetrics
from gan_jax.gans import adversarial, diffaugment, packing
from gan_jax.gans.latent import sample_latent
from gan_jax.gans.spec import GANSpec
from gan_jax.train.optimizers import make_optimizers
from gan_jax.train.step import d_updates, mean_over_devices

# Keys of D's views of a step's samples (folded into the step's key).
REAL_VIEW, FAKE_VIEW, G_VIEW = 101, 102, 103


def config_section():
    """The vanilla family's options beyond loss.* and model.* (see the module doc)."""
    return ml_collections.ConfigDict(dict(
        pack=1,                 # PacGAN: samples per D input (1: off; the paper's m = 2..4)
        unroll_steps=0,         # Unrolled GAN: D steps G's loss looks through (Metz: 5)
        diffaugment="none"))    # DiffAugment: none | comma list of color, translation, cutout


def apply_net(module, variables, x, train: bool, **kwargs):
    """Apply a Flax module; in training mode return its new non-param collections too
    (BatchNorm statistics, spectral norm's vectors)."""
    mutable = [c for c in variables if c != "params"]
    if train and mutable:
        return module.apply(variables, x, train=True, mutable=mutable, **kwargs)
    return module.apply(variables, x, train=train, **kwargs), {}


def make_spec(config, data) -> GANSpec:
    """The vanilla GAN of config (model.arch, model.latent_*, loss.*) for the run's data."""
    arch = config.model.arch
    generator = registry.generator(arch, config, data)
    discriminator = registry.discriminator(arch, config, data)
    adv = adversarial.from_config(config.loss, registry.has_batch_norm(arch, config, "d"))
    spec = make_vanilla_gan(generator, discriminator, config.model.latent_dim, adv,
                            config.model.latent_distribution, **options(config, data))
    return _with_pictures_and_numbers(spec, data)


def options(config, data) -> dict:
    """`make_vanilla_gan`'s pack, augment and unroll from config.vanilla (the conditional
    family takes them too)."""
    v = config.vanilla
    policy = diffaugment.parse_policy(v.diffaugment)
    if policy and data.kind != "image":
        raise GanJaxError(f"vanilla.diffaugment={v.diffaugment!r} transforms images, but "
                          f"data.name {data.name!r} is not image data; use 'none'")
    if int(v.unroll_steps) < 0:
        raise GanJaxError(f"vanilla.unroll_steps={v.unroll_steps} must be >= 0 (0: off)")
    unroll = None
    if v.unroll_steps > 0:
        unroll = Unroll(int(v.unroll_steps), make_optimizers(config)[1], int(config.train.d_steps))
    return dict(pack=int(v.pack), augment=policy, unroll=unroll)


@dataclasses.dataclass(frozen=True)
class Unroll:
    """The Unrolled GAN's setting: `steps` D updates by `d_tx` (D's own optimizer: the same
    update rule and state as the trainer's) inside G's loss; `d_steps` of Algorithm 1 before."""
    steps: int
    d_tx: object
    d_steps: int = 1


def make_vanilla_gan(generator, discriminator, latent_dim: int, loss="non_saturating",
                     latent_distribution: str = "normal", num_classes: int = 0, pack: int = 1,
                     augment=(), unroll=None) -> GANSpec:
    """The GANSpec of two Flax modules; `loss`: a `loss.name` or an `adversarial.Adversarial`.
    With `num_classes` > 0 both nets are conditional (the conditional family): they take the
    batch's `label` in training, and `cond` (default: classes in turn) in sampling. `pack`,
    `augment` (a DiffAugment policy) and `unroll` (an `Unroll`): the module doc's options."""
    adv = loss if isinstance(loss, adversarial.Adversarial) else adversarial.Adversarial(
        adversarial.losses.get_loss(loss))
    if pack < 1:
        raise GanJaxError(f"vanilla.pack={pack} must be >= 1 (1: off)")
    if pack > 1 and num_classes:
        raise GanJaxError("vanilla.pack packs unlabelled samples; the conditional family "
                          "cannot pack (its D takes one label per input)")

    def d_view(x, key, index, view):
        """What D sees of a batch: DiffAugment's transforms (keyed per view and example), then
        PacGAN's packing."""
        if augment:
            x = diffaugment.augment(x, jax.random.fold_in(key, view), index, augment)
        return packing.pack(x, pack)

    def latent(key, index):
        return sample_latent(key, index, latent_dim, latent_distribution)

    def labels(batch):
        """The nets' conditioning keyword arguments for a training batch."""
        return {"label": batch["label"]} if num_classes else {}

    def labels_for(n, cond):
        """The nets' conditioning keyword arguments for n samples generated for `cond`."""
        if not num_classes:
            return {}
        if cond is None:
            return {"label": jnp.arange(n, dtype=jnp.int32) % num_classes}
        return {"label": jnp.asarray(cond, jnp.int32)}

    def init(key, batch):
        k_g, k_d = jax.random.split(key)
        z = latent(k_g, batch["index"])
        x = packing.pack(batch["x"], pack)
        return {"g": generator.init(k_g, z, train=False, **labels(batch)),
                "d": discriminator.init(k_d, x, train=False, **labels(batch))}

    def d_loss(variables, batch, key):
        index = batch["index"]
        x_fake, _ = apply_net(generator, variables["g"], latent(key, index), True,
                              **labels(batch))

        def d_apply(d_variables, x):
            return apply_net(discriminator, d_variables, x, True, **labels(batch))

        real = d_view(batch["x"], key, index, REAL_VIEW)
        fake = d_view(x_fake, key, index, FAKE_VIEW)
        loss, metrics, upd = adversarial.d_objective(adv, d_apply, variables["d"], real, fake,
                                                     key, packing.packed_index(index, pack))
        return loss, {"metrics": metrics, "updates": {"d": upd}}

    def g_loss(variables, batch, key):
        index = batch["index"]
        x_fake, upd = apply_net(generator, variables["g"], latent(key, index), True,
                                **labels(batch))
        fake_logits, _ = apply_net(discriminator, variables["d"],
                                   d_view(x_fake, key, index, G_VIEW), True, **labels(batch))
        loss = adversarial.g_objective(adv, fake_logits)
        return loss, {"metrics": {"g_loss": loss}, "updates": {"g": upd}}

    def generate(g_variables, z, cond=None):
        return generator.apply(g_variables, z, train=False, **labels_for(z.shape[0], cond))

    def sample(g_variables, key, n: int, cond=None):
        return generate(g_variables, latent(key, jnp.arange(n)), cond)

    def discriminate(d_variables, x, cond=None):
        """D's logits for single samples; a packed D scores each packed with copies of itself."""
        return discriminator.apply(d_variables, packing.pack_alike(x, pack), train=False,
                                   **labels_for(x.shape[0], cond))

    update = None
    if unroll is not None:
        update = functools.partial(unrolled_update, unroll=unroll, d_loss=d_loss,
                                   g_loss=g_loss, constraint=adversarial.clip_weights(adv))
    return GANSpec(init=init, d_loss=d_loss, g_loss=g_loss, sample=sample,
                   discriminate=discriminate, latent=latent, generate=generate,
                   d_constraint=adversarial.clip_weights(adv), num_classes=num_classes,
                   update=update)


def unrolled_update(play, game, batch, key, *, unroll: Unroll, d_loss, g_loss,
                    constraint=None, axis_name: str = "batch"):
    """Algorithm 1 with the Unrolled GAN's generator step (Metz et al. 2017, eq. 6-7): the
    `unroll.d_steps` D updates as usual; then G descends f_K(theta_G) = its loss against D after
    K = `unroll.steps` further updates of D by D's optimizer (from D's current optimizer state,
    on G's minibatch and noise), with the gradient taken through those K updates (the paper's
    full, second-order version). The unrolled D is only G's target: the game keeps the D of the
    ordinary updates. `constraint`: D's weight clipping, applied after each unrolled update too."""
    game, d_metrics, minibatch, g_key = d_updates(play, game, batch, key, unroll.d_steps)

    def unrolled_objective(g_params):
        g_vars = {**game["g"], "params": g_params}
        d_vars, d_opt = game["d"], game["d_opt"]
        for _ in range(unroll.steps):
            def d_objective(d_params, d_vars=d_vars):
                variables = {"g": g_vars, "d": {**d_vars, "params": d_params},
                             "extra": game["extra"]}
                return d_loss(variables, minibatch, g_key)

            (_, aux), grads = jax.value_and_grad(d_objective, has_aux=True)(d_vars["params"])
            grads = lax.pmean(grads, axis_name)
            updates, d_opt = unroll.d_tx.update(grads, d_opt, d_vars["params"])
            params = jax.tree.map(jnp.add, d_vars["params"], updates)
            if constraint is not None:
                params = constraint(params)
            d_vars = {**d_vars, **mean_over_devices(aux["updates"]["d"], axis_name),
                      "params": params}
        return g_loss({"g": g_vars, "d": d_vars, "extra": game["extra"]}, minibatch, g_key)

    (_, aux), grads = jax.value_and_grad(unrolled_objective, has_aux=True)(game["g"]["params"])
    game, g_metrics = play("g", game, minibatch, g_key, grads=(grads, aux))
    return game, {**d_metrics, **g_metrics}


def _with_pictures_and_numbers(spec: GANSpec, data) -> GANSpec:
    """The vanilla family's picture writer and evaluators, chosen by the kind of data."""
    if data.kind == "toy":
        dist = data.distribution
        if dist.dim == 1:
            def pictures(seed):
                return snapshots.DensityPanels(spec, seed, dist)
        else:
            def pictures(seed):
                return snapshots.Scatter2D(spec, seed, dist.centres)

        def evaluators(context):
            return EvalPlan([ToyMetrics(context, dist)], sample_batch=0)
    else:
        def pictures(seed):
            return snapshots.ImageGrid(spec, seed)

        def evaluators(context):
            return EvalPlan([ImageMetrics(context), PyramidMetrics(context)])
    return dataclasses.replace(spec, snapshots=pictures, evaluators=evaluators)
