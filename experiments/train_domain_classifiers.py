"""Trains the CycleGAN tasks' scoring classifiers and ships their weights in the package
(`gan_jax.metrics.features.domain_classifiers`).

    PYTHONPATH=. python experiments/train_domain_classifiers.py [--only digits|texture]
        [--seed 0] [--output-dir gan_jax/metrics/features] [--val 0] [--data-dir DIR]

1. digits: the MNIST LeNet architecture on `sklearn_digits` (scikit-learn's 8x8 digits upscaled
   to 28x28), trained on its 1,497 TRAIN digits with the MNIST classifier's own training code
   (`experiments/train_mnist_classifier.py`: random affine augmentation, AdamW, warm-up + cosine,
   one `lax.scan` per epoch), then measured once on the 300 TEST digits. Also recorded, not
   used for anything: its accuracy on mnist_offline's 500 test digits (the identity baseline of
   the F(B) label-preservation score) and the MNIST LeNet's accuracy on sklearn_digits' test
   digits (the identity baseline of the G(A) score).
2. texture: `TextureCNN` (grass 0 / gravel 1) on `skimage_textures`' 800 TRAIN crops, augmented
   per example and step (random flips and 90-degree turns, brightness shift and contrast
   scale, so that it judges texture rather than the global grey level), AdamW with the same
   schedule, then measured once on the 100 TEST crops (from a region of the photos that no
   train crop overlaps).

With `--val K`, the last K examples of a seeded permutation of each train split are held out and
measured instead of the test split, and nothing is written (for choosing settings). Everything is
deterministic from `--seed` (init and training keys split from key(seed)).

Output, in --output-dir: sklearn_digits_lenet.npz / texture_cnn.npz (float32 params + metadata
JSON: model, architecture, settings, seed, measured accuracies) and readable copies of the
metadata beside them (.json).
"""
import argparse
import dataclasses
import datetime
import json
import pathlib
import sys
import time
from typing import Any, Dict, List, Tuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from experiments import train_mnist_classifier as mnist_training
from gan_jax.metrics.features import domain_classifiers as dc
from gan_jax.metrics.features import lenet

DIGITS_CONFIG = mnist_training.TrainConfig(epochs=60)


@dataclasses.dataclass(frozen=True)
class TextureConfig:
    epochs: int = 20
    batch_size: int = 32
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    channels: Tuple[int, ...] = (16, 32, 64, 64)
    max_brightness: float = 0.25     # added to the [-1, 1] image, uniform in [-b, b]
    max_contrast: float = 0.3        # the image's deviation from its mean is scaled by 1 +- c
    blur_probability: float = 0.5    # share of examples blurred (Gaussian, both classes alike)
    max_blur_sigma: float = 2.5      # pixels, sigma uniform in [0.3, max]
    noise_probability: float = 0.5   # share of examples given Gaussian pixel noise, both classes
    max_noise: float = 0.25          # its standard deviation, uniform in [0, max] ([-1, 1] scale)


def _common_metadata(seconds: float, argv) -> Dict[str, Any]:
    return {"train_seconds": round(seconds, 1), "jax_version": jax.__version__,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "command": " ".join(["experiments/train_domain_classifiers.py"] + list(
                sys.argv[1:] if argv is None else argv))}


def _holdout(x, y, val: int, seed: int):
    order = np.random.default_rng(seed).permutation(len(x))
    fit, held = order[:-val], order[-val:]
    return x[fit], y[fit], x[held], y[held]


def _write(path: pathlib.Path, params, metadata: Dict[str, Any]) -> None:
    lenet.save_weights(path, params, metadata)
    sidecar = path.with_suffix(".json")
    sidecar.write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n")
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB) and {sidecar}", flush=True)


# ------------------------------------------------------------------------------------------------
# 1. Digits
# ------------------------------------------------------------------------------------------------

