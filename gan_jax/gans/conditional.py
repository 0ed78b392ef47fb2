"""The conditional GAN of Mirza & Osindero (2014) as a GANSpec (`gan.family='conditional'`).

Both players see the class label y: G(z, y) and D(x, y), and the value function becomes
V(D, G) = E_{x,y}[log D(x, y)] + E_{z,y}[log(1 - D(G(z, y), y))]. In training G is conditioned
on the labels of the real minibatch (so real and generated examples have the same label mix);
every loss and penalty of the zoo applies unchanged (`gan_jax.gans.adversarial`).

Networks (`model.arch` from the net registry, built with `num_classes`): the paper's MLP (the
label's one-hot joined to z in G and to x in D), or the conditional DCGAN (the one-hot joined to
z in G, a learned per-class map as an extra input channel of D); the one-hot is scaled to weigh
as much as the input it joins (`gan_jax.nets.layers.label_input`). `conditional.conditioning=
'projection'` replaces D's input concatenation by the projection discriminator of Miyato &
Koyama (2018). Shipped runs: experiments/configs/cgan_mnist.py, cdcgan_mnist.py.

Pictures: one row per class, the same latents in every row. Numbers: the image metric set, and
per class the MNIST LeNet's accuracy on the samples and the intra-class FID
(`gan_jax.evaluators.classes`); evaluation samples are generated for the test split's labels
(repeated to n), so their class mix is the data's.
"""
import dataclasses

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from gan_jax import registry, snapshots
from gan_jax.errors import GanJaxError
from gan_jax.evaluators import EvalPlan
from gan_jax.evaluators.classes import ClassAccuracy, IntraClassFID
from gan_jax.evaluators.images import ImageMetrics
from gan_jax.gans import adversarial
from gan_jax.gans.latent import sample_latent
from gan_jax.gans.spec import GANSpec
from gan_jax.gans.vanilla import apply_net


def config_section():
    return ml_collections.ConfigDict(dict(
        conditioning="concat"))   # D: concat (label joined to its input) | projection


def make_spec(config, data) -> GANSpec:
    k = int(data.num_classes)
    if k <= 0:
        raise GanJaxError(f"the conditional family needs labelled data; {data.name!r} has no "
                          "class labels (use gan.family='vanilla', or labelled data such as "
                          "mnist_offline)")
    arch = config.model.arch
    generator = registry.generator(arch, config, data, num_classes=k)
    discriminator = registry.discriminator(arch, config, data, num_classes=k,
                                           conditioning=config.conditional.conditioning)
    adv = adversarial.from_config(config.loss, registry.has_batch_norm(arch, config, "d"))
    latent_dim, distribution = config.model.latent_dim, config.model.latent_distribution

    def latent(key, index):
        return sample_latent(key, index, latent_dim, distribution)

    def init(key, batch):
        k_g, k_d = jax.random.split(key)
        z = latent(k_g, batch["index"])
        return {"g": generator.init(k_g, z, train=False, label=batch["label"]),
                "d": discriminator.init(k_d, batch["x"], train=False, label=batch["label"])}

    def d_loss(variables, batch, key):
        label = batch["label"]
        x_fake, _ = apply_net(generator, variables["g"], latent(key, batch["index"]), True,
                              label=label)

        def d_apply(d_variables, x):
            return apply_net(discriminator, d_variables, x, True, label=label)

        loss, metrics, upd = adversarial.d_objective(adv, d_apply, variables["d"], batch["x"],
                                                     x_fake, key, batch["index"])
        return loss, {"metrics": metrics, "updates": {"d": upd}}

    def g_loss(variables, batch, key):
        label = batch["label"]
        x_fake, upd = apply_net(generator, variables["g"], latent(key, batch["index"]), True,
                                label=label)
        fake_logits, _ = apply_net(discriminator, variables["d"], x_fake, True, label=label)
        loss = adversarial.g_objective(adv, fake_logits)
        return loss, {"metrics": {"g_loss": loss}, "updates": {"g": upd}}

    def labels_for(n, cond):
        if cond is None:
            return jnp.arange(n, dtype=jnp.int32) % k
        return jnp.asarray(cond, jnp.int32)

    def generate(g_variables, z, cond=None):
        return generator.apply(g_variables, z, train=False, label=labels_for(z.shape[0], cond))

    def sample(g_variables, key, n: int, cond=None):
        return generate(g_variables, latent(key, jnp.arange(n)), cond)

    def discriminate(d_variables, x, cond=None):
        return discriminator.apply(d_variables, x, train=False, label=labels_for(x.shape[0], cond))

    spec = GANSpec(init=init, d_loss=d_loss, g_loss=g_loss, sample=sample,
                   discriminate=discriminate, latent=latent, generate=generate,
                   d_constraint=adversarial.clip_weights(adv), num_classes=k)

    def pictures(seed):
        return snapshots.ClassGrid(spec, seed)

    def evaluators(context):
        def conditions(n):
            labels = context.test_split[1]
            return np.resize(np.asarray(labels, np.int32), n)
        return EvalPlan([ImageMetrics(context), ClassAccuracy(context, k),
                         IntraClassFID(context, k)], conditions=conditions)

    return dataclasses.replace(spec, snapshots=pictures, evaluators=evaluators)
