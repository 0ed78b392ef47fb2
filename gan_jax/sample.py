"""Pictures of a trained generator's latent space (Radford et al. 2015, sections 6.1 and 6.3).

    python -m gan_jax.sample --workdir DIR                       # grid of --num samples
    python -m gan_jax.sample --workdir DIR --mode interpolate --pairs 4 --steps 8 --method slerp
    python -m gan_jax.sample --workdir DIR --mode arithmetic --a 3,7,12 --b 5,9 --c 20

Every latent comes from `spec.latent(jax.random.key(seed), index)`: sample i of the grid of
`--seed S` is the same image in every mode, so pick indices from a grid, then reuse them.
- grid: samples 0..num-1 in a square-ish grid.
- interpolate: row p walks from sample p to sample pairs + p in `steps` steps (PNG, one row per
  pair), and a GIF plays the walks forwards and back.
- arithmetic: rows a, b and c show the chosen samples with the image of their mean latent in the
  last column; the last row shows the image of mean(a) - mean(b) + mean(c) (as in Figure 7).
A conditional run (gan.family='conditional') generates for labels: `--label 7` (every image),
or `--labels 0,1,2` (grid: one row per label, the same --per_row latents in every row); by
default the grid has one row per class (up to 10) and the latent walks use label 0.
Files go to --out: a .png path (the GIF beside it), or a directory, default DIR/latent/, where they
are named MODE_stepSTEP[_ema]_seedSEED.png/.gif. Their paths are printed. --step picks a
checkpoint (default: the latest); --no_ema uses G itself where the run kept an EMA of G. The same
arguments give identical files.
"""
import math
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np
from absl import app, flags, logging

from gan_jax import latent_space, viz
from gan_jax.errors import GanJaxError
from gan_jax.train.restore import load_run

MODES = ("grid", "interpolate", "arithmetic")


def _check_latent_model(run):
    if run.data.kind != "image" or run.spec.latent is None or run.spec.generate is None:
        hint = (" (an image-to-image run: use python -m gan_jax.translate)"
                if run.spec.cond_kind == "image" else "")
        raise GanJaxError(f"the latent-space pictures need an image GAN with a latent space; "
                          f"the run in {run.workdir} generates {run.config.data.name!r} data"
                          f"{hint}")


def check_labels(run, labels):
    """`labels` (ints) checked against the run: None for an unconditional run without labels."""
    k = run.spec.num_classes
    if not labels:
        return None
    if k == 0:
        raise GanJaxError(f"the run in {run.workdir} is unconditional (family "
                          f"{run.config.gan.family!r}): drop --label/--labels")
    bad = [v for v in labels if not 0 <= v < k]
    if bad:
        raise GanJaxError(f"labels {bad} out of range: this run has {k} classes, 0..{k - 1}")
    return list(labels)


def _generate(run, z, labels=None):
    """Images [n, H, W, C] in [-1, 1] from latents z [n, latent_dim] (and their labels)."""
    if run.spec.num_classes:
        cond = jnp.asarray(labels if labels is not None else [0] * z.shape[0], jnp.int32)
        return np.asarray(jax.jit(run.spec.generate)(run.g_variables, z, cond))
    return np.asarray(jax.jit(run.spec.generate)(run.g_variables, z))


def seeded_latents(run, seed: int, n: int):
    """z [n, latent_dim] of samples 0..n-1 for `seed`, the same in every mode."""
    return run.spec.latent(jax.random.key(seed), jnp.arange(n))


def output_paths(run, out, mode: str, seed: int):
    """(png, gif) paths: `out` itself if it ends in .png, else in the directory `out` (default
    workdir/latent/) files named after the mode, checkpoint step, EMA and seed."""
    if out and out.lower().endswith(".png"):
        png = out
    else:
        name = f"{mode}_step{run.step}{'_ema' if run.ema else ''}_seed{seed}.png"
        png = os.path.join(out or os.path.join(run.workdir, "latent"), name)
    return png, png[:-len(".png")] + ".gif"


