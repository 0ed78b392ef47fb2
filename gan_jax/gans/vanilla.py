"""The original GAN of Goodfellow et al. (2014) as a GANSpec.

D maximises V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))]; G minimises either the same
saturating term log(1 - D(G(z))) or the non-saturating -log D(G(z)) (the paper's practical
choice). Networks are any Flax modules with the `(inputs, train)` call convention: MLPs here,
DCGAN's convolutional pair elsewhere.
"""
import jax
import jax.numpy as jnp

from gan_jax import losses
from gan_jax.gans.latent import sample_latent
from gan_jax.gans.spec import GANSpec


def apply_net(module, variables, x, train: bool):
    """Apply a Flax module; in training mode return its new BatchNorm statistics too."""
    if train and "batch_stats" in variables:
        return module.apply(variables, x, train=True, mutable=["batch_stats"])
    return module.apply(variables, x, train=train), {}


def make_vanilla_gan(generator, discriminator, latent_dim: int,
                     generator_loss: str = "non_saturating",
                     latent_distribution: str = "normal") -> GANSpec:
    g_objective = losses.get_generator_loss(generator_loss)

    def latent(key, index):
        return sample_latent(key, index, latent_dim, latent_distribution)

    def init(key, batch):
        k_g, k_d = jax.random.split(key)
        z = latent(k_g, batch["index"])
        return {"g": generator.init(k_g, z, train=False),
                "d": discriminator.init(k_d, batch["x"], train=False)}

    def d_loss(variables, batch, key):
        x_fake, _ = apply_net(generator, variables["g"], latent(key, batch["index"]), True)
        real_logits, upd = apply_net(discriminator, variables["d"], batch["x"], True)
        fake_logits, upd = apply_net(discriminator, {**variables["d"], **upd}, x_fake, True)
        loss = losses.discriminator_loss(real_logits, fake_logits)
        metrics = {"d_loss": loss,
                   "mean_d_x": jnp.mean(jax.nn.sigmoid(real_logits)),
                   "mean_d_g_z": jnp.mean(jax.nn.sigmoid(fake_logits))}
        return loss, {"metrics": metrics, "updates": {"d": upd}}

    def g_loss(variables, batch, key):
        x_fake, upd = apply_net(generator, variables["g"], latent(key, batch["index"]), True)
        fake_logits, _ = apply_net(discriminator, variables["d"], x_fake, True)
        loss = g_objective(fake_logits)
        return loss, {"metrics": {"g_loss": loss}, "updates": {"g": upd}}

    def generate(g_variables, z):
        return generator.apply(g_variables, z, train=False)

    def sample(g_variables, key, n: int):
        return generate(g_variables, latent(key, jnp.arange(n)))

    def discriminate(d_variables, x):
        return discriminator.apply(d_variables, x, train=False)

    return GANSpec(init=init, d_loss=d_loss, g_loss=g_loss, sample=sample,
                   discriminate=discriminate, latent=latent, generate=generate)
