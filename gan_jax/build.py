"""From a config to the objects of a run: the data stream and the GANSpec.

The only place that maps config names to classes; each lookup fails with a GanJaxError that
lists the valid names.
"""
from gan_jax.data.stream import ImageStream, ToyStream
from gan_jax.data.toy import TOY_DATASETS, make_toy
from gan_jax.errors import GanJaxError
from gan_jax.gans.vanilla import make_vanilla_gan
from gan_jax.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from gan_jax.nets.mlp import MLPDiscriminator, MLPGenerator

ARCHITECTURES = ("mlp", "dcgan")


def build_data(config):
    """The training stream for config.data (toy distributions or images)."""
    if config.data.name in TOY_DATASETS:
        return ToyStream(make_toy(config.data), seed=config.seed)
    from gan_jax.data.images import IMAGE_DATASETS, load_images
    if config.data.name not in IMAGE_DATASETS:
        raise GanJaxError(f"unknown data.name {config.data.name!r}; valid: "
                          f"{sorted(TOY_DATASETS) + sorted(IMAGE_DATASETS)}")
    images, labels = load_images(config.data.name, "train", config.data.data_dir or None,
                                 image_size=config.data.image_size or None)
    return ImageStream(images, labels, seed=config.seed)


def build_gan(config, data):
    """The GANSpec for config.model, with G's output shaped like the data's examples."""
    m = config.model
    if m.arch == "mlp":
        if m.compute_dtype != "float32":
            raise GanJaxError(f"model.compute_dtype={m.compute_dtype!r} is a DCGAN option; the "
                              "MLP nets compute in float32 (set model.compute_dtype='float32')")
        generator = MLPGenerator(out_shape=tuple(data.example_shape), hidden=tuple(m.g_hidden),
                                 activation=m.g_activation, output=m.g_output,
                                 batch_norm=m.g_batch_norm)
        discriminator = MLPDiscriminator(hidden=tuple(m.d_hidden), activation=m.d_activation,
                                         batch_norm=m.d_batch_norm)
    elif m.arch == "dcgan":
        if data.kind != "image":
            raise GanJaxError(f"model.arch='dcgan' needs image data, got data.name "
                              f"{config.data.name!r}; use arch 'mlp' for the toy distributions")
        generator = DCGANGenerator(image_shape=tuple(data.example_shape), base_width=m.g_width,
                                   conv_impl=m.conv_impl, compute_dtype=m.compute_dtype)
        discriminator = DCGANDiscriminator(base_width=m.d_width, conv_impl=m.conv_impl,
                                           compute_dtype=m.compute_dtype)
    else:
        raise GanJaxError(f"unknown model.arch {m.arch!r}; valid: {ARCHITECTURES}")
    return make_vanilla_gan(generator, discriminator, m.latent_dim,
                            generator_loss=config.loss.g_loss,
                            latent_distribution=m.latent_distribution)
