"""The mode-collapse table: every variant of the loss / regulariser zoo on the 2-D ring (8 modes),
the 2-D grid (25 modes) and Stacked MNIST (1,000 modes), over seeds, beside the published rows.

    python experiments/mode_collapse.py [--out runs/mode_collapse] [--seeds 0,1,2]
        [--variants all] [--datasets ring,grid,stacked_mnist] [--steps_2d 25000]
        [--steps_stacked 3000] [--quick]

Variants (each a set of config overrides, `VARIANTS`): the minimax (saturating) and the
non-saturating GAN, LSGAN, WGAN-GP (lambda 10, 5 critic steps), hinge + spectral norm,
non-saturating + R1, the Unrolled GAN (k = 5, `vanilla.unroll_steps`), PacGAN (m = 2,
`vanilla.pack`), minibatch standard deviation (`model.mbstd_group` 4), all on the papers' networks
(`gan_2d_ring_paper.py`, `gan_2d_grid_paper.py`, `dcgan_stacked_mnist_pacgan.py`: the
Unrolled-GAN 2-D MLPs, the quarter-width DCGAN D), and "default": our shipped configs
(`gan_2d_ring.py`, `gan_2d_grid.py`, `dcgan_stacked_mnist.py`) as they are, their own number of
steps included (20,000, 20,000 and 3,000).

Columns: on the 2-D sets, modes captured (a mode with at least one high-quality sample) and the
high-quality fraction (within 3 std of a centre), VEEGAN's definitions (`metrics/modes.py`) over
2,500 samples; on Stacked MNIST, modes captured of 1,000 and KL(p_gen || uniform) over 26,000
samples (`metrics/stacked_mnist.py`). Mean +- std over the seeds that were run (their number in
brackets).

Writes OUT/table.md (with the published rows), OUT/results.json (every run's numbers and wall
time) and OUT/mode_collapse_2d.png (the first seed's 2,500 samples per variant and 2-D set).
Each run keeps its workdir under OUT/runs/<dataset>/<variant>/seed<k>/ and a finished run is
not trained again, so the command can be stopped and re-run, or extended with more seeds.
--quick: a few steps on the ring and Stacked MNIST, 2 variants, 1 seed (a smoke run).
"""
import argparse
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402

from gan_jax import config as config_lib  # noqa: E402

DATASETS = {    # name: (the papers' networks, our shipped config)
    "ring": ("gan_2d_ring_paper", "gan_2d_ring"),
    "grid": ("gan_2d_grid_paper", "gan_2d_grid"),
    "stacked_mnist": ("dcgan_stacked_mnist_pacgan", "dcgan_stacked_mnist"),
}
TOY = ("ring", "grid")

# Config overrides per variant; IMAGE_EXTRA is added on Stacked MNIST (a gradient penalty needs
# a D without BatchNorm: layer norm, as Gulrajani et al. recommend).
VARIANTS = {
    "minimax": {"loss.name": "minimax"},
    "non_saturating": {"loss.name": "non_saturating"},
    "lsgan": {"loss.name": "least_squares"},
    "wgan_gp": {"loss.name": "wasserstein", "loss.gp_weight": 10.0, "train.d_steps": 5},
    "hinge_sn": {"loss.name": "hinge", "model.spectral_norm": True},
    "ns_r1": {"loss.name": "non_saturating", "loss.r1_gamma": 1.0},
    "unrolled": {"loss.name": "non_saturating", "vanilla.unroll_steps": 5},
    "pacgan": {"loss.name": "non_saturating", "vanilla.pack": 2},
    "mbstd": {"loss.name": "non_saturating", "model.mbstd_group": 4},
    "default": None,        # our shipped config, unchanged
}
IMAGE_EXTRA = {
    "wgan_gp": {"model.d_norm": "layer"},
    "ns_r1": {"model.d_norm": "layer", "loss.r1_gamma": 10.0},
}

