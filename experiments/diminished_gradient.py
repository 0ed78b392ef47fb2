"""The diminished gradient (Goodfellow et al. 2014, Section 3): G's minimax loss log(1 - D(G(z)))
saturates when D rejects the fakes; the non-saturating -log D(G(z)) does not.

    python experiments/diminished_gradient.py [--out runs/diminished_gradient] [--steps 10000]
        [--every 250] [--head-start 500] [--toy-steps 5000] [--fid-samples 10000] [--quick]

MNIST: the MLP GAN of experiments/configs/mlp_mnist.py (the offline 4,500 real digits, Adam
2e-4), trained from seed 0 with the saturating G loss (loss.name='minimax') and with the
non-saturating one, each twice: as configured, and after a D head start (``--head-start`` D-only
updates against the initial G, the paper's "early in learning ... D can reject samples with high
confidence"). Every run starts from the same G and D and reads the same data. Every ``--every``
steps both G losses are differentiated at the run's current (G, D) on the same 256 fixed latents
z: |grad_G| of each (global L2 norm over G's params) and mean D(G(z)). At the end of each run,
the MNIST FID of 10,000 samples (the shipped MNIST LeNet's features). 1-D toy:
experiments/configs/gan_1d.py trained once per loss by the project's trainer.

Writes OUT/diminished_gradient.png (the losses, their slopes and the measured gradient ratio
against D(G(z)); |grad_G| and mean D(G(z)) over training), OUT/gan_1d_losses.png (the 1-D toy's
Figure-1 panels, one row per loss), OUT/table.md (the tables printed, and the wall time) and
OUT/measurements.json (every probe). --quick: a few steps of everything and no FID, a smoke test.
"""
import argparse
import json
import os
import shutil
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

from gan_jax import diminished_gradient as dgr  # noqa: E402
from gan_jax import registry, viz  # noqa: E402
from gan_jax.config import load_experiment  # noqa: E402

MNIST_CONFIG = "mlp_mnist"
TOY_CONFIG = "gan_1d"
PROBE_SIZE = 256           # fixed latents z at which both losses are differentiated
PROBE_KEY = 0xD1CE         # their key: fold_in(key(seed), PROBE_KEY)
HEAD_START_KEY = 0x4EAD    # the D head start's keys: fold_in(run key, HEAD_START_KEY)
SEED = 0
TITLES = {"minimax": "saturating: min log(1 − D(G(z)))",
          "non_saturating": "non-saturating: min −log D(G(z))"}
COLOURS = {"minimax": "tab:red", "non_saturating": "tab:blue"}
STYLES = {"minimax": "-", "non_saturating": "--"}     # line style: the loss a run trained with
MARKERS = {False: "o", True: "^"}                     # without / with a D head start
HEAD_START_COLOURS = {False: "tab:green", True: "tab:purple"}
TABLE_STEPS = (0, 250, 1000, 2500, 5000, 10_000)


def mnist_config(loss: str, steps: int, every: int):
    """mlp_mnist with G loss ``loss``, ``steps`` steps of ``every`` fused steps a call."""
    c = load_experiment(MNIST_CONFIG)
    c.seed = SEED
    c.loss.name = loss
    c.train.steps = steps
    c.train.steps_per_call = every
    c.train.log_every = c.train.sample_every = c.train.ckpt_every = every
    c.train.progress = False
    c.train.tensorboard = False
    c.eval.metrics = "fid"
    return c


def probe_batch(data, n: int):
    """The measurement batch: examples 0..n-1 of the stream (their indices fix z), on device."""
    host = {k: v[0] for k, v in data.batches(0, 1, n).items()}
    batch = data.transform(jax.tree.map(jnp.asarray, host),
                           jax.random.fold_in(jax.random.key(SEED), PROBE_KEY))
    return {**batch, "step": jnp.zeros((), jnp.int32)}