def train_digits(args) -> Dict[str, Any]:
    from gan_jax.data.images import load_images, load_records, to_model_range

    cfg = DIGITS_CONFIG
    train = load_records("sklearn_digits", "train", args.data_dir)
    x, y = to_model_range(train["image"]), train["label"].astype(np.int32)
    if args.val:
        x, y, x_eval, y_eval = _holdout(x, y, args.val, args.seed)
        eval_name = "val"
    else:
        test = load_records("sklearn_digits", "test", args.data_dir)
        x_eval, y_eval = to_model_range(test["image"]), test["label"].astype(np.int32)
        eval_name = "test"
    print(f"digits: training on {len(x)} sklearn_digits train digits, {cfg}", flush=True)
    start = time.perf_counter()
    params, history = mnist_training.train(x, y, cfg, args.seed, progress=not args.no_progress)
    seconds = time.perf_counter() - start
    model = mnist_training.make_model(cfg)
    predict = mnist_training.make_predict(model)
    acc = mnist_training.accuracy(predict, params, x_eval, y_eval)
    errors = int(round((1 - acc) * len(y_eval)))
    print(f"digits: {eval_name} accuracy {acc:.4f} ({errors} errors of {len(y_eval)}); "
          f"{lenet.param_count(params)} params; {seconds:.0f} s", flush=True)
    metadata = {
        "model": "lenet",
        "architecture": lenet.architecture(model),
        "param_count": lenet.param_count(params),
        "training": {k: (list(v) if isinstance(v, tuple) else v)
                     for k, v in dataclasses.asdict(cfg).items()},
        "seed": args.seed, "epochs": cfg.epochs, "data": "sklearn_digits",
        "class_names": [str(c) for c in range(lenet.NUM_CLASSES)],
        "train_examples": len(x),
        f"{eval_name}_examples": len(y_eval),
        f"{eval_name}_accuracy": acc,
        f"{eval_name}_errors": errors,
        "final_train_loss": history[-1]["loss"],
        **_common_metadata(seconds, args.argv),
    }
    if not args.val:
        # The identity baselines of the label-preservation scores (measured, not used above).
        mnist_images, mnist_labels = load_images("mnist_offline", "test", args.data_dir)
        metadata["mnist_offline_test_accuracy"] = mnist_training.accuracy(
            predict, params, to_model_range(mnist_images), mnist_labels.astype(np.int32))
        metadata["mnist_lenet_on_this_test_accuracy"] = float(np.mean(
            lenet.classify(x_eval) == y_eval))
        print(f"digits: this classifier on mnist_offline test: "
              f"{metadata['mnist_offline_test_accuracy']:.4f}; the MNIST LeNet on "
              f"sklearn_digits test: {metadata['mnist_lenet_on_this_test_accuracy']:.4f}",
              flush=True)
        _write(args.output_dir / dc.DIGITS_WEIGHTS.name, params, metadata)
    return metadata


# ------------------------------------------------------------------------------------------------
# 2. Texture
# ------------------------------------------------------------------------------------------------

def gaussian_blur(x: jax.Array, sigma: jax.Array) -> jax.Array:
    """Each square image of x [B, S, S, 1] blurred by a Gaussian of its own sigma [B] (pixels),
    as B_s @ image @ B_s^T, B_s the [S, S] matrix of the kernel cut at 3 sigma + 1 pixel
    with its rows renormalised at the borders."""
    side = x.shape[1]
    d = jnp.arange(side)[:, None] - jnp.arange(side)[None, :]
    k = jnp.exp(-0.5 * (d[None] / sigma[:, None, None]) ** 2)          # [B, S, S]
    k = k * (jnp.abs(d)[None] <= 3 * sigma[:, None, None] + 1)
    k = k / k.sum(-1, keepdims=True)
    return jnp.einsum("bij,bjk,blk->bil", k, x[..., 0], k)[..., None]


