"""Evaluate a trained generator, or compare two image sets, with the metrics of gan_jax.evaluation.

    python -m gan_jax.evaluate --workdir DIR [--metrics fid,is,kid,pr,dc,parzen,modes,swd,msssim]
        [--num_samples N] [--features mnist|inception] [--step S] [--no_ema] [--baseline]
        [--max_real M]
    python -m gan_jax.evaluate --compare REAL FAKE [--metrics fid,kid,pr,dc,is] [--features ...]

--workdir restores the run's latest checkpoint (or --step), using its EMA of G where it kept one
(--no_ema: G itself), and writes DIR/eval.json. Earlier results are never lost: when eval.json
already holds an evaluation of the same checkpoint, G and sample count, the new numbers are
merged into it; any other is first kept as eval.step<STEP>.json. --out writes elsewhere.
--max_real M compares with a fixed seeded subset of M training images instead of all of them
(default: the run's eval.max_real); a run that streams its data (data.streaming) reads them from
the prepared files in chunks, never holding the split.

--compare scores FAKE against REAL, each a folder of images (.png/.jpg/.jpeg/.bmp, all one
size, read with Pillow in name order) or a .npz file (array 'images' or its only array: uint8
[N, H, W, C] in 0..255, or float in [-1, 1]), so numbers can be checked against other tools on
the same files. 'parzen' selects sigma on REAL's first half and scores its second half.
--features defaults to 'mnist' for 28x28x1 images and 'inception' otherwise (InceptionV3 of FID:
weights from --inception_weights, $GAN_JAX_INCEPTION_WEIGHTS or the default location; never
downloaded). The results are printed as JSON.
"""
import json
import os
import sys
import zipfile

import numpy as np
from absl import app, flags, logging

from gan_jax.errors import GanJaxError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
COMPARE_DEFAULT = "fid,is,kid,pr,dc"

FLAGS = flags.FLAGS


def define_flags():
    """The command line's flags (defined only when run as a program, so importing this module
    never clashes with other modules' absl flags such as gan_jax.train's --workdir)."""
    flags.DEFINE_string("workdir", None, "a training run's directory")
    flags.DEFINE_list("compare", None, "REAL,FAKE (or --compare REAL FAKE): two folders/.npz files")
    flags.DEFINE_string("metrics", "auto", "comma list of fid,is,kid,pr,dc,parzen,modes,swd,msssim "
                        "(and a family's own, e.g. label_acc_ab)")
    flags.DEFINE_integer("num_samples", None, "generated samples (default: the run's eval.num_samples)")
    flags.DEFINE_string("features", "auto", "mnist | inception (default: by the data)")
    flags.DEFINE_string("inception_weights", None, "pytorch-fid .pth or converted .npz")
    flags.DEFINE_integer("step", None, "checkpoint step (default: the latest)")
    flags.DEFINE_bool("no_ema", False, "use G itself where the run kept an EMA of G")
    flags.DEFINE_bool("baseline", False, "also score the held-out real split (real_* keys)")
    flags.DEFINE_string("out", None, "write the JSON here instead of DIR/eval.json")
    flags.DEFINE_integer("max_real", None, "training images the real-set metrics compare with "
                         "(default: the run's eval.max_real; 0: all)")


def read_images(path: str) -> np.ndarray:
    """A folder of images or a .npz file -> float32 [N, H, W, C] in [-1, 1]."""
    from gan_jax.data.images import to_model_range
    if os.path.isdir(path):
        names = sorted(n for n in os.listdir(path) if n.lower().endswith(IMAGE_SUFFIXES))
        if not names:
            raise GanJaxError(f"{path} holds no images ({', '.join(IMAGE_SUFFIXES)})")
        from PIL import Image
        arrays = []
        for name in names:
            file = os.path.join(path, name)
            try:
                with Image.open(file) as im:
                    a = np.asarray(im.convert("L" if im.mode in ("L", "1", "I;16") else "RGB"))
            except (OSError, SyntaxError, ValueError) as e:   # PIL: unreadable or truncated
                raise GanJaxError(f"cannot read the image {file} ({type(e).__name__}: {e}); it "
                                  "is corrupt or truncated: replace or remove it") from None
            arrays.append(a[..., None] if a.ndim == 2 else a)
        shapes = {a.shape for a in arrays}
        if len(shapes) > 1:
            raise GanJaxError(f"the images in {path} differ in size or channels {sorted(shapes)}; "
                              "resize them to one size first")
        return to_model_range(np.stack(arrays))
    if path.endswith(".npz") and os.path.isfile(path):
        try:
            with np.load(path) as f:
                keys = list(f.keys())
                if "images" not in keys and len(keys) != 1:
                    raise GanJaxError(f"{path} holds arrays {keys}; name the images 'images'")
                x = f["images" if "images" in keys else keys[0]]
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:   # a damaged file
            raise GanJaxError(f"cannot read {path} ({type(e).__name__}: {e}); the .npz file is "
                              "corrupt or truncated") from None
        if x.ndim == 3:
            x = x[..., None]
        if x.ndim != 4 or x.shape[-1] not in (1, 3):
            raise GanJaxError(f"{path}: images must be [N, H, W, C] with C 1 or 3, got {x.shape}")
        if x.dtype == np.uint8:
            return to_model_range(x)
        x = x.astype(np.float32)
        if x.min() < -1.0001 or x.max() > 1.0001:
            raise GanJaxError(f"{path}: float images must lie in [-1, 1], got "
                              f"[{x.min():.3g}, {x.max():.3g}]; store uint8 0..255 instead")
        return x
    raise GanJaxError(f"{path} is neither a folder of images nor a .npz file")


