"""Apply a trained image-to-image generator (Pix2Pix, CycleGAN) to a user's images.

    python -m gan_jax.translate --workdir DIR --input IMAGE_OR_FOLDER --out OUT_DIR [--resize]
        [--direction AtoB|BtoA]

Each input image (.png, .jpg, .jpeg, .bmp; a folder is read in sorted name order) is converted
to the model's input channels (grey 'L' or 'RGB'), checked against the size the model was
trained on (or resized to it, bicubic, with --resize), translated, and written to
OUT_DIR/<name>.png; the paths are printed. --step picks a checkpoint (default: the latest);
--seed keys the dropout masks of a run trained with model.test_dropout. The same arguments give
identical files. Nothing is read from the run's data set. `--direction BtoA` runs a CycleGAN's
second generator F (B -> A) on B-images; Pix2Pix translates AtoB only.
"""
import os
import sys

import jax
import numpy as np
from absl import app, flags, logging

from gan_jax.errors import GanJaxError
from gan_jax.pixels import to_model_range
from gan_jax.train.restore import load_run

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")
DIRECTIONS = ("AtoB", "BtoA")


def input_files(path: str) -> list:
    """The image files of `path` (a file, or a folder's images in sorted order)."""
    if os.path.isdir(path):
        files = sorted(os.path.join(path, f) for f in os.listdir(path)
                       if f.lower().endswith(EXTENSIONS))
        if not files:
            raise GanJaxError(f"{path} holds no images ({', '.join(EXTENSIONS)})")
        return files
    if not os.path.isfile(path):
        raise GanJaxError(f"--input {path} is neither an image file nor a folder")
    return [path]


def read_input(path: str, shape, resize: bool) -> np.ndarray:
    """uint8 [H, W, C] of the image at `path`, in the model's input `shape` (H, W, C)."""
    from PIL import Image
    h, w, c = shape
    try:
        with Image.open(path) as img:
            img = img.convert("L" if c == 1 else "RGB")
            if img.size != (w, h):
                if not resize:
                    raise GanJaxError(
                        f"{path} is {img.size[0]}x{img.size[1]}, but the model translates "
                        f"{w}x{h} images: crop or resize it, or pass --resize (bicubic)")
                img = img.resize((w, h), Image.BICUBIC)
            pixels = np.asarray(img, np.uint8)
    except OSError as err:
        raise GanJaxError(f"cannot read the image {path} ({err})") from None
    return pixels[..., None] if pixels.ndim == 2 else pixels


def check_translation_model(run):
    if run.spec.cond_kind != "image":
        raise GanJaxError(f"the run in {run.workdir} is not an image-to-image model (family "
                          f"{run.config.gan.family!r}); use python -m gan_jax.sample")


def translator(run, direction: str = "AtoB"):
    """The run's translation function (g, key, n, inputs) -> outputs for `direction`."""
    check_translation_model(run)
    if direction not in DIRECTIONS:
        raise GanJaxError(f"unknown --direction {direction!r}; valid: {DIRECTIONS}")
    if direction == "AtoB":
        return run.spec.sample
    if run.spec.reverse is None:
        raise GanJaxError(f"the {run.config.gan.family!r} run in {run.workdir} translates A to "
                          "B only (a CycleGAN run also translates B to A)")
    return run.spec.reverse


def input_shape(run, direction: str = "AtoB"):
    """(H, W, C) of the images the model takes in `direction`."""
    return run.data.shape_of("a" if direction == "AtoB" else "b")


def translate(run, images: np.ndarray, seed: int = 0, batch: int = 16,
              direction: str = "AtoB") -> np.ndarray:
    """The outputs [n, H, W, C] in [-1, 1] for uint8 inputs [n, H, W, C_in] (A-images for
    AtoB, B-images for BtoA)."""
    sample = jax.jit(translator(run, direction), static_argnums=2)
    key = jax.random.key(seed)
    x = to_model_range(images)
    out = [np.asarray(sample(run.g_variables, jax.random.fold_in(key, i), len(x[i:i + batch]),
                             x[i:i + batch])) for i in range(0, len(x), batch)]
    return np.concatenate(out)


def translate_files(workdir: str, source: str, out_dir: str, resize: bool = False,
                    step=None, seed: int = 0, direction: str = "AtoB") -> list:
    """Translate every image of `source` with the run in `workdir`; returns the written paths."""
    from PIL import Image
    files = input_files(source)
    run = load_run(workdir, step=step)
    translator(run, direction)             # before reading any image
    images = np.stack([read_input(f, input_shape(run, direction), resize) for f in files])
    outputs = translate(run, images, seed, direction=direction)
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for f, y in zip(files, outputs):
        pixels = np.clip(np.round((y + 1.0) * 127.5), 0, 255).astype(np.uint8)
        path = os.path.join(out_dir, os.path.splitext(os.path.basename(f))[0] + ".png")
        Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels).save(path)
        paths.append(path)
    return paths


FLAGS = flags.FLAGS


def define_flags():
    flags.DEFINE_string("workdir", None, "run directory of a Pix2Pix or CycleGAN run "
                        "(gan_jax.train)")
    flags.DEFINE_string("input", None, "an image, or a folder of images, to translate")
    flags.DEFINE_string("out", None, "output folder (created)")
    flags.DEFINE_bool("resize", False, "resize inputs of another size to the model's (bicubic)")
    flags.DEFINE_integer("step", None, "checkpoint step (default: the latest)")
    flags.DEFINE_integer("seed", 0, "key of the dropout masks (runs with model.test_dropout)")
    flags.DEFINE_enum("direction", "AtoB", list(DIRECTIONS),
                      "AtoB: G on A-images; BtoA: a CycleGAN's F on B-images")
    for name in ("workdir", "input", "out"):
        flags.mark_flag_as_required(name)


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)
    try:
        paths = translate_files(FLAGS.workdir, FLAGS.input, FLAGS.out, FLAGS.resize, FLAGS.step,
                                FLAGS.seed, FLAGS.direction)
    except GanJaxError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    for path in paths:
        print(path)


def run():
    """The console script gan-jax-translate."""
    define_flags()
    app.run(main)


if __name__ == "__main__":
    run()
