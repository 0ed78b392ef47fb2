"""GANSpec: a GAN is two loss functions over two parameter trees.

Every family (1-D toy, MLP GAN, DCGAN, cGAN, Pix2Pix, CycleGAN, PGGAN, inpainting) is one
`GANSpec` of pure functions, made by its module in `gan_jax/gans/` as
`make_spec(config, data) -> GANSpec` and found through `gan_jax.registry` (config key
`gan.family`). The generic trainer (`gan_jax.train`) runs them all and knows nothing of
architectures. `tests/gans/test_spec_contract.py` checks every registered family against the
contract below.

The contract
------------
Variables. `init(key, batch)` returns `{'g': g_variables, 'd': d_variables}`; each is a Flax
variables dict (`{'params': ..., 'batch_stats': ..., 'spectral': ...}`) and may itself be a
tree of several networks (CycleGAN's `{'ab': ..., 'ba': ...}`). Only `params` are trained; every
other collection is state the networks update themselves.

Batches. A batch is a dict of per-example arrays, after the data stream's `transform` (images
float32 in [-1, 1]). It always holds `index` (int32 [B]: the global number of each example in
the run's data stream) and `step` (int32 scalar: the generator updates done so far, e.g. for
PGGAN's fade-in), plus the data's fields: `x` (and `label` for labelled data; `a`, `b` for paired
or unpaired data). All per-example randomness is drawn from `fold_in(key, index)`, so a step
gives the same numbers on 1 device with batch B as on n devices with B/n each.

Losses. `d_loss(variables, batch, key)` and `g_loss(variables, batch, key)` return
`(loss, aux)`; `variables` is `{'g': ..., 'd': ..., 'extra': ...}` with the player's params
substituted. `aux` holds
  - `metrics`: `{name: scalar}`, every one logged (metrics.jsonl, TensorBoard, curves.png);
    averaged over devices;
  - `updates`: `{'g': {collection: tree}, 'd': {collection: tree}}`, new non-param collections
    of the network being trained (BatchNorm statistics, spectral norm's power-iteration
    vectors); averaged over devices, so every device holds the same networks;
  - `state` (optional): the new per-device state (`TrainState.extra`, e.g. CycleGAN's image
    pool), NOT averaged: each device keeps its own, and it is checkpointed with the run.
The trainer differentiates `loss` with respect to the player's `params` only.

Update order. By default the trainer runs Algorithm 1 of Goodfellow et al.: `train.d_steps`
discriminator updates (minibatch i of the batch's leading d_steps axis, key `fold_in(key, i)`),
then one generator update (the last minibatch, key `fold_in(key, d_steps)`). A family that needs
another order sets `update(play, game, batch, key) -> (game, metrics)`; `play(player, game,
minibatch, key, grads=None) -> (game, metrics)` is the trainer's one optimizer step of player 'g'
or 'd' (gradient, device average, optax update, `d_constraint`, the averaged `updates`, the new
`state`; `grads=(gradient, aux)` when the family computed the gradient itself), and `game` is
`{'g', 'd', 'g_opt', 'd_opt', 'extra'}`. The trainer still derives the
keys, averages the metrics, keeps the EMA of G and counts the step.

Phases. A family whose step is a different program at different times (PGGAN: one network
depth per resolution level) gives `phase_of(step) -> int`, a pure function of the step counter
(Python ints), and `at_phase(phase) -> GANSpec`, the spec whose losses are that phase's program.
The trainer compiles one step per phase, on first use, and runs step s with phase_of(s)'s
(`train.steps_per_call` steps of one call must lie in one phase: the family checks its
schedule). The spec's own `d_loss` / `g_loss` must still compute every step (e.g. by
`lax.switch` on the phase of `batch['step']`), so a caller that knows nothing of phases gets the
same numbers.

Sampling. `sample(g_variables, key, n, cond=None) -> [n, *example_shape]`, float32. For a
conditional family (`num_classes > 0`) `cond` is int labels [n] (default: classes in turn,
`arange(n) % num_classes`); for an image-to-image family (`cond_kind='image'`) `cond` is the
input images [n, *shape_of('a')] in [-1, 1], and required; a family that also translates
back (CycleGAN) gives `reverse(g_variables, key, n, cond)` for B-images cond. Where a family
has a latent space, `sample(g, key, n, cond) ==
generate(g, latent(key, arange(n)), cond)` (the latent-space tools of `gan_jax.latent_space`
use `latent` and `generate`).

Pictures and numbers. `snapshots(seed)` returns the family's picture writer (`write(workdir,
step, g_variables, d_variables) -> path`, `finish(workdir) -> path or None`, see
`gan_jax.snapshots`); `evaluators(context)` returns its evaluation plan (`gan_jax.evaluators`):
the conditions to sample with and plug-ins that yield `(name, value)` pairs.
"""
import dataclasses
from typing import Any, Callable, Optional, Tuple

Variables = Any  # {'g': flax variables, 'd': flax variables}


@dataclasses.dataclass(frozen=True)
class GANSpec:
    init: Callable[..., Variables]          # (key, example_batch) -> {'g': ..., 'd': ...}
    d_loss: Callable[..., tuple]            # (variables, batch, key) -> (loss, aux)
    g_loss: Callable[..., tuple]            # (variables, batch, key) -> (loss, aux)
    sample: Callable[..., Any]              # (g_variables, key, n, cond=None) -> [n, ...]
    discriminate: Optional[Callable[..., Any]] = None  # (d_variables, x, cond=None) -> logits
    latent: Optional[Callable[..., Any]] = None        # (key, index [n]) -> z [n, latent_dim]
    generate: Optional[Callable[..., Any]] = None      # (g_variables, z, cond=None) -> samples
    reverse: Optional[Callable[..., Any]] = None       # like sample, B -> A (CycleGAN's F)
    update: Optional[Callable[..., Any]] = None        # (play, game, batch, key) -> (game, metrics)
    init_extra: Optional[Callable[..., Any]] = None    # (key, example_batch) -> per-device state
    d_constraint: Optional[Callable[..., Any]] = None  # (d_params) -> d_params, after D updates
    phase_of: Optional[Callable[[int], int]] = None     # step -> phase (static; PGGAN's level)
    at_phase: Optional[Callable[[int], Any]] = None     # phase -> that phase's GANSpec
    num_classes: int = 0                    # > 0: conditional; cond are labels 0..num_classes-1
    cond_kind: str = "label"                # 'image': cond are input images (Pix2Pix)
    progress: Tuple[str, ...] = ("d_loss", "g_loss")   # metrics shown on the progress bar
    snapshots: Optional[Callable[..., Any]] = None     # (seed) -> picture writer
    evaluators: Optional[Callable[..., Any]] = None    # (EvalContext) -> EvalPlan
