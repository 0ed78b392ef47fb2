"""The original GAN of Goodfellow et al. (2014) as a GANSpec (`gan.family='vanilla'`), with the
loss and regulariser zoo as its options.

D maximises V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))]; G minimises either the same
saturating term log(1 - D(G(z))) (`loss.name='minimax'`) or the non-saturating -log D(G(z))
(`'non_saturating'`, the paper's practical choice, the default). The zoo (`gan_jax.losses`,
`gan_jax.penalties`, `gan_jax.gans.adversarial`): least squares, Wasserstein (with weight
clipping or the gradient penalty), hinge; R1/R2 penalties; spectral normalisation of D
(`model.spectral_norm`); `train.d_steps` critic updates per generator update.

Networks: `model.arch` from the net registry (MLPs for the toys and MNIST, DCGAN's
convolutional pair for images), any Flax modules with the `(inputs, train)` call convention.
Pictures: a sample grid for images, the Figure-1 panels for the 1-D toy, a scatter plot for 2-D
mixtures. Numbers: the image metric set, or the toys' own (`gan_jax.evaluators`).
`make_vanilla_gan` also serves the conditional family (`num_classes` > 0: the batch's labels go
to both nets).
"""
import dataclasses

import jax
import jax.numpy as jnp

from gan_jax import registry, snapshots
from gan_jax.evaluators import EvalPlan
from gan_jax.evaluators.images import ImageMetrics
from gan_jax.evaluators.pyramid import PyramidMetrics
from gan_jax.evaluators.toy import ToyMetrics
from gan_jax.gans import adversarial
from gan_jax.gans.latent import sample_latent
from gan_jax.gans.spec import GANSpec


def config_section():
    """The vanilla family's options are loss.* and model.* (no section of its own)."""
    return None


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
                            config.model.latent_distribution)
    return _with_pictures_and_numbers(spec, data)


def make_vanilla_gan(generator, discriminator, latent_dim: int, loss="non_saturating",
                     latent_distribution: str = "normal", num_classes: int = 0) -> GANSpec:
    """The GANSpec of two Flax modules; `loss`: a `loss.name` or an `adversarial.Adversarial`.
    With `num_classes` > 0 both nets are conditional (the conditional family): they take the
    batch's `label` in training, and `cond` (default: classes in turn) in sampling."""
    adv = loss if isinstance(loss, adversarial.Adversarial) else adversarial.Adversarial(
        adversarial.losses.get_loss(loss))

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
        return {"g": generator.init(k_g, z, train=False, **labels(batch)),
                "d": discriminator.init(k_d, batch["x"], train=False, **labels(batch))}

    def d_loss(variables, batch, key):
        x_fake, _ = apply_net(generator, variables["g"], latent(key, batch["index"]), True,
                              **labels(batch))

        def d_apply(d_variables, x):
            return apply_net(discriminator, d_variables, x, True, **labels(batch))

        loss, metrics, upd = adversarial.d_objective(adv, d_apply, variables["d"], batch["x"],
                                                     x_fake, key, batch["index"])
        return loss, {"metrics": metrics, "updates": {"d": upd}}

    def g_loss(variables, batch, key):
        x_fake, upd = apply_net(generator, variables["g"], latent(key, batch["index"]), True,
                                **labels(batch))
        fake_logits, _ = apply_net(discriminator, variables["d"], x_fake, True, **labels(batch))
        loss = adversarial.g_objective(adv, fake_logits)
        return loss, {"metrics": {"g_loss": loss}, "updates": {"g": upd}}

    def generate(g_variables, z, cond=None):
        return generator.apply(g_variables, z, train=False, **labels_for(z.shape[0], cond))

    def sample(g_variables, key, n: int, cond=None):
        return generate(g_variables, latent(key, jnp.arange(n)), cond)

    def discriminate(d_variables, x, cond=None):
        return discriminator.apply(d_variables, x, train=False, **labels_for(x.shape[0], cond))

    return GANSpec(init=init, d_loss=d_loss, g_loss=g_loss, sample=sample,
                   discriminate=discriminate, latent=latent, generate=generate,
                   d_constraint=adversarial.clip_weights(adv), num_classes=num_classes)


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