def compare_sets(real: np.ndarray, fake: np.ndarray, metrics, features: str = "auto",
                 inception_weights=None) -> dict:
    """The metrics of image set `fake` against `real` (both [N, H, W, C] in [-1, 1])."""
    from gan_jax.evaluators import make_extractor
    from gan_jax.metrics import compare
    if real.shape[1:] != fake.shape[1:]:
        raise GanJaxError(f"the two sets differ in image shape: {real.shape[1:]} vs "
                          f"{fake.shape[1:]}")
    metrics = compare.parse_metrics(COMPARE_DEFAULT if metrics == "auto" else metrics)
    if features == "auto":
        features = "mnist" if real.shape[1:] == (28, 28, 1) else "inception"
    out = {"num_real": len(real), "num_fake": len(fake), "features": features}
    extractor = make_extractor(features, inception_weights)
    half = len(real) // 2
    out.update(compare.score_sets(extractor(real), extractor(fake), metrics,
                                  parzen_sets=(fake, real[:half], real[half:])))
    return out


def evaluate_workdir(workdir: str, metrics="auto", features="auto", num_samples=None,
                     step=None, use_ema=True, inception_weights=None, baseline=False,
                     out=None, max_real=None) -> dict:
    """Evaluate the run in `workdir` and write the results (see the module docstring)."""
    from gan_jax.evaluation import Evaluator
    from gan_jax.train.restore import load_run
    from gan_jax.train.workdir import write_evaluation
    run = load_run(workdir, step=step, use_ema=use_ema)
    if max_real is not None:
        if max_real < 0:
            raise GanJaxError(f"--max_real must be >= 0 (0: all training images), got {max_real}")
        run.config.eval.max_real = int(max_real)
    evaluator = Evaluator(run.spec, None, run.config, metrics=metrics, features=features,
                          num_samples=num_samples, baseline=baseline,
                          inception_weights=inception_weights or run.config.eval.inception_weights
                          or None)
    results = {"step": run.step, "ema": run.ema, **evaluator(run.g_variables)}
    return write_evaluation(workdir, results, out)


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)
    try:
        if bool(FLAGS.workdir) == bool(FLAGS.compare):
            raise GanJaxError("give either --workdir DIR or --compare REAL FAKE")
        if FLAGS.compare:
            if len(FLAGS.compare) != 2:
                raise GanJaxError(f"--compare takes two paths, REAL and FAKE; got {FLAGS.compare}")
            real, fake = (read_images(p) for p in FLAGS.compare)
            results = compare_sets(real, fake, FLAGS.metrics, FLAGS.features,
                                   FLAGS.inception_weights)
            if FLAGS.out:
                from gan_jax.train.workdir import write_json
                write_json(FLAGS.out, results)
        else:
            results = evaluate_workdir(
                FLAGS.workdir, FLAGS.metrics, FLAGS.features, FLAGS.num_samples, FLAGS.step,
                not FLAGS.no_ema, FLAGS.inception_weights, FLAGS.baseline, FLAGS.out,
                FLAGS.max_real)
    except GanJaxError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    print(json.dumps(results, indent=1, sort_keys=True))


def _two_paths_after_compare(argv):
    """Accept `--compare A B` as well as `--compare A,B`."""
    out = list(argv)
    for i, arg in enumerate(out[:-2]):
        if arg == "--compare" and not out[i + 2].startswith("-"):
            out[i + 1:i + 3] = [f"{out[i + 1]},{out[i + 2]}"]
            break
    return out


def run():
    """The console script gan-jax-evaluate."""
    define_flags()
    app.run(main, argv=_two_paths_after_compare(sys.argv))


if __name__ == "__main__":
    run()