def write_grid(run, seed: int = 0, num: int = 64, out=None, label=None, labels=None,
               per_row: int = 8) -> list:
    """A PNG grid of samples 0..num-1 (for a conditional run: all for `label`, or one row of
    `per_row` samples per entry of `labels`, by default per class); returns [its path]."""
    _check_latent_model(run)
    if num < 1 or per_row < 1:
        raise GanJaxError(f"--num and --per_row must be at least 1, got {num} and {per_row}")
    if label is not None and labels:
        raise GanJaxError("give --label or --labels, not both")
    if label is not None:
        check_labels(run, [label])
        png, _ = output_paths(run, out, f"grid_label{label}", seed)
        return [viz.save_image_grid(_generate(run, seeded_latents(run, seed, num),
                                              [label] * num), png)]
    if labels or run.spec.num_classes:
        rows = check_labels(run, labels) or list(range(min(run.spec.num_classes, 10)))
        z = jnp.tile(seeded_latents(run, seed, per_row), (len(rows), 1))
        png, _ = output_paths(run, out, "grid_labels", seed)
        images = _generate(run, z, [r for r in rows for _ in range(per_row)])
        return [viz.save_image_grid(images, png, nrow=per_row)]
    png, _ = output_paths(run, out, "grid", seed)
    return [viz.save_image_grid(_generate(run, seeded_latents(run, seed, num)), png)]


def write_interpolation(run, seed: int = 0, pairs: int = 4, steps: int = 8,
                        method: str = "slerp", out=None, duration_ms: int = 120,
                        label=None) -> list:
    """Walks from sample p to sample pairs + p, p < pairs: a PNG grid with one row per pair and
    one column per step, and a GIF that plays the steps forwards and back; returns both paths."""
    _check_latent_model(run)
    if pairs < 1:
        raise GanJaxError(f"--pairs must be at least 1, got {pairs}")
    z = seeded_latents(run, seed, 2 * pairs)
    walks = latent_space.interpolation_latents(z[:pairs], z[pairs:], steps, method)
    check_labels(run, [label] if label is not None else [])
    images = _generate(run, walks.reshape((pairs * steps, -1)),
                       None if label is None else [label] * (pairs * steps))
    png, gif = output_paths(run, out, f"interpolate_{method}", seed)
    viz.save_image_grid(images, png, nrow=steps)
    by_step = images.reshape((pairs, steps) + images.shape[1:])
    frames = [viz.image_grid(by_step[:, s], nrow=math.ceil(math.sqrt(pairs)))
              for s in list(range(steps)) + list(range(steps - 2, 0, -1))]
    viz.save_gif(frames, gif, duration_ms)
    return [png, gif]


def write_arithmetic(run, a, b, c, seed: int = 0, num: int = 64, out=None, label=None) -> list:
    """The picture of mean(z[a]) - mean(z[b]) + mean(z[c]), indices into samples 0..num-1:
    rows a, b, c with their mean's image last, then a row ending in the result; returns [path]."""
    _check_latent_model(run)
    z = seeded_latents(run, seed, num)
    groups = [latent_space.check_indices(g, num, f"--{name}")
              for name, g in zip("abc", (a, b, c))]
    means = latent_space.group_means(z, *groups)
    result = latent_space.vector_arithmetic(z, *groups)
    check_labels(run, [label] if label is not None else [])
    rows = jnp.concatenate([z[np.concatenate(groups)], means, result[None]])
    images = _generate(run, rows, None if label is None else [label] * rows.shape[0])
    cols = max(len(g) for g in groups) + 1
    cells = np.full((4 * cols,) + images.shape[1:], -1.0, images.dtype)  # black where empty
    start = 0
    for row, g in enumerate(groups):
        cells[row * cols: row * cols + len(g)] = images[start: start + len(g)]
        start += len(g)
    cells[cols - 1::cols] = images[start:]  # the last column: mean a, mean b, mean c, result
    png, _ = output_paths(run, out, "arithmetic", seed)
    return [viz.save_image_grid(cells, png, nrow=cols)]