# The published rows (modes, high-quality % / KL), as the issue quotes them.
PUBLISHED = [
    ("GAN (VEEGAN Tables 1-2)", {"ring": "1 / 99.3 %", "grid": "3.3 / 0.5 %"}),
    ("Unrolled GAN (VEEGAN Table 1)", {"ring": "7.6 / 35.6 %"}),
    ("VEEGAN (VEEGAN Tables 1-2)", {"ring": "8 / 52.9 %", "grid": "24.6 / 40 %",
                                    "stacked_mnist": "150 / 2.95"}),
    ("DCGAN (PacGAN Table 3)", {"stacked_mnist": "99 / 3.40"}),
    ("PacDCGAN2 (PacGAN Table 3)", {"stacked_mnist": "1000 / 0.06"}),
]


def make_config(dataset: str, variant: str, seed: int, steps: int, eval_samples=None,
                quick: bool = False):
    """The config of one run: the papers' networks with the variant's overrides (or our shipped
    config for 'default'), `steps` generator updates, one checkpoint and one evaluation at the
    end, no progress bar."""
    paper, ours = DATASETS[dataset]
    c = config_lib.load_experiment(ours if VARIANTS[variant] is None else paper)
    overrides = dict(VARIANTS[variant] or {})
    if dataset not in TOY:
        overrides.update(IMAGE_EXTRA.get(variant, {}))
    for key, value in overrides.items():
        section, name = key.split(".")
        c[section][name] = value
    c.seed = seed
    t = c.train
    if VARIANTS[variant] is not None or quick:  # 'default' keeps its shipped length
        t.steps = steps
    steps = t.steps
    t.log_every = t.sample_every = t.ckpt_every = steps
    t.progress = False
    t.tensorboard = False
    if eval_samples:
        c.eval.num_samples = eval_samples
    return c


