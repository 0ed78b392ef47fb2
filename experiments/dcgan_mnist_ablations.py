"""dcgan_mnist's ablation: what each of the field's tools against a small data set gives (issue 16:
longer training, an EMA of G, DiffAugment, R1 with a D without BatchNorm, width 64).

    PYTHONPATH=. python experiments/dcgan_mnist_ablations.py --root runs/dcgan_mnist_ablations \
        [--variants base,da,...] [--steps 2000]

Each variant is the config before issue 16 (`dcgan_mnist.cpu_base_config()`: widths 32, no
EMA) with its own changes (VARIANTS; `wide` is the shipped recipe), `--steps` long, trained by
`python -m gan_jax.train` in ROOT/<variant>, one run at a time (a finished run is skipped, an
interrupted one resumed), with `eval.every` evaluations (the FID curve) and checkpoints every
`--ckpt_every` steps (for experiments/dcgan_mnist_overfitting.py). Where a variant keeps an EMA
of G, G itself is scored too (`evaluate --no_ema`): the EMA does not feed back into training, so
that is the same run without the EMA. Each run's wall time, training steps/s (the median of
metrics.jsonl's log rows) and the 1-minute load average before and after it go to
ROOT/<variant>/timing.json:
with other jobs on the cores, steps/s is the figure to compare. Writes ROOT/table.md.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# dcgan_mnist's cpu_base_config() (the config before issue 16) as overrides of the shipped one
BASE = {"model.g_width": 32, "model.d_width": 32, "train.ema_decay": 0.0,
        "train.ema_rampup": 0.0}
EMA = {"train.ema_decay": 0.999, "train.ema_rampup": 0.05}
DA = {"vanilla.diffaugment": "translation,cutout"}
DA_COLOR = {"vanilla.diffaugment": "color,translation,cutout"}
R1 = {"model.d_norm": "layer", "loss.r1_gamma": 1.0}
WIDE = {"model.g_width": 64, "model.d_width": 64}
EMA995 = {"train.ema_decay": 0.995, "train.ema_rampup": 0.05}
NO_BN = {"model.d_norm": "none"}
SN_HINGE = {"model.d_norm": "none", "model.spectral_norm": True, "loss.name": "hinge"}
TTUR = {"optim.d.lr": 4e-4, "optim.g.lr": 1e-4}


def clusters(k: int) -> dict:
    """Cluster-conditioned (dcgan_mnist_clusters): the conditional family on data.pseudo_labels."""
    return {"gan.family": "conditional", "data.pseudo_labels": k}


# name -> (what it is, config overrides)
VARIANTS = {
    "base": ("the shipped config before issue 16 (widths 32, 2,000 steps)", {}),
    "ema": ("+ EMA of G (0.999, ramp-up 0.05)", EMA),
    "da": ("+ DiffAugment translation,cutout, EMA", {**DA, **EMA}),
    "da_color": ("+ DiffAugment color,translation,cutout, EMA", {**DA_COLOR, **EMA}),
    "r1": ("+ R1 (gamma 1), D with LayerNorm, EMA", {**R1, **EMA}),
    "da_r1": ("+ DiffAugment translation,cutout + R1 (gamma 1, LayerNorm D), EMA",
              {**DA, **R1, **EMA}),
    "wide": ("+ widths 64, EMA (the shipped recipe)", {**WIDE, **EMA}),
    "da_wide": ("+ DiffAugment translation,cutout, widths 64, EMA", {**DA, **WIDE, **EMA}),
    "ema995": ("+ EMA of G (0.995, cdcgan_mnist's)", EMA995),
    "nobn": ("+ D without BatchNorm, EMA 0.995", {**NO_BN, **EMA995}),
    "sn_hinge": ("+ hinge loss, spectral norm in D (no BatchNorm), EMA 0.995",
                 {**SN_HINGE, **EMA995}),
    "ttur": ("+ TTUR (D lr 4e-4, G lr 1e-4), EMA 0.995", {**TTUR, **EMA995}),
    "clusters10": ("+ conditioned on 10 k-means clusters of the pixels (no labels), EMA 0.995",
                   {**clusters(10), **EMA995}),
    "clusters20": ("+ conditioned on 20 k-means clusters of the pixels (no labels), EMA 0.995",
                   {**clusters(20), **EMA995}),
}


def overrides(variant: str, steps: int, eval_every: int, ckpt_every: int) -> dict:
    """The variant's overrides of the shipped dcgan_mnist: the config before issue 16 (BASE),
    the run length, evaluation and checkpoint cadence, then the variant's own changes."""
    out = {**BASE, "train.steps": steps, "eval.every": eval_every,
           "train.ckpt_every": ckpt_every, "train.keep_checkpoints": 100,
           "train.progress": False}
    out.update(VARIANTS[variant][1])
    return out