def parse_indices(values, name: str) -> list:
    """Flag strings ['1', '2'] -> [1, 2]; GanJaxError naming the flag otherwise."""
    try:
        return [int(v) for v in values or []]
    except ValueError as e:
        raise GanJaxError(f"--{name} must be comma-separated sample indices such as 1,2,3; "
                          f"got {','.join(values)!r}") from e


FLAGS = flags.FLAGS


def define_flags():
    """The command line's flags (defined only when run as a program, so importing this module
    never clashes with other modules' absl flags such as gan_jax.train's --workdir)."""
    flags.DEFINE_string("workdir", None, "run directory written by python -m gan_jax.train")
    flags.DEFINE_enum("mode", "grid", MODES, "which picture to write")
    flags.DEFINE_integer("seed", 0, "seed of the latents: jax.random.key(seed)")
    flags.DEFINE_integer("num", 64, "grid: number of samples; arithmetic: size of the batch "
                                    "that --a/--b/--c index")
    flags.DEFINE_integer("pairs", 4, "interpolate: number of walks (rows)")
    flags.DEFINE_integer("steps", 8, "interpolate: images per walk, both ends included")
    flags.DEFINE_enum("method", "slerp", latent_space.METHODS, "interpolate: lerp or slerp")
    flags.DEFINE_list("a", [], "arithmetic: sample indices whose mean latent is added")
    flags.DEFINE_list("b", [], "arithmetic: sample indices whose mean latent is subtracted")
    flags.DEFINE_list("c", [], "arithmetic: sample indices whose mean latent is added")
    flags.DEFINE_string("out", None, "output .png path or directory (default WORKDIR/latent/)")
    flags.DEFINE_integer("label", None, "conditional runs: generate every image for this label")
    flags.DEFINE_list("labels", [], "conditional runs, grid: one row per label (e.g. 0,1,2)")
    flags.DEFINE_integer("per_row", 8, "grid with --labels: samples per row")
    flags.DEFINE_integer("step", None, "checkpoint step (default: the latest)")
    flags.DEFINE_bool("no_ema", False, "use G's own variables even where the run kept an EMA")
    flags.mark_flag_as_required("workdir")


def run_flags() -> list:
    """Do what the flags ask; returns the written paths."""
    if FLAGS.mode == "arithmetic":
        a, b, c = (parse_indices(FLAGS[n].value, n) for n in "abc")
        if not (a and b and c):
            raise GanJaxError("--mode arithmetic needs --a, --b and --c (sample indices of the "
                              "--seed grid, e.g. --a 3,7 --b 5 --c 12)")
        for name, g in zip("abc", (a, b, c)):  # fail before loading anything
            latent_space.check_indices(g, FLAGS.num, f"--{name}")
    labels = parse_indices(FLAGS.labels, "labels")
    run = load_run(FLAGS.workdir, step=FLAGS.step, use_ema=not FLAGS.no_ema)
    if FLAGS.mode == "grid":
        return write_grid(run, FLAGS.seed, FLAGS.num, FLAGS.out, FLAGS.label, labels,
                          FLAGS.per_row)
    if labels:
        raise GanJaxError("--labels makes a grid of rows; for --mode "
                          f"{FLAGS.mode} give one --label")
    if FLAGS.mode == "interpolate":
        return write_interpolation(run, FLAGS.seed, FLAGS.pairs, FLAGS.steps, FLAGS.method,
                                   FLAGS.out, label=FLAGS.label)
    return write_arithmetic(run, a, b, c, FLAGS.seed, FLAGS.num, FLAGS.out, label=FLAGS.label)


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)  # orbax logs at INFO
    try:
        paths = run_flags()
    except GanJaxError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    for path in paths:
        print(path)


def run():
    """The console script gan-jax-sample."""
    define_flags()
    app.run(main)


if __name__ == "__main__":
    run()
