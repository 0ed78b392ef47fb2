"""GANSpec: a GAN is two loss functions over two parameter trees.

Every family (1-D toy, MLP GAN, DCGAN, cGAN, Pix2Pix, CycleGAN, PGGAN, inpainting) is one
`GANSpec` of pure functions; the generic trainer (`gan_jax.train`) runs them all and knows
nothing of architectures.

Conventions
- `variables` is `{'g': g_variables, 'd': d_variables}`; each is a Flax variables dict
  (`{'params': ..., 'batch_stats': ...}`), and may itself be a tree of several networks.
- A batch is a dict of per-example arrays. It always holds `index`, the global number of each
  example in the run's data stream: per-example randomness (noise z) is drawn from
  `fold_in(key, index)`, so a step gives the same numbers on 1 device with batch B as on n
  devices with B/n each.
- `d_loss` / `g_loss` return `(loss, aux)` with `aux = {'metrics': {name: scalar},
  'updates': {'g': {collection: tree}, 'd': {collection: tree}}}`; `updates` are new non-param
  collections (BatchNorm statistics) of the network being trained.
- `sample(g, key, n) == generate(g, latent(key, arange(n)))` where a family has a latent space
  (the latent-space tools in `gan_jax.latent_space` use `latent` and `generate`).
"""
import dataclasses
from typing import Any, Callable, Optional

Variables = Any  # {'g': flax variables, 'd': flax variables}


@dataclasses.dataclass(frozen=True)
class GANSpec:
    init: Callable[..., Variables]          # (key, example_batch) -> {'g': ..., 'd': ...}
    d_loss: Callable[..., tuple]            # (variables, batch, key) -> (loss, aux)
    g_loss: Callable[..., tuple]            # (variables, batch, key) -> (loss, aux)
    sample: Callable[..., Any]              # (g_variables, key, n) -> samples [n, ...]
    discriminate: Optional[Callable[..., Any]] = None  # (d_variables, x) -> logits [n]
    latent: Optional[Callable[..., Any]] = None        # (key, index [n]) -> z [n, latent_dim]
    generate: Optional[Callable[..., Any]] = None      # (g_variables, z [n, latent_dim]) -> samples