def finished(out: str, dataset: str, variant: str, seed: int, steps: int, quick: bool = False):
    """The result of a finished run of these settings, or None."""
    steps = make_config(dataset, variant, seed, steps, quick=quick).train.steps
    path = os.path.join(out, "runs", dataset, variant, f"seed{seed}", "result.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        result = json.load(f)
    return result if result.get("steps") == steps else None


def run_one(out: str, dataset: str, variant: str, seed: int, steps: int,
            quick: bool = False) -> dict:
    """Train and evaluate one run (or read its result when it finished before): eval.json's
    numbers plus the wall time."""
    workdir = os.path.join(out, "runs", dataset, variant, f"seed{seed}")
    done = os.path.join(workdir, "result.json")
    config = make_config(dataset, variant, seed, steps, 1000 if quick else None, quick)
    result = finished(out, dataset, variant, seed, steps, quick)
    if result is not None:
        return result
    from gan_jax.train.loop import train
    start = time.time()
    train(config, workdir, overwrite=True)
    with open(os.path.join(workdir, "eval.json")) as f:
        numbers = json.load(f)
    result = {"dataset": dataset, "variant": variant, "seed": seed,
              "steps": config.train.steps, "wall_s": round(time.time() - start, 1),
              **{k: v for k, v in numbers.items() if not isinstance(v, (list, dict))}}
    with open(done, "w") as f:
        json.dump(result, f, indent=1)
    return result


def _mean_std(values, fmt: str) -> str:
    values = np.asarray(values, np.float64)
    if len(values) == 1:
        return format(values[0], fmt)
    return f"{format(values.mean(), fmt)} ± {format(values.std(ddof=0), fmt)}"


def cell(results, dataset: str) -> str:
    """'modes / quality' of one variant on one set over its seeds (empty when not run)."""
    rows = [r for r in results if r["dataset"] == dataset]
    if not rows:
        return ""
    modes = _mean_std([r["modes_covered"] if dataset in TOY else r["modes_captured"]
                       for r in rows], ".1f")
    if dataset in TOY:
        quality = _mean_std([100 * r["high_quality_fraction"] for r in rows], ".1f") + " %"
    else:
        quality = _mean_std([r["kl_to_uniform"] for r in rows], ".2f")
    return f"{modes} / {quality} ({len(rows)})"


def table(results, datasets, variants) -> str:
    """The markdown table: our variants (mean ± std over seeds), then the published rows."""
    heads = {"ring": "ring: modes (of 8) / HQ", "grid": "grid: modes (of 25) / HQ",
             "stacked_mnist": "Stacked MNIST: modes (of 1000) / KL"}
    lines = ["| variant | " + " | ".join(heads[d] for d in datasets) + " |",
             "|---" * (len(datasets) + 1) + "|"]
    for v in variants:
        mine = [r for r in results if r["variant"] == v]
        lines.append(f"| {v} | " + " | ".join(cell(mine, d) for d in datasets) + " |")
    for name, cells in PUBLISHED:
        lines.append(f"| *{name}* | " + " | ".join(cells.get(d, "") for d in datasets) + " |")
    return "\n".join(lines) + "\n"


def figure(out: str, datasets, variants, seed: int) -> str:
    """The first seed's 2-D samples: one column per variant, one row per 2-D set."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import jax
    from gan_jax.train.restore import load_run
    cols = [d for d in datasets if d in TOY]
    size = (2.0 * len(variants), 2.1 * len(cols))
    fig, axes = plt.subplots(len(cols), len(variants), figsize=size, squeeze=False)
    for j, v in enumerate(variants):
        for i, d in enumerate(cols):
            ax = axes[i, j]
            workdir = os.path.join(out, "runs", d, v, f"seed{seed}")
            run = load_run(workdir)
            x = np.asarray(run.spec.sample(run.g_variables, jax.random.PRNGKey(seed), 2500))
            centres = run.data.distribution.centres
            ax.scatter(x[:, 0], x[:, 1], s=1, alpha=0.3, c="tab:blue")
            ax.scatter(centres[:, 0], centres[:, 1], s=12, marker="x", c="tab:red")
            lim = 5.5 if d == "grid" else 3.0
            ax.set_xlim(-lim, lim)
            ax.set_ylim(-lim, lim)
            ax.set_xticks([])
            ax.set_yticks([])
            if j == 0:
                ax.set_ylabel(d)
            if i == 0:
                ax.set_title(v, fontsize=9)
    fig.tight_layout()
    path = os.path.join(out, "mode_collapse_2d.png")
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default="runs/mode_collapse")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--variants", default="all")
    p.add_argument("--datasets", default="ring,grid,stacked_mnist")
    p.add_argument("--steps_2d", type=int, default=25_000)
    p.add_argument("--steps_stacked", type=int, default=3000)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--table_only", action="store_true",
                   help="assemble the table and figure from the finished runs, train nothing")
    a = p.parse_args(argv)
    if a.quick:
        a.seeds, a.steps_2d, a.steps_stacked = "0", min(a.steps_2d, 200), 4
        if a.variants == "all":
            a.variants = "non_saturating,pacgan"
        if a.datasets == "ring,grid,stacked_mnist":
            a.datasets = "ring,stacked_mnist"
    variants = list(VARIANTS) if a.variants == "all" else a.variants.split(",")
    datasets = a.datasets.split(",")
    seeds = [int(s) for s in a.seeds.split(",")]
    for name, valid in ((variants, VARIANTS), (datasets, DATASETS)):
        bad = [n for n in name if n not in valid]
        if bad:
            raise SystemExit(f"unknown {bad}; valid: {list(valid)}")
    from tqdm import tqdm
    jobs = [(d, v, s) for s in seeds for d in datasets for v in variants]
    results, failed = [], []
    bar = tqdm(jobs, desc="mode collapse", unit="run")
    for d, v, s in bar:
        bar.set_postfix_str(f"{d} {v} seed {s}")
        steps = a.steps_2d if d in TOY else a.steps_stacked
        if a.table_only:
            result = finished(a.out, d, v, s, steps)
            if result is not None:
                results.append(result)
            continue
        try:
            results.append(run_one(a.out, d, v, s, steps, a.quick))
        except Exception as e:      # report it and go on with the other runs
            failed.append(f"{d} {v} seed {s}: {type(e).__name__}: {e}")
            tqdm.write(f"FAILED {failed[-1]}")
    os.makedirs(a.out, exist_ok=True)
    text = table(results, datasets, variants)
    with open(os.path.join(a.out, "table.md"), "w") as f:
        f.write(text)
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    print(text)
    for line in failed:
        print("FAILED", line)
    if any(d in TOY for d in datasets):
        done = [v for v in variants if all(
            any(r["variant"] == v and r["dataset"] == d and r["seed"] == seeds[0]
                for r in results) for d in datasets if d in TOY)]
        print("figure:", figure(a.out, datasets, done, seeds[0]))
    if failed:
        raise SystemExit(f"{len(failed)} run(s) failed")
    return results


if __name__ == "__main__":
    main()
