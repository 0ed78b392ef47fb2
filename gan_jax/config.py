"""Configs: the default every experiment starts from, and the one loader of experiment files
and of runs' config.json (used by the CLIs, restore and the benchmarks alike).

All keys a run reads are in `base_config()`, so `--config.KEY=VALUE` can set any of them and a
mistyped key fails at once. Each GAN family adds its own section (`config.<family>`, from
`gan_jax.registry`). A workdir's config.json written before a key existed reads it as its
default (`complete`), and keys that were renamed are carried over (`migrate`).
"""
import difflib
import importlib.util
import json
import os
import sys

import ml_collections

from gan_jax.errors import GanJaxError

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
CONFIG_DIR = os.path.join(ROOT, "experiments", "configs")


def optimizer(name="adam", lr=2e-4, b1=0.5, b2=0.999, momentum=0.9, nesterov=False, rho=0.99,
              schedule="constant", warmup_steps=0, decay_start=0.5, final_lr_scale=0.0):
    """One player's optimizer (gan_jax.train.optimizers): adam | sgd | rmsprop, and its
    learning-rate schedule: constant | linear_decay (constant until decay_start x the run, then
    linearly to final_lr_scale x lr) | cosine (from warm-up end to the run's end), after
    warmup_steps of linear warm-up from 0."""
    return ml_collections.ConfigDict(dict(
        name=name, lr=lr, b1=b1, b2=b2, momentum=momentum, nesterov=nesterov, rho=rho,
        schedule=schedule, warmup_steps=warmup_steps, decay_start=decay_start,
        final_lr_scale=final_lr_scale))


