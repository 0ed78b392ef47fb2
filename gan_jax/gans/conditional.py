"""The conditional GAN of Mirza & Osindero (2014) as a GANSpec (`gan.family='conditional'`).

Both players see the class label y: G(z, y) and D(x, y), and the value function becomes
V(D, G) = E_{x,y}[log D(x, y)] + E_{z,y}[log(1 - D(G(z, y), y))]. In training G is conditioned
on the labels of the real minibatch (so real and generated examples have the same label mix);
every loss and penalty of the zoo applies unchanged (`gan_jax.gans.adversarial`). The spec is
the vanilla family's (`gan_jax.gans.vanilla.make_vanilla_gan` with `num_classes`), with its own
nets, pictures and evaluators.

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

With `data.pseudo_labels=K` the labels are the k-means clusters of the training pixels
(`gan_jax.data.clusters`; the test split's images are assigned to the same clusters), no class
label is used, and the run is a cluster-conditioned GAN, unconditional as far as the data's
classes go: the class accuracy is not computed (a cluster is no class), the intra-cluster FID is.
"""
import dataclasses

import ml_collections
import numpy as np

from gan_jax import registry, snapshots
from gan_jax.errors import GanJaxError
from gan_jax.evaluators import EvalPlan
from gan_jax.evaluators.classes import ClassAccuracy, IntraClassFID
from gan_jax.evaluators.images import ImageMetrics
from gan_jax.gans import adversarial, vanilla
from gan_jax.gans.spec import GANSpec
from gan_jax.gans.vanilla import make_vanilla_gan


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
    spec = make_vanilla_gan(generator, discriminator, config.model.latent_dim, adv,
                            config.model.latent_distribution, num_classes=k,
                            **vanilla.options(config, data))

    def pictures(seed):
        return snapshots.ClassGrid(spec, seed)

    def evaluators(context):
        def conditions(n):
            labels = context.test_split[1]
            return np.resize(np.asarray(labels, np.int32), n)
        if config.data.get("pseudo_labels", 0):     # clusters: no class to be accurate to
            return EvalPlan([ImageMetrics(context), IntraClassFID(context, k)],
                            conditions=conditions)
        return EvalPlan([ImageMetrics(context), ClassAccuracy(context, k),
                         IntraClassFID(context, k)], conditions=conditions)

    return dataclasses.replace(spec, snapshots=pictures, evaluators=evaluators)