def make_probe(config, data):
    """A jitted ``probe(g, d) -> {minimax, non_saturating, mean_d}``: |grad_G| of both G losses
    and mean D(G(z)) at (g, d), on the fixed probe batch and key (the same z every time)."""
    specs = {}
    for name in dgr.LOSS_NAMES:
        variant = config.copy_and_resolve_references()
        variant.loss.name = name
        specs[name] = registry.make_spec(variant, data)
    batch = probe_batch(data, PROBE_SIZE)
    key = jax.random.fold_in(jax.random.key(SEED), PROBE_KEY)

    @jax.jit
    def probe(g, d):
        variables = {"g": g, "d": d, "extra": None}
        out = dgr.generator_grad_norms(specs, variables, batch, key)
        out["mean_d"] = dgr.mean_d_of_fakes(specs[dgr.LOSS_NAMES[0]], variables, batch, key)
        return out

    return probe


def head_start_step(spec, txs, transform):
    """The per-device step of a D head start: one D update on the call's minibatch against the
    frozen G (TrainState.step is not counted; the key is folded with the minibatch's first
    example number, so every update draws fresh z), fused over a call by `scan_steps`."""
    from gan_jax.train.step import DATA_KEY, make_play, scan_steps

    play = make_play(spec, txs)

    def step(state, batch):
        batch = transform(batch, jax.random.fold_in(state.key, DATA_KEY))
        minibatch = {**jax.tree.map(lambda x: x[0], batch),
                     "step": jnp.zeros((), jnp.int32)}
        key = jax.random.fold_in(jax.random.fold_in(state.key, HEAD_START_KEY),
                                 minibatch["index"][0])
        game = {"g": state.g, "d": state.d, "g_opt": state.g_opt, "d_opt": state.d_opt,
                "extra": state.extra}
        game, metrics = play("d", game, minibatch, key)
        return state.replace(d=game["d"], d_opt=game["d_opt"]), metrics

    return scan_steps(step)


def train_and_measure(loss: str, steps: int, every: int, head_starts=(0,),
                      fid_samples: int = 0) -> list:
    """Train mlp_mnist with G loss ``loss`` once per D head start h in ``head_starts`` (h D-only
    updates against the initial G first, probed at steps -h, ..., 0), probing every ``every``
    steps. Returns one {loss, head_start, rows [{step, minimax, non_saturating, ratio, mean_d,
    d_loss}], fid, seconds} per head start; every run starts from the same seed-0 state."""
    from gan_jax.train.loop import build_run, host_batches
    from gan_jax.train.optimizers import make_optimizers
    from gan_jax.train.parallel import DeviceMapper

    config = mnist_config(loss, steps, every)
    devices = jax.local_devices()[:1]
    data, spec, state0, mapper = build_run(config, devices=devices)
    probe = make_probe(config, data)
    tx_g, tx_d = make_optimizers(config)
    d_only = DeviceMapper(head_start_step(spec, {"g": tx_g, "d": tx_d}, data.transform), devices)
    evaluator = None
    runs = []
    for head_start in head_starts:
        start = time.perf_counter()
        state = mapper.put_state(jax.tree.map(jnp.copy, state0))   # the mappers donate it
        rows, position, d_loss = [], 0, float("nan")
        with tqdm(total=head_start + steps, desc=f"MNIST, {loss}, D head start {head_start}",
                  unit="step", file=sys.stderr, mininterval=1.0, dynamic_ncols=True) as bar:
            for step in range(-head_start, steps + 1, every):
                m = jax.device_get(probe(state.g, state.d))
                rows.append({"step": step, **{k: float(v) for k, v in m.items()},
                             "ratio": float(m["minimax"] / m["non_saturating"]),
                             "d_loss": d_loss})
                bar.set_postfix(mean_d=f"{m['mean_d']:.3g}", ratio=f"{rows[-1]['ratio']:.3g}")
                if step == steps:
                    break
                batch, position = host_batches(data, position, config.train)
                if step < 0:
                    state, metrics = d_only(state, batch)
                else:
                    state, metrics = mapper(state, batch, step=step)
                d_loss = float(np.asarray(metrics["d_loss"])[-1])
                bar.update(every)
        fid = None
        if fid_samples:
            from gan_jax.evaluation import Evaluator
            evaluator = evaluator or Evaluator(spec, data, config, metrics="fid",
                                               num_samples=fid_samples)
            fid = float(evaluator(state.g)["fid"])
        runs.append({"loss": loss, "head_start": head_start, "rows": rows, "fid": fid,
                     "seconds": time.perf_counter() - start})
    return runs