def base_config() -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.seed = 0
    c.gan = ml_collections.ConfigDict(dict(
        family="vanilla"))      # gan_jax.registry.FAMILIES: vanilla | conditional | pix2pix |
                                # cyclegan | inpaint | progressive
    c.data = ml_collections.ConfigDict(dict(
        name="mnist_offline",   # toy_1d | ring | grid | mnist_offline | stacked_mnist | mnist |
                                # fashion_mnist | cifar10 | celeb_a | photo_crops
        data_dir="",            # tfds data_dir ('' = $GAN_JAX_DATA_DIR or ~/tensorflow_datasets)
        image_size=0,           # > 0: centre-crop images square and resize them to this side
        augment="none",         # none | flip | jitter (per example, keyed; gan_jax.data.augment)
        streaming=False,        # image sets: read each batch's rows from the prepared files by
                                # random access (flat memory; gan_jax.data.records) instead of
                                # loading the split; the same batches either way
        pseudo_labels=0,        # > 0: labels are k-means clusters of the training pixels (no
                                # class label used; gan_jax.data.clusters), for the conditional
                                # family: a cluster-conditioned GAN
        read_workers=0,         # streaming: > 0 reads the next calls' batches ahead in this
                                # many worker processes (gan_jax.data.prefetch)
        path="",                # paired_folder: the folder of train/ val/ test/ A|B images;
                                # unpaired_folder: the folder of trainA/ trainB/ testA/ testB/
        variant="",             # cycle_gan: the tfds config (horse2zebra, apple2orange, ...)
        direction="AtoB",       # paired_folder: AtoB | BtoA
        distribution="gaussian",  # toy_1d: gaussian | mixture
        mean=4.0, std=0.5, separation=4.0))
    c.model = ml_collections.ConfigDict(dict(
        arch="mlp",             # gan_jax.registry.NETS: mlp | dcgan | unet | encoder_decoder |
                                # resnet (the generators; patchgan is Pix2Pix's and CycleGAN's D)
                                # | context_encoder (inpaint's G and D)
        latent_dim=100, latent_distribution="normal",
        # mlp
        g_hidden=(128,), d_hidden=(128,), g_activation="relu", d_activation="leaky_relu",
        g_output="tanh", g_batch_norm=False, d_batch_norm=False,
        # dcgan: width of G's last and D's first hidden stage (doubling per stage), and the
        # 4x4 stride-2 convolution implementation: fast (per layer and backend, see
        # gan_jax.ops.choice) | winograd | gemm | subpixel | xla | matrix
        g_width=64, d_width=64, conv_impl="fast",
        # dcgan: float32 | bfloat16 (mixed precision: float32 parameters, optimizer state and
        # BatchNorm statistics; bfloat16 convolutions and activations; for GPU/TPU)
        compute_dtype="float32",
        # dcgan D's normalisation: batch | layer | none (a WGAN-GP critic must not use batch)
        d_norm="batch",
        spectral_norm=False,    # spectral normalisation of every layer of D (mlp, dcgan)
        mbstd_group=0,          # > 0: minibatch standard deviation before D's output layer
                                # (PGGAN's, groups of this many examples; mlp, dcgan)
        norm="batch",           # unet, resnet, patchgan: batch | instance | none
        patch=70,               # patchgan: receptive field 1 | 16 | 34 | 70 | 142 | 286
        dropout=0.5,            # unet: dropout rate of the first three decoder blocks (G's noise)
        test_dropout=False,     # unet: keep dropout on when translating (the paper)
        res_blocks=6))          # resnet (CycleGAN's G): residual blocks, 6 (128 px) or 9 (256)
    c.loss = ml_collections.ConfigDict(dict(
        # gan_jax.losses.LOSSES: non_saturating | minimax | least_squares | wasserstein | hinge
        name="non_saturating",
        gp_weight=0.0,          # WGAN-GP gradient penalty on interpolates (Gulrajani: 10)
        r1_gamma=0.0,           # R1: gamma/2 E|grad D(x)|^2 on real data (Mescheder et al.)
        r2_gamma=0.0,           # R2: the same on generated data
        weight_clip=0.0,        # > 0: clip D's parameters to [-c, c] after each update (WGAN)
        drift=0.0))             # PGGAN's epsilon-drift: + drift * E[D(x)^2] on real (0.001)
    c.optim = ml_collections.ConfigDict(dict(g=optimizer(), d=optimizer()))
    c.train = ml_collections.ConfigDict(dict(
        steps=10_000, batch_size=64,
        d_steps=1,               # discriminator (critic) updates per generator update: k, n_critic
        steps_per_call=1,        # steps fused into one compiled call (lax.scan)
        mapper="pmap",           # pmap | shard_map
        num_devices=0,           # 0 = all local devices
        ema_decay=0.0,           # > 0 keeps an EMA of G, used for samples and evaluation
        ema_rampup=0.0,          # > 0: the EMA's half-life is capped at this x the steps done
                                 # (StyleGAN2's ramp-up, 0.05 there; train/step.py ema_decay_at)
        log_every=100, sample_every=1000, ckpt_every=1000, keep_checkpoints=3,
        progress=True,           # the progress bar (steps/s and the family's chosen losses)
        tensorboard=True))       # TensorBoard event files in the workdir (tensorboardX)
    c.eval = ml_collections.ConfigDict(dict(
        num_samples=10_000,     # generated samples per evaluation
        every=0,                # > 0: also evaluate every this many steps (eval_* rows in
                                # metrics.jsonl); the end of training always writes eval.json
        metrics="auto",         # auto | comma list of fid,is,kid,pr,dc,parzen,modes
        max_real=0,             # > 0: the real-set metrics compare with a fixed seeded subset
                                # of this many training images (0: all; evaluators/__init__.py)
        features="auto",        # auto | mnist | inception (gan_jax.evaluators.images)
        inception_weights="",   # pytorch-fid .pth or converted .npz ('' = default location)
        baseline=False))        # also score the held-out real split (real_* keys)
    from gan_jax.registry import family_sections
    for name, section in family_sections().items():
        c[name] = section
    return c


# ---------------------------------------------------------------------------------------------
# Loading experiment files (python) and runs' config.json.

def available_configs(config_dir: str = CONFIG_DIR):
    return sorted(f[:-3] for f in os.listdir(config_dir)
                  if f.endswith(".py") and not f.startswith("_"))