def train_command(workdir: str, settings: dict) -> list:
    return ([sys.executable, "-m", "gan_jax.train", "--config=dcgan_mnist", f"--workdir={workdir}"]
            + [f"--config.{k}={v}" for k, v in settings.items()])


def median_steps_per_sec(workdir: str) -> float:
    """The median of the training log rows' steps/s (the first row, with compilation, left
    out)."""
    with open(os.path.join(workdir, "metrics.jsonl")) as f:
        rates = [r["steps_per_sec"] for r in map(json.loads, f) if "steps_per_sec" in r]
    return float(np.median(rates[1:] or rates))


def run_variant(root: str, variant: str, steps: int, eval_every: int, ckpt_every: int) -> dict:
    """Train (unless done) and score one variant; returns its row."""
    workdir = os.path.join(root, variant)
    settings = overrides(variant, steps, eval_every, ckpt_every)
    timing_path = os.path.join(workdir, "timing.json")
    if not os.path.isfile(os.path.join(workdir, "eval.json")):
        load_before, start = os.getloadavg()[0], time.time()
        print("+", " ".join(train_command(workdir, settings)), flush=True)
        subprocess.run(train_command(workdir, settings), check=True, cwd=ROOT)
        timing = {"wall_s": time.time() - start, "load_before": load_before,
                  "load_after": os.getloadavg()[0],
                  "steps_per_sec": median_steps_per_sec(workdir)}
        with open(timing_path, "w") as f:
            json.dump(timing, f, indent=1)
    row = {"variant": variant, "what": VARIANTS[variant][0], "steps": settings["train.steps"]}
    with open(os.path.join(workdir, "eval.json")) as f:
        row["eval"] = json.load(f)
    if os.path.isfile(timing_path):
        with open(timing_path) as f:
            row["timing"] = json.load(f)
    if settings.get("train.ema_decay", 0) > 0:
        row["g_eval"] = evaluate_g(workdir)
    return row


def evaluate_g(workdir: str) -> dict:
    """G's own scores (no EMA), cached in workdir/eval_g.json."""
    path = os.path.join(workdir, "eval_g.json")
    if not os.path.isfile(path):
        subprocess.run([sys.executable, "-m", "gan_jax.evaluate", f"--workdir={workdir}",
                        "--no_ema", f"--out={path}"], check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
    with open(path) as f:
        return json.load(f)


def table(rows) -> str:
    """The markdown table: FID (EMA of G, and G itself), MNIST score, precision / recall,
    classes, steps, wall time, steps/s, load."""
    lines = ["| variant | steps | MNIST FID (EMA / G) | MNIST score | precision / recall | "
             "classes | wall | steps/s | load (1 min, before / after) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        e, t = row["eval"], row.get("timing", {})
        fid = f"{e['fid']:.1f}"
        if "g_eval" in row:
            fid = f"{e['fid']:.1f} / {row['g_eval']['fid']:.1f}"
        wall = f"{t['wall_s'] / 60:.1f} min" if t else ""
        rate = f"{t['steps_per_sec']:.1f}" if t else ""
        load = f"{t['load_before']:.1f} / {t['load_after']:.1f}" if t else ""
        lines.append(f"| {row['what']} | {row['steps']} | {fid} | {e['is']:.2f} | "
                     f"{e['precision']:.2f} / {e['recall']:.2f} | {e['classes_covered']} | "
                     f"{wall} | {rate} | {load} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default="runs/dcgan_mnist_ablations")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--eval_every", type=int, default=1000)
    parser.add_argument("--ckpt_every", type=int, default=500)
    args = parser.parse_args(argv)
    names = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in names if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant(s) {unknown}; valid: {sorted(VARIANTS)}")
    rows = [run_variant(args.root, v, args.steps, args.eval_every, args.ckpt_every)
            for v in names]
    text = table(rows)
    os.makedirs(args.root, exist_ok=True)
    with open(os.path.join(args.root, "table.md"), "w") as f:
        f.write(text + "\n")
    print(text)
    return rows


if __name__ == "__main__":
    main()
