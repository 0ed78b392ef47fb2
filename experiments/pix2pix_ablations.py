"""The Pix2Pix paper's ablations (Isola et al. 2017, Tables 1 and 2, and U-Net vs
encoder-decoder) on digit_scenes, with the same budget for every variant.

    python experiments/pix2pix_ablations.py --root runs/pix2pix_ablations [--steps 2000]

Each variant is `experiments/configs/pix2pix_digit_scenes.py` with one change (pix2pix.loss,
model.patch or model.arch), trained by `python -m gan_jax.train` in ROOT/<variant> (a finished
run is skipped, an interrupted one resumed), then scored on the 200 held-out scenes: the LeNet
accuracy of the digits drawn in the layout's boxes (the paper's FCN-score analogue: per-digit ~
per-pixel accuracy, per-class accuracy) and the per-pixel L1. The real scenes' scores are the
"ground truth" row. Writes ROOT/tables.md (the three tables beside the paper's numbers) and
ROOT/<table>.png (one row per held-out scene: input | each variant's output | target).
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASE = "l1+cgan"
# variant -> config overrides; the base (L1 + cGAN, U-Net, 70x70) is shared by all tables
VARIANTS = {
    "l1": {"pix2pix.loss": "l1"},
    "gan": {"pix2pix.loss": "gan"},
    "cgan": {"pix2pix.loss": "cgan"},
    "l1+gan": {"pix2pix.loss": "l1+gan"},
    BASE: {},
    "patch1": {"model.patch": 1},
    "patch16": {"model.patch": 16},
    "patch286": {"model.patch": 286},
    "encoder_decoder": {"model.arch": "encoder_decoder"},
}
# (title, [(row label, variant, paper per-pixel acc, paper per-class acc)], paper's ground truth)
TABLES = {
    "loss": ("Loss (paper Table 1, Cityscapes labels -> photo)",
             [("L1", "l1", .42, .15), ("GAN", "gan", .22, .05), ("cGAN", "cgan", .57, .22),
              ("L1+GAN", "l1+gan", .64, .20), ("L1+cGAN", BASE, .66, .23)], (.80, .26)),
    "patch": ("Discriminator receptive field (paper Table 2, L1+cGAN)",
              [("1x1 (PixelGAN)", "patch1", .39, .15), ("16x16", "patch16", .65, .21),
               ("70x70", BASE, .66, .23), ("286x286 (ImageGAN)", "patch286", .42, .16)],
              (.80, .26)),
    "generator": ("Generator (paper sec. 4.3, L1+cGAN)",
                  [("encoder-decoder", "encoder_decoder", .29, None), ("U-Net", BASE, .55, None)],
                  (None, None)),
}


def train_variant(root, name, steps):
    workdir = os.path.join(root, name)
    if os.path.isfile(os.path.join(workdir, "eval.json")):
        return workdir
    overrides = {**VARIANTS[name], "train.steps": steps, "train.progress": False}
    cmd = [sys.executable, "-m", "gan_jax.train", "--config=pix2pix_digit_scenes",
           f"--workdir={workdir}"] + [f"--config.{k}={v}" for k, v in overrides.items()]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT)
    return workdir


def scores(workdir):
    with open(os.path.join(workdir, "eval.json")) as f:
        return json.load(f)


def ground_truth(root):
    """The real held-out scenes' scores (evaluate --baseline on the base run)."""
    path = os.path.join(root, "ground_truth.json")
    if not os.path.isfile(path):
        from gan_jax.evaluators.translation import digit_scores, held_out_records
        from gan_jax.metrics.features.lenet import default_extractor
        from gan_jax.pixels import to_model_range
        from gan_jax.train.restore import load_config
        # every variant reads the same held-out scenes: any finished one gives the config
        done = [n for n in VARIANTS if os.path.isfile(os.path.join(root, n, "config.json"))]
        if not done:
            raise SystemExit(f"no finished variant in {root}: train one first")
        records = held_out_records(load_config(os.path.join(root, done[0])))
        result = digit_scores(default_extractor(), to_model_range(records["b"]),
                              records["boxes"], records["labels"])
        with open(path, "w") as f:
            json.dump(result, f)
    with open(path) as f:
        return json.load(f)


def fmt(v, digits=2):
    return "–" if v is None else f"{v:.{digits}f}"


def write_tables(root, steps):
    truth = ground_truth(root)
    lines = [f"Budget: {steps} steps of batch 4 per variant (pix2pix_digit_scenes), scored on the "
             "200 held-out scenes (per-digit and per-class LeNet accuracy of the digits drawn in "
             "the layouts' boxes; per-pixel L1 in [0, 1] units).", ""]
    for key, (title, rows, (gt_pixel, gt_class)) in TABLES.items():
        lines += [f"### {title}", "",
                  "| variant | digit acc. | class acc. | L1 | paper per-pixel acc. | "
                  "paper per-class acc. |", "|---|---|---|---|---|---|"]
        for label, name, paper_pixel, paper_class in rows:
            path = os.path.join(root, name, "eval.json")
            if not os.path.isfile(path):
                lines.append(f"| {label} | not run yet | | | {fmt(paper_pixel)} | "
                             f"{fmt(paper_class)} |")
                continue
            s = scores(os.path.join(root, name))
            lines.append(f"| {label} | {s['digit_accuracy']:.3f} | {s['class_accuracy']:.3f} | "
                         f"{s['l1']:.3f} | {fmt(paper_pixel)} | {fmt(paper_class)} |")
        lines.append(f"| ground truth (real scenes) | {truth['digit_accuracy']:.3f} | "
                     f"{truth['class_accuracy']:.3f} | 0 | {fmt(gt_pixel)} | {fmt(gt_class)} |")
        lines.append("")
        write_picture(root, key, [name for _, name, _, _ in rows])
    with open(os.path.join(root, "tables.md"), "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


def write_picture(root, key, names, count=4):
    """ROOT/<key>.png: one row per held-out scene, input | each variant's output | target."""
    from gan_jax import viz
    from gan_jax.evaluators.translation import held_out_pairs
    from gan_jax.snapshots import as_rgb
    from gan_jax.train.restore import load_run
    from gan_jax.translate import translate
    names = [n for n in names if os.path.isfile(os.path.join(root, n, "eval.json"))]
    if not names:
        return None
    runs = [load_run(os.path.join(root, n)) for n in names]
    a, b = held_out_pairs(runs[0].config)
    a_uint8 = np.clip(np.round((a[:count] + 1) * 127.5), 0, 255).astype(np.uint8)
    columns = [as_rgb(a[:count])] + [as_rgb(translate(r, a_uint8)) for r in runs]
    columns.append(as_rgb(b[:count]))
    grid = np.stack(columns, axis=1).reshape((-1,) + columns[0].shape[1:])
    return viz.save_image_grid(grid, os.path.join(root, f"{key}.png"), nrow=len(columns))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=os.path.join(ROOT, "runs", "pix2pix_ablations"))
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--only", default="", help="comma-separated variants (default: all)")
    parser.add_argument("--tables_only", action="store_true", help="write the tables only")
    args = parser.parse_args()
    names = [n for n in (args.only.split(",") if args.only else VARIANTS) if n]
    if not args.tables_only:
        for name in names:
            train_variant(args.root, name, args.steps)
    write_tables(args.root, args.steps)


if __name__ == "__main__":
    main()