def config_path(name_or_path: str, config_dir: str = CONFIG_DIR) -> str:
    """An experiment's file: a path as given, or NAME for experiments/configs/NAME.py."""
    if os.path.isfile(name_or_path):
        return name_or_path
    candidate = os.path.join(config_dir, f"{name_or_path}.py")
    if not os.path.isfile(candidate):
        names = available_configs(config_dir)
        close = difflib.get_close_matches(name_or_path, names, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise GanJaxError(f"unknown experiment config {name_or_path!r}; valid: {names} (in "
                          f"experiments/configs/).{hint}")
    return candidate


def load_experiment(name_or_path: str) -> ml_collections.ConfigDict:
    """`get_config()` of an experiment file (NAME or a path), unlocked."""
    if ROOT not in sys.path:  # configs may import each other as experiments.configs.NAME
        sys.path.append(ROOT)
    path = config_path(name_or_path)
    spec = importlib.util.spec_from_file_location("_gan_jax_config", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.get_config()


def resolve_config_arg(argv, config_dir: str = CONFIG_DIR):
    """Expand --config=NAME to its file; fail with the valid names for an unknown experiment."""
    out = list(argv)
    for i, arg in enumerate(out):
        if arg.startswith("--config=") or arg == "--config":
            value = arg.split("=", 1)[1] if "=" in arg else (out[i + 1] if i + 1 < len(out) else "")
            path = value.split(":", 1)[0]
            value = config_path(path, config_dir) + value[len(path):]
            if "=" in arg:
                out[i] = "--config=" + value
            else:
                out[i + 1] = value
    return out


def check_override_keys(argv):
    """Fail on an unknown --config.KEY before anything runs, listing the valid keys beside it."""
    paths = [a.split("=", 1)[1] for a in argv if a.startswith("--config=")]
    paths += [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--config"]
    overrides = [a[len("--config."):].split("=", 1)[0] for a in argv if a.startswith("--config.")]
    if not paths or not overrides:
        return
    config = load_experiment(paths[0].split(":", 1)[0])
    for key in overrides:
        node, walked = config, []
        for part in key.split("."):
            fields = list(node.keys()) if hasattr(node, "keys") else []
            if part not in fields:
                renamed = RENAMED.get(key)
                if renamed:
                    raise GanJaxError(f"config key {key!r} was renamed {renamed!r} ("
                                      f"{RENAMED_HINTS.get(key, '')}); use --config.{renamed}=...")
                where = ".".join(walked) or "the config"
                close = difflib.get_close_matches(part, fields, n=1)
                hint = f" Did you mean {'.'.join(walked + close)!r}?" if close else ""
                raise GanJaxError(f"unknown config key {key!r}: {where} has no {part!r}; valid "
                                  f"keys there: {sorted(fields)}.{hint}")
            node, walked = node[part], walked + [part]


RENAMED = {"loss.g_loss": "loss.name"}
RENAMED_HINTS = {"loss.g_loss": "saturating is now minimax; non_saturating keeps its name"}
_G_LOSS_NAMES = {"saturating": "minimax", "non_saturating": "non_saturating"}


def migrate(tree: dict) -> dict:
    """A config.json tree written by an older gan_jax, with renamed keys carried over:
    loss.g_loss ('saturating' | 'non_saturating') became loss.name ('minimax' |
    'non_saturating')."""
    tree = json.loads(json.dumps(tree))
    loss = tree.get("loss", {})
    if "g_loss" in loss:
        old = loss.pop("g_loss")
        loss.setdefault("name", _G_LOSS_NAMES.get(old, old))
    return tree


def _tuples(tree):
    """JSON lists back to the tuples the config held (config.json writes tuples as lists)."""
    if isinstance(tree, dict):
        return {k: _tuples(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return tuple(_tuples(v) for v in tree)
    return tree


def _with_defaults(defaults: dict, tree: dict) -> dict:
    """`tree` with the keys it lacks taken from `defaults` (runs written before a key existed
    read it as its default, which keeps the old behaviour)."""
    out = dict(defaults)
    for k, v in tree.items():
        out[k] = _with_defaults(defaults[k], v) if isinstance(v, dict) and isinstance(
            defaults.get(k), dict) else v
    return out


def to_json_dict(config) -> dict:
    """The resolved config as plain JSON types (tuples become lists)."""
    return json.loads(json.dumps(config.to_dict(), default=list))


def complete(tree: dict) -> dict:
    """A config.json tree migrated and completed with today's defaults, as plain JSON types."""
    return json.loads(json.dumps(_with_defaults(to_json_dict(base_config()), migrate(tree)),
                                 default=list))


def from_json(tree: dict) -> ml_collections.ConfigDict:
    """The locked ConfigDict of a run's config.json tree (migrated, completed)."""
    config = ml_collections.ConfigDict(_tuples(complete(tree)))
    config.lock()
    return config