def augment_textures(key: jax.Array, x: jax.Array, cfg: TextureConfig) -> jax.Array:
    """Per example: a random one of the 8 flips/90-degree turns, a Gaussian blur with
    probability `blur_probability`, brightness and contrast jitter, and pixel noise with
    probability `noise_probability`, clipped to [-1, 1]. x: [B, H, W, 1] (square).

    Blur and noise keep sharpness and grain from being cues: trained without them, every test
    crop blurred by sigma 1 was judged gravel and every one with noise of std 0.2 grass, so a
    blurring or noisy generator would have passed for a translation."""
    b = x.shape[0]
    (k_flip, k_turn, k_bright, k_contrast, k_blur, k_sigma, k_noisy, k_std,
     k_noise) = jax.random.split(key, 9)
    flip = jax.random.bernoulli(k_flip, 0.5, (b,))
    x = jnp.where(flip[:, None, None, None], x[:, :, ::-1], x)
    turns = jax.random.randint(k_turn, (b,), 0, 4)
    x = jnp.select([turns[:, None, None, None] == t for t in range(4)],
                   [jnp.rot90(x, t, axes=(1, 2)) for t in range(4)])
    sigma = jax.random.uniform(k_sigma, (b,), minval=0.3, maxval=cfg.max_blur_sigma)
    blur = jax.random.bernoulli(k_blur, cfg.blur_probability, (b,))
    x = jnp.where(blur[:, None, None, None], gaussian_blur(x, sigma), x)
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    scale = 1 + jax.random.uniform(k_contrast, (b, 1, 1, 1), minval=-cfg.max_contrast,
                                   maxval=cfg.max_contrast)
    shift = jax.random.uniform(k_bright, (b, 1, 1, 1), minval=-cfg.max_brightness,
                               maxval=cfg.max_brightness)
    x = mean + (x - mean) * scale + shift
    std = jax.random.uniform(k_std, (b, 1, 1, 1), maxval=cfg.max_noise)
    noisy = jax.random.bernoulli(k_noisy, cfg.noise_probability, (b, 1, 1, 1))
    x = x + jnp.where(noisy, std, 0.0) * jax.random.normal(k_noise, x.shape)
    return jnp.clip(x, -1.0, 1.0)


def train_texture_params(x: np.ndarray, y: np.ndarray, cfg: TextureConfig, seed: int = 0,
                         progress: bool = True) -> Tuple[Any, List[Dict[str, float]]]:
    """Trains TextureCNN from scratch on float crops x [N, 128, 128, 1] in [-1, 1].

    A plain jitted step per minibatch (XLA:CPU runs `nn.Conv` slowly inside a `lax.scan`; see
    `gan_jax.metrics.features.lenet`); epoch e permutes with fold_in(train key, e).
    """
    steps_per_epoch = len(x) // cfg.batch_size
    model = dc.TextureCNN(channels=tuple(cfg.channels))
    tx = mnist_training.make_optimizer(cfg, steps_per_epoch)   # warm-up + cosine AdamW
    k_init, k_train = jax.random.split(jax.random.key(seed))
    params = jax.jit(model.init)(k_init, jnp.zeros((1,) + dc.TEXTURE_SHAPE))["params"]
    opt_state = tx.init(params)

    def loss_fn(params, xb, yb):
        _, logits = model.apply({"params": params}, xb)
        loss = optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean()
        return loss, jnp.mean(jnp.argmax(logits, -1) == yb)

    @jax.jit
    def step(params, opt_state, key, xb, yb):
        (loss, acc), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            params, augment_textures(key, xb, cfg), yb)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss, acc

    history = []
    x_dev, y_dev = jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.int32)
    for e in range(cfg.epochs):
        k_perm, k_steps = jax.random.split(jax.random.fold_in(k_train, e))
        perm = np.asarray(jax.random.permutation(k_perm, len(x)))
        keys = jax.random.split(k_steps, steps_per_epoch)
        losses, accs = [], []
        for s in range(steps_per_epoch):
            idx = perm[s * cfg.batch_size:(s + 1) * cfg.batch_size]
            params, opt_state, loss, acc = step(params, opt_state, keys[s], x_dev[idx],
                                                y_dev[idx])
            losses.append(loss)
            accs.append(acc)
        record = {"epoch": e + 1, "loss": float(np.mean(jax.device_get(losses))),
                  "train_acc": float(np.mean(jax.device_get(accs)))}
        history.append(record)
        if progress:
            print(f"texture epoch {e + 1}/{cfg.epochs}: loss {record['loss']:.4f} "
                  f"train acc {record['train_acc']:.4f}", flush=True)
    return params, history


