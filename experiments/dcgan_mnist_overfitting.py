"""Does dcgan_mnist's discriminator overfit the 4,500 training digits, or is the run too short?

    python -m gan_jax.train --config experiments/configs/dcgan_mnist.py --workdir runs/x \
        --config.eval.every=500 --config.train.ckpt_every=250 --config.train.keep_checkpoints=100
    PYTHONPATH=. python experiments/dcgan_mnist_overfitting.py --workdir runs/x [--workdir ...]

For each checkpoint of each run: D's mean output D(x) = sigmoid(logit) and its accuracy
(real called real: logit > 0; fake called fake: logit < 0) on n training digits, on the n
held-out real digits (the test split, which D never sees) and on n of G's samples, with the
StyleGAN2-ADA overfitting heuristic r_t = E[sign(logit)] on the training digits; and the run's
MNIST FID at that step where the run evaluated it (metrics.jsonl's eval_fid rows). A D that
memorises its training set calls the training digits real and the held-out digits fake:
D(train) - D(held-out) grows, the held-out accuracy falls towards the fakes' side, and FID
stops improving or rises. A run that is merely short shows no such gap while FID still falls.

D runs as in training: in training mode (BatchNorm over the batch: chunks of one kind, at most
the run's batch size), on G's training-mode samples (G, not its EMA), and through the run's own
DiffAugment policy (`--augment run`, the default; `none` shows D on the plain images).
Output: a markdown table per run (stdout) and `--out` JSON of every row.
"""
import argparse
import json
import os

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax import registry
from gan_jax.gans import diffaugment
from gan_jax.gans.latent import sample_latent
from gan_jax.gans.vanilla import apply_net
from gan_jax.train.restore import checkpoint_steps, load_config, load_run

REAL_KEY, FAKE_KEY, AUG_KEY = 1, 2, 3     # fixed keys: every checkpoint sees the same inputs


def chunk_size(n: int, batch_size: int) -> int:
    """The largest divisor of n not above batch_size (equal chunks: one compiled program)."""
    return max(c for c in range(1, min(n, batch_size) + 1) if n % c == 0)


def to_unit_range(images: np.ndarray) -> np.ndarray:
    """uint8 images -> float32 in [-1, 1], as the training stream scales them."""
    return images.astype(np.float32) / 127.5 - 1.0


def summarise(train_logits, heldout_logits, fake_logits) -> dict:
    """D's mean output and accuracy on training digits, held-out digits and G's samples, the
    train - held-out gaps, and r_t = E[sign(logit)] on the training digits."""
    def mean_d(logits):
        return float(np.mean(1.0 / (1.0 + np.exp(-np.asarray(logits, np.float64)))))

    row = {"d_train": mean_d(train_logits), "d_heldout": mean_d(heldout_logits),
           "d_fake": mean_d(fake_logits),
           "acc_train": float(np.mean(np.asarray(train_logits) > 0)),
           "acc_heldout": float(np.mean(np.asarray(heldout_logits) > 0)),
           "acc_fake": float(np.mean(np.asarray(fake_logits) < 0)),
           "r_t": float(np.mean(np.sign(train_logits)))}
    row["d_gap"] = row["d_train"] - row["d_heldout"]
    row["acc_gap"] = row["acc_train"] - row["acc_heldout"]
    return row


def make_players(config, info, chunk: int, policy):
    """Compiled (D's logits [k, chunk] of images [k, chunk, ...] with their indices, G's images
    [k, chunk, ...] for indices [k, chunk]), chunk by chunk in training mode, D through
    `policy`."""
    g_net = registry.generator(config.model.arch, config, info)
    d_net = registry.discriminator(config.model.arch, config, info)
    m = config.model

    def d_chunk(d_variables, x, index):
        if policy:
            x = diffaugment.augment(x, jax.random.key(AUG_KEY), index, policy)
        return apply_net(d_net, d_variables, x, True)[0]

    def g_chunk(g_variables, index):
        z = sample_latent(jax.random.key(FAKE_KEY), index, m.latent_dim,
                          m.latent_distribution)
        return apply_net(g_net, g_variables, z, True)[0]

    d_logits = jax.jit(lambda v, x, index: jax.lax.map(
        lambda a: on_device_axis(d_chunk)(v, *a), (x, index)))
    g_images = jax.jit(lambda v, index: jax.lax.map(
        lambda i: on_device_axis(g_chunk)(v, i), index))
    return d_logits, g_images


