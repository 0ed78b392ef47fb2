"""The one place that maps config names to code: GAN families, networks and data.

- Families (config key `gan.family`): each a module in `gan_jax/gans/` with
  `make_spec(config, data) -> GANSpec` (`data`: a `DataInfo`, the run's data described without
  loading it) and `config_section()`, its own config section (`config.<family>`), which
  `gan_jax.config.base_config` adds for every family here.
- Networks (config key `model.arch`, and the families' own keys): each a module in
  `gan_jax/nets/` with `generator(config, data, **options)` and/or
  `discriminator(config, data, **options)`, and `has_batch_norm(config, player)`.
- Data (config key `data.name`): `data_info`, `make_stream`, `load_split`, `load_pairs`,
  `load_unpaired`,
  `example_batch`
  (`gan_jax.data.sources`).

Adding a family = its module, its nets and configs, plus one line in FAMILIES; the trainer
(`gan_jax.train`) imports only this module, never `gans/` or `nets/` (a test reads the
imports). Modules are imported on first lookup; an unknown name fails with the valid ones.
"""
import difflib
import importlib

from gan_jax.data.sources import (data_info, example_batch, load_pairs,  # noqa: F401
                                  load_split, load_unpaired, make_stream, open_train_table)
from gan_jax.errors import GanJaxError

FAMILIES = {
    "vanilla": "gan_jax.gans.vanilla",          # Goodfellow et al. 2014 + the loss zoo
    "conditional": "gan_jax.gans.conditional",  # Mirza & Osindero 2014, projection D
    "pix2pix": "gan_jax.gans.pix2pix",          # Isola et al. 2017, U-Net + PatchGAN
    "inpaint": "gan_jax.gans.inpaint",          # Pathak et al. 2016, context encoder
    "cyclegan": "gan_jax.gans.cyclegan",        # Zhu et al. 2017, ResNet G + PatchGAN, pool
    "progressive": "gan_jax.gans.progressive",  # Karras et al. 2018, growing from 4x4, fade-in
}
NETS = {
    "mlp": "gan_jax.nets.mlp",
    "dcgan": "gan_jax.nets.dcgan",
    "unet": "gan_jax.nets.unet",
    "encoder_decoder": "gan_jax.nets.encoder_decoder",
    "patchgan": "gan_jax.nets.patchgan",
    "context_encoder": "gan_jax.nets.context_encoder",
    "resnet": "gan_jax.nets.resnet",
}


def _lookup(table: dict, name: str, what: str):
    if name not in table:
        close = difflib.get_close_matches(str(name), list(table), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise GanJaxError(f"unknown {what} {name!r}; valid: {sorted(table)}.{hint}")
    return importlib.import_module(table[name])


def family(name: str):
    """The module of GAN family `name` (FAMILIES)."""
    return _lookup(FAMILIES, name, "gan.family")


def make_spec(config, data):
    """The GANSpec of config.gan.family for the run's data (`DataInfo` or a stream)."""
    info = getattr(data, "info", data)
    return family(config.gan.family).make_spec(config, info)


def family_sections() -> dict:
    """{family: its config section} for every registered family that has options."""
    sections = {}
    for name in FAMILIES:
        section = family(name).config_section()
        if section is not None:
            sections[name] = section
    return sections


def net(name: str):
    """The module of network `name` (NETS)."""
    return _lookup(NETS, name, "network (model.arch)")


def generator(name: str, config, data, **options):
    return _player(name, "generator", config, data, options)


def discriminator(name: str, config, data, **options):
    return _player(name, "discriminator", config, data, options)


def has_batch_norm(name: str, config, player: str) -> bool:
    """Whether network `name`'s G ('g') or D ('d') normalises over the batch."""
    return net(name).has_batch_norm(config, player)


def _player(name, kind, config, data, options):
    module = net(name)
    build = getattr(module, kind, None)
    if build is None:
        others = sorted(n for n in NETS if hasattr(net(n), kind))
        raise GanJaxError(f"network {name!r} has no {kind}; {kind}s: {others}")
    return build(config, getattr(data, "info", data), **options)