def train_texture(args) -> Dict[str, Any]:
    from gan_jax.data.images import load_records, to_model_range

    cfg = TextureConfig()
    train = load_records("skimage_textures", "train", args.data_dir)
    x, y = to_model_range(train["image"]), train["label"].astype(np.int32)
    if args.val:
        x, y, x_eval, y_eval = _holdout(x, y, args.val, args.seed)
        eval_name = "val"
    else:
        test = load_records("skimage_textures", "test", args.data_dir)
        x_eval, y_eval = to_model_range(test["image"]), test["label"].astype(np.int32)
        eval_name = "test"
    print(f"texture: training on {len(x)} skimage_textures train crops, {cfg}", flush=True)
    start = time.perf_counter()
    params, history = train_texture_params(x, y, cfg, args.seed, not args.no_progress)
    seconds = time.perf_counter() - start
    model = dc.TextureCNN(channels=tuple(cfg.channels))
    predict = jax.jit(lambda p, xb: jnp.argmax(model.apply({"params": p}, xb)[1], -1))
    pred = np.concatenate([np.asarray(predict(params, x_eval[i:i + 50]))
                           for i in range(0, len(x_eval), 50)])
    acc = float(np.mean(pred == y_eval))
    errors = int(np.sum(pred != y_eval))
    per_class = {name: float(np.mean(pred[y_eval == c] == c))
                 for c, name in enumerate(dc.TEXTURE_CLASSES)}
    print(f"texture: {eval_name} accuracy {acc:.4f} ({errors} errors of {len(y_eval)}; per class "
          f"{per_class}); {lenet.param_count(params)} params; {seconds:.0f} s", flush=True)
    metadata = {
        "model": "texture_cnn",
        "architecture": dc.texture_architecture(model),
        "param_count": lenet.param_count(params),
        "training": {k: (list(v) if isinstance(v, tuple) else v)
                     for k, v in dataclasses.asdict(cfg).items()},
        "seed": args.seed, "epochs": cfg.epochs, "data": "skimage_textures",
        "class_names": list(dc.TEXTURE_CLASSES),
        "train_examples": len(x),
        f"{eval_name}_examples": len(y_eval),
        f"{eval_name}_accuracy": acc,
        f"{eval_name}_errors": errors,
        f"{eval_name}_accuracy_per_class": per_class,
        "final_train_loss": history[-1]["loss"],
        **_common_metadata(seconds, args.argv),
    }
    if not args.val:
        _write(args.output_dir / dc.TEXTURE_WEIGHTS.name, params, metadata)
    return metadata


def _parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--only", choices=("digits", "texture"), default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output-dir", type=pathlib.Path, default=dc.HERE)
    p.add_argument("--val", type=int, default=0,
                   help="hold out this many train examples of each set and measure those instead "
                        "of the test split; nothing is written")
    p.add_argument("--data-dir", default=None, help="tfds data dir (default: GAN_JAX_DATA_DIR)")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    args.argv = argv
    return args


def main(argv=None) -> Dict[str, Dict[str, Any]]:
    args = _parse_args(argv)
    out = {}
    if args.only in (None, "digits"):
        out["digits"] = train_digits(args)
    if args.only in (None, "texture"):
        out["texture"] = train_texture(args)
    return out


if __name__ == "__main__":
    main()
