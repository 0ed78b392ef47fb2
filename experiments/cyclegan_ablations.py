"""The CycleGAN paper's loss ablation (Zhu et al. 2017, Table 4: cycle alone, GAN alone,
GAN + forward cycle, GAN + backward cycle, the full model) on digits_mnist, with the same
budget for every variant.

    python experiments/cyclegan_ablations.py --root runs/cyclegan_ablations [--steps 2000]

Each variant is `experiments/configs/cyclegan_digits_mnist.py` with `cyclegan.loss` set and the
identity term off (`cyclegan.lambda_identity=0`, as in the paper's ablation on Cityscapes),
trained by `python -m gan_jax.train` in ROOT/<variant> (a finished run is skipped, an
interrupted one resumed), then scored on the held-out digits: label preservation (the MNIST
LeNet's accuracy on G(a) against the sklearn digits' labels; the digits classifier's on F(b)
against the MNIST labels), the LeNet FID of G(a) against real MNIST, and cycle L1. The
untranslated inputs' scores are the "identity" row. Writes ROOT/table.md and ROOT/ablation.png
(one row per held-out sklearn digit: a | G(a) of each variant).
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# (variant, row label, the paper's Table 4 per-pixel accuracy, Cityscapes labels -> photo)
ROWS = [("cycle", "Cycle alone", 0.22), ("gan", "GAN alone", 0.51),
        ("gan+forward", "GAN + forward cycle", 0.55),
        ("gan+backward", "GAN + backward cycle", 0.39), ("full", "CycleGAN (full)", 0.52)]


def workdir_of(root, variant):
    return os.path.join(root, variant.replace("+", "_"))


def train_variant(root, variant, steps):
    workdir = workdir_of(root, variant)
    if not os.path.isfile(os.path.join(workdir, "eval.json")):
        cmd = [sys.executable, "-m", "gan_jax.train", "--config=cyclegan_digits_mnist",
               f"--workdir={workdir}", f"--config.cyclegan.loss={variant}",
               "--config.cyclegan.lambda_identity=0", f"--config.train.steps={steps}",
               "--config.train.progress=False"]
        print("+", " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True, cwd=ROOT)
    baseline = os.path.join(workdir, "eval_baseline.json")
    if not os.path.isfile(baseline):
        subprocess.run([sys.executable, "-m", "gan_jax.evaluate", f"--workdir={workdir}",
                        "--baseline", f"--out={baseline}"], check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
    with open(baseline) as f:
        return json.load(f)


def write_table(root, steps, results):
    lines = [f"Budget: {steps} steps of batch 4 per variant (cyclegan_digits_mnist, identity "
             "term off), scored on the held-out digits: LeNet accuracy on G(a) against the "
             "sklearn digits' labels (A -> B), the digits classifier's on F(b) against the "
             "MNIST labels (B -> A), LeNet FID of G(a) against real MNIST, cycle L1 in [0, 1] "
             "units.", "",
             "| variant | label acc. A -> B | label acc. B -> A | FID(G(a), MNIST) | "
             "cycle L1 a / b | paper per-pixel acc. |", "|---|---|---|---|---|---|"]
    for variant, label, paper in ROWS:
        s = results.get(variant)
        if s is None:
            lines.append(f"| {label} | not run yet | | | | {paper:.2f} |")
            continue
        lines.append(f"| {label} | {s['label_acc_ab']:.3f} | {s['label_acc_ba']:.3f} | "
                     f"{s['fid_ab']:.1f} | {s['cycle_l1_a']:.3f} / {s['cycle_l1_b']:.3f} | "
                     f"{paper:.2f} |")
    s = next(iter(results.values()), None)
    if s is not None:
        lines.append(f"| identity (untranslated inputs) | {s['real_label_acc_ab']:.3f} | "
                     f"{s['real_label_acc_ba']:.3f} | {s['real_fid_ab']:.1f} | 0 / 0 | |")
    with open(os.path.join(root, "table.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def write_picture(root, variants, count=8):
    """ROOT/ablation.png: one row per held-out sklearn digit, a | G(a) of each variant."""
    from gan_jax import viz
    from gan_jax.evaluators.unpaired import held_out_domains
    from gan_jax.snapshots import as_rgb
    from gan_jax.train.restore import load_run
    from gan_jax.translate import translate
    runs = [load_run(workdir_of(root, v)) for v in variants]
    if not runs:
        return None
    a = held_out_domains(runs[0].config)[0][:count]
    a_uint8 = np.clip(np.round((a + 1) * 127.5), 0, 255).astype(np.uint8)
    columns = [as_rgb(a)] + [as_rgb(translate(r, a_uint8)) for r in runs]
    grid = np.stack(columns, axis=1).reshape((-1,) + columns[0].shape[1:])
    return viz.save_image_grid(grid, os.path.join(root, "ablation.png"), nrow=len(columns))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=os.path.join(ROOT, "runs", "cyclegan_ablations"))
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--only", default="", help="comma-separated variants (default: all)")
    args = parser.parse_args()
    variants = [v for v in (args.only.split(",") if args.only else [r[0] for r in ROWS]) if v]
    results = {v: train_variant(args.root, v, args.steps) for v in variants}
    write_table(args.root, args.steps, results)
    write_picture(args.root, variants)


if __name__ == "__main__":
    main()