def train_toy(loss: str, steps: int, workdir: str) -> dict:
    """The 1-D toy (gan_1d) with G loss ``loss``, by the project's trainer, in a fresh
    ``workdir``: {loss, figure1 (its Figure-1 panels), w1, ks, seconds}."""
    from gan_jax.train.loop import train

    start = time.perf_counter()
    c = load_experiment(TOY_CONFIG)
    c.seed = SEED
    c.loss.name = loss
    if steps != c.train.steps:
        c.train.steps = steps
        c.train.sample_every = c.train.ckpt_every = max(steps // 5, c.train.steps_per_call)
    c.train.tensorboard = False
    c.train.num_devices = 1
    if steps < c.train.steps:
        c.eval.num_samples = 1000       # a smoke run's evaluation
    if os.path.isdir(workdir):
        shutil.rmtree(workdir)          # our own output of an earlier invocation
    _, results = train(c, workdir)
    return {"loss": loss, "figure1": os.path.join(workdir, "figure1.png"),
            "w1": results["wasserstein_1"], "ks": results["ks_statistic"],
            "seconds": time.perf_counter() - start}


def run_label(run) -> str:
    """'minimax' or 'non_saturating', with its D head start if any."""
    return run["loss"] + (f", D head start {run['head_start']}" if run["head_start"] else "")


def table_rows(rows, steps=TABLE_STEPS):
    """The probes shown in the table: the first, those at ``steps``, and the last."""
    return [r for i, r in enumerate(rows) if i in (0, len(rows) - 1) or r["step"] in steps]


def format_tables(runs, toys) -> str:
    """Markdown: the MNIST runs' probes at TABLE_STEPS (FID on each run's last row); then the
    1-D toy's final distances."""
    lines = [
        f"MNIST MLP GAN ({MNIST_CONFIG}, seed {SEED}, Adam 2e-4); at each step both G losses are "
        f"differentiated at that run's (G, D) on the same {PROBE_SIZE} latents z. |∇G|: global "
        "L2 norm of G's gradient; ratio = saturating / non-saturating. D head start h: h D-only "
        "updates against the initial G before step 0 (steps -h..0).", "",
        "| G trained with | D head start | step | mean D(G(z)) | \\|∇G\\| saturating | "
        "\\|∇G\\| non-saturating | ratio | final MNIST FID |",
        "|---|---|---|---|---|---|---|---|"]
    for run in runs:
        rows = run["rows"]
        fid = "–" if run["fid"] is None else f"{run['fid']:.1f}"
        for r in table_rows(rows):
            lines.append(f"| {run['loss']} | {run['head_start']} | {r['step']} | "
                         f"{r['mean_d']:.3g} | {r['minimax']:.3g} | {r['non_saturating']:.3g} | "
                         f"{r['ratio']:.3g} | {fid if r is rows[-1] else ''} |")
    lines += ["", f"1-D toy ({TOY_CONFIG}, seed {SEED}): distance of G's samples to N(0, 1) at "
              "the end (Wasserstein-1, Kolmogorov-Smirnov).", "",
              "| G loss | W1 | KS |", "|---|---|---|"]
    for toy in toys:
        lines.append(f"| {toy['loss']} | {toy['w1']:.3g} | {toy['ks']:.3g} |")
    return "\n".join(lines) + "\n"


def draw_losses(ax_loss, ax_slope):
    """The paper's curves: both G losses against D(G(z)), and the size of their slopes in
    D(G(z)) and in D's logit (what reaches G's parameters)."""
    c = dgr.loss_curves(dgr.d_grid())
    for name in dgr.LOSS_NAMES:
        ax_loss.plot(c["d"], c[name], color=COLOURS[name], label=TITLES[name])
        ax_slope.semilogy(c["d"], np.abs(c[f"{name}_slope"]), color=COLOURS[name],
                          label=f"|∂/∂D|, {name}")
        ax_slope.semilogy(c["d"], np.abs(c[f"{name}_logit_slope"]), "--", color=COLOURS[name],
                          label=f"|∂/∂logit|, {name}")
    ax_loss.set_ylim(-5, 5)
    ax_loss.axhline(0, color="0.7", linewidth=0.5)
    ax_loss.set_xlabel("D(G(z))")
    ax_loss.set_title("G's losses (both minimised)", fontsize=9)
    ax_loss.legend(fontsize=7, frameon=False)
    ax_slope.set_xlabel("D(G(z))")
    ax_slope.set_title("their slopes: 1/(1 − D), 1/D; in the logit: D, 1 − D", fontsize=9)
    ax_slope.set_ylim(1e-3, 1e3)
    ax_slope.legend(fontsize=7, frameon=False, loc="upper center", ncol=2)


def draw_ratio(ax, runs):
    """Every probe's |grad_G| ratio against its mean D(G(z)), over D / (1 - D): the ratio of
    the two logit slopes for a single sample."""
    d = dgr.d_grid()
    ax.loglog(d, d / (1 - d), color="0.5", linewidth=1, label="D / (1 − D)")
    for run in runs:
        ax.loglog([r["mean_d"] for r in run["rows"]], [r["ratio"] for r in run["rows"]],
                  MARKERS[run["head_start"] > 0], color=COLOURS[run["loss"]], markersize=3,
                  alpha=0.7, label=f"probes, trained {run_label(run)}")
    ax.set_xlim(1e-4, 1)
    ax.set_ylim(1e-4, 2)
    ax.set_xlabel("mean D(G(z))")
    ax.set_title("|∇G| saturating / non-saturating", fontsize=9)
    ax.legend(fontsize=6, frameon=False)


def draw_gradients(ax, runs):
    """|grad_G| of both losses over training (colour: the loss differentiated; solid: the run
    trained with minimax, dashed: with non_saturating)."""
    from matplotlib.lines import Line2D

    for run in runs:
        steps = [r["step"] for r in run["rows"]]
        for name in dgr.LOSS_NAMES:
            ax.semilogy(steps, [r[name] for r in run["rows"]], STYLES[run["loss"]],
                        color=COLOURS[name], linewidth=1)
    if runs[0]["head_start"]:
        ax.axvline(0, color="0.5", linewidth=0.6)
        ax.text(0, 0.02, "D alone ← | → both players ", transform=ax.get_xaxis_transform(),
                fontsize=7, va="bottom", ha="center")
    ax.set_ylim(top=ax.get_ylim()[1] * 4)     # room for the legend
    ax.legend([Line2D([], [], color=COLOURS[name]) for name in dgr.LOSS_NAMES]
              + [Line2D([], [], color="k", linestyle=STYLES[name]) for name in dgr.LOSS_NAMES],
              [f"|∇G| of the {name} loss" for name in dgr.LOSS_NAMES]
              + [f"run trained {name}" for name in dgr.LOSS_NAMES],
              fontsize=7, frameon=False, ncol=2, loc="upper center")
    ax.set_xlabel("step")
    ax.set_title(f"|∇G| on the same z, D head start {runs[0]['head_start']}", fontsize=9)


def draw_d(ax, runs):
    """Mean D(G(z)) on the probe's z over training, every run."""
    for run in runs:
        ax.plot([r["step"] for r in run["rows"]], [r["mean_d"] for r in run["rows"]],
                STYLES[run["loss"]], color=HEAD_START_COLOURS[run["head_start"] > 0],
                linewidth=1, label=f"trained {run_label(run)}")
    ax.set_ylim(0, 1)
    ax.set_xlabel("step")
    ax.set_title("mean D(G(z)) on the same z", fontsize=9)
    ax.legend(fontsize=6, frameon=False)


def draw(runs, path):
    """OUT/diminished_gradient.png: top, the losses, their slopes and the measured ratio against
    D(G(z)); bottom, |grad_G| over training per head start, and mean D(G(z))."""
    fig = viz._new_figure(16.0, 9.0)
    axes = fig.subplots(2, 3)
    draw_losses(axes[0, 0], axes[0, 1])
    draw_ratio(axes[0, 2], runs)
    for ax, head_start in zip(axes[1, :2], sorted({r["head_start"] for r in runs})):
        draw_gradients(ax, [r for r in runs if r["head_start"] == head_start])
    draw_d(axes[1, 2], runs)
    fig.tight_layout()
    return viz.compact_png(viz._save_figure(fig, path))


def draw_toy(toys, path):
    """OUT/gan_1d_losses.png: each loss's Figure-1 panels (the trainer's figure1.png), a row."""
    from PIL import Image

    rows = []
    for toy in toys:
        with Image.open(toy["figure1"]) as picture:
            rows.append(np.asarray(picture.convert("RGB")))
    height, width = rows[0].shape[:2]
    fig = viz._new_figure(max(width / viz.DPI, 8.0), len(rows) * (height / viz.DPI + 0.4))
    for ax, toy, picture in zip(fig.subplots(len(rows), 1, squeeze=False)[:, 0], toys, rows):
        ax.imshow(picture)
        ax.axis("off")
        ax.set_title(f"1-D toy, G {TITLES[toy['loss']]}: W1 = {toy['w1']:.3g}, "
                     f"KS = {toy['ks']:.3g}", fontsize=11)
    fig.subplots_adjust(left=0, right=1, bottom=0, top=1 - 0.4 / (height / viz.DPI + 0.4) / 2,
                        hspace=0.4 / (height / viz.DPI))
    return viz.compact_png(viz._save_figure(fig, path))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join("runs", "diminished_gradient"))
    parser.add_argument("--steps", type=int, default=None, help="MNIST steps per run "
                        "(default 10,000; 20 with --quick)")
    parser.add_argument("--every", type=int, default=None, help="probe every this many steps "
                        "(default 250; 10 with --quick)")
    parser.add_argument("--head-start", type=int, default=None, help="D-only updates before the "
                        "second pair of runs (default 500; 50 with --quick)")
    parser.add_argument("--toy-steps", type=int, default=None, help="1-D toy steps per loss "
                        "(default gan_1d's 5,000; 100 with --quick)")
    parser.add_argument("--fid-samples", type=int, default=None,
                        help="samples for the final MNIST FID (default 10,000; 0 with --quick)")
    parser.add_argument("--quick", action="store_true", help="a few steps, no FID: a smoke test")
    args = parser.parse_args(argv)
    steps = args.steps or (20 if args.quick else 10_000)
    every = args.every or (10 if args.quick else 250)
    head_start = args.head_start if args.head_start is not None else (50 if args.quick else 500)
    toy_steps = args.toy_steps or (100 if args.quick else load_experiment(TOY_CONFIG).train.steps)
    fid_samples = args.fid_samples if args.fid_samples is not None else (
        0 if args.quick else 10_000)
    if (every < 1 or steps < every or steps % every or head_start < 0 or head_start % every
            or toy_steps < 100 or toy_steps % 100):
        parser.error("--steps and --head-start must be multiples of --every (steps positive), "
                     "and --toy-steps a positive multiple of 100")
    start = time.perf_counter()
    head_starts = (0, head_start) if head_start else (0,)
    runs = [run for loss in dgr.LOSS_NAMES
            for run in train_and_measure(loss, steps, every, head_starts, fid_samples)]
    runs.sort(key=lambda r: r["head_start"])
    toys = [train_toy(loss, toy_steps, os.path.join(args.out, f"gan_1d_{loss}"))
            for loss in dgr.LOSS_NAMES]
    os.makedirs(args.out, exist_ok=True)
    figure = draw(runs, os.path.join(args.out, "diminished_gradient.png"))
    toy_figure = draw_toy(toys, os.path.join(args.out, "gan_1d_losses.png"))
    seconds = time.perf_counter() - start
    text = format_tables(runs, toys)
    text += (f"\nWall time: {seconds:.0f} s in all (MNIST runs "
             f"{', '.join('%.0f s' % r['seconds'] for r in runs)}, each: training, probes and "
             f"FID; 1-D toy "
             f"{', '.join('%.0f s' % t['seconds'] for t in toys)}).\n")
    table = os.path.join(args.out, "table.md")
    with open(table, "w") as f:
        f.write(text)
    with open(os.path.join(args.out, "measurements.json"), "w") as f:
        json.dump({"runs": runs, "toys": toys, "seconds": seconds}, f, indent=1)
    print(text)
    print(f"wrote {figure}, {toy_figure} and {table}")
    return {"figure": figure, "toy_figure": toy_figure, "table": table, "runs": runs,
            "toys": toys, "seconds": seconds}


if __name__ == "__main__":
    main()