def on_device_axis(fn):
    """fn(variables, *arrays) run alone on the named device axis 'batch' that the nets'
    BatchNorm averages over (as one device of the trainer's mapped step)."""
    def run(variables, *arrays):
        mapped = jax.vmap(fn, in_axes=(None,) + (0,) * len(arrays), axis_name="batch")
        return mapped(variables, *(a[None] for a in arrays))[0]
    return run


def checkpoint_row(run, players, reals: dict, n: int, chunk: int) -> dict:
    """summarise() of one restored run: D on reals['train'], reals['heldout'], n of G's images."""
    d_logits, g_images = players
    index = jnp.arange(n).reshape((n // chunk, chunk))
    fakes = g_images(run.state.g, index)
    fakes = fakes.reshape((n,) + fakes.shape[2:])

    def logits(x):
        return np.asarray(d_logits(run.state.d, x.reshape((n // chunk, chunk) + x.shape[1:]),
                                   index)).reshape(-1)

    return {"step": run.step, **summarise(logits(reals["train"]), logits(reals["heldout"]),
                                          logits(fakes))}


def fid_by_step(workdir: str) -> dict:
    """{step: MNIST FID} of the run's evaluations (metrics.jsonl eval_fid rows, eval.json)."""
    out = {}
    path = os.path.join(workdir, "metrics.jsonl")
    if os.path.isfile(path):
        with open(path) as f:
            for line in f:
                row = json.loads(line)
                if "eval_fid" in row:
                    out[int(row["step"])] = float(row["eval_fid"])
    return out


def load_reals(config, n: int, seed: int = 0) -> dict:
    """n training digits (a fixed random subset) and the first n held-out digits, in [-1, 1]."""
    train, _ = registry.load_split(config, "train")
    heldout, _ = registry.load_split(config, "test")
    pick = np.random.default_rng(seed).choice(len(train), n, replace=False)
    return {"train": jnp.asarray(to_unit_range(train[np.sort(pick)])),
            "heldout": jnp.asarray(to_unit_range(heldout[:n]))}


def diagnose(workdir: str, n: int = 500, augment: str = "run") -> list:
    """The rows (one per checkpoint, oldest first) of one run."""
    config = load_config(workdir)
    policy = diffaugment.parse_policy(config.vanilla.diffaugment) if augment == "run" else ()
    info = registry.data_info(config)
    chunk = chunk_size(n, int(config.train.batch_size))
    players = make_players(config, info, chunk, policy)
    reals = load_reals(config, n)
    fids = fid_by_step(workdir)
    rows = []
    for step in checkpoint_steps(workdir):
        row = checkpoint_row(load_run(workdir, step), players, reals, n, chunk)
        row["fid"] = fids.get(step)
        rows.append(row)
    return rows


COLUMNS = (("step", "step", "{}"), ("D(train)", "d_train", "{:.3f}"),
           ("D(held-out)", "d_heldout", "{:.3f}"), ("D(G(z))", "d_fake", "{:.3f}"),
           ("acc train", "acc_train", "{:.3f}"), ("acc held-out", "acc_heldout", "{:.3f}"),
           ("acc fake", "acc_fake", "{:.3f}"), ("r_t", "r_t", "{:.3f}"),
           ("MNIST FID", "fid", "{:.1f}"))


def markdown(rows) -> str:
    """The rows as a markdown table (a missing FID as a blank)."""
    lines = ["| " + " | ".join(c[0] for c in COLUMNS) + " |",
             "|" + "---|" * len(COLUMNS)]
    for row in rows:
        cells = ["" if row.get(k) is None else fmt.format(row[k]) for _, k, fmt in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", action="append", required=True, help="a run (repeatable)")
    parser.add_argument("--n", type=int, default=500, help="images of each kind (<= 500)")
    parser.add_argument("--augment", choices=("run", "none"), default="run",
                        help="D's inputs through the run's DiffAugment policy, or plain")
    parser.add_argument("--out", default="", help="write every run's rows here (JSON)")
    args = parser.parse_args(argv)
    results = {}
    for workdir in args.workdir:
        results[workdir] = diagnose(workdir, args.n, args.augment)
        print(f"\n{workdir} (D's inputs: {args.augment}; n = {args.n} of each kind)\n")
        print(markdown(results[workdir]))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1)
    return results


if __name__ == "__main__":
    main()
