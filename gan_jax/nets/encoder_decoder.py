"""The encoder-decoder of the Pix2Pix ablation (Isola et al. 2017, sec. 4.3, Fig. 5): the U-Net
of `gan_jax.nets.unet` with its skip connections removed, everything else equal."""
from gan_jax.nets import unet


def generator(config, info):
    return unet.generator(config, info, skips=False)


has_batch_norm = unet.has_batch_norm
