"""Fill the missing region of a user's image with a trained inpainting model (`gan.family=
'inpaint'`, the context encoder).

    python -m gan_jax.inpaint --workdir DIR --image IN.png --mask MASK.png --out OUT.png
        [--panel PANEL.png] [--step S] [--seed N]

The image is converted to the model's channels (grey 'L' or 'RGB') and must have the size the
model was trained on. The mask is a picture of the same size whose white pixels (>= 128 in grey)
are missing (`gan_jax.data.masks.load_mask`); without --mask, the run's own mask
(`inpaint.mask`: the centre square, or a random one keyed by --seed) is used. OUT.png is the
image with its missing pixels filled by G (the known ones unchanged); --panel also writes the
picture masked | filled | original. --step picks a checkpoint (default: the latest). The same
arguments give identical files. Nothing is read from the run's data set.
"""
import os
import sys

import jax
import numpy as np
from absl import app, flags, logging

from gan_jax import viz
from gan_jax.data import masks as mask_lib
from gan_jax.errors import GanJaxError
from gan_jax.pixels import to_model_range
from gan_jax.train.restore import load_run


def read_image(path: str, shape) -> np.ndarray:
    """uint8 [H, W, C] of the image at `path`, which must have the model's `shape` (H, W, C)."""
    from PIL import Image
    h, w, c = shape
    if not os.path.isfile(path):
        raise GanJaxError(f"--image {path} does not exist")
    try:
        with Image.open(path) as img:
            pixels = np.asarray(img.convert("L" if c == 1 else "RGB"), np.uint8)
    except OSError as err:
        raise GanJaxError(f"cannot read the image {path} ({err})") from None
    if pixels.shape[:2] != (h, w):
        raise GanJaxError(f"{path} is {pixels.shape[1]}x{pixels.shape[0]}, but the model fills "
                          f"{w}x{h} images: crop or resize it (and its mask) to {w}x{h}")
    return pixels[..., None] if pixels.ndim == 2 else pixels


def check_inpaint_model(run):
    if run.config.gan.family != "inpaint":
        raise GanJaxError(f"the run in {run.workdir} is not an inpainting model (family "
                          f"{run.config.gan.family!r}); train one with gan.family=inpaint, e.g. "
                          "--config=inpaint_mnist")


def run_mask(run, seed: int = 0) -> np.ndarray:
    """The run's own mask [H, W, 1] (`inpaint.mask`; a random kind keyed by `seed`)."""
    c = run.config.inpaint
    shape = run.data.shape_of("x")[:2]
    return np.asarray(mask_lib.one(c.mask, jax.random.key(seed), shape, int(c.mask_size)))


def fill(run, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The filled image [H, W, C] in [-1, 1] of a uint8 image [H, W, C] and its mask [H, W, 1]
    (1 = missing)."""
    check_inpaint_model(run)
    x = to_model_range(image[None])
    cond = np.concatenate([x, np.asarray(mask, np.float32)[None]], axis=-1)
    return np.asarray(run.spec.sample(run.g_variables, jax.random.key(0), 1, cond))[0]


def to_uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round((np.asarray(x) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def inpaint_file(workdir: str, image_path: str, out: str, mask_path=None, panel=None,
                 step=None, seed: int = 0) -> str:
    """Fill `image_path` behind `mask_path` (or the run's mask) with the run in `workdir`, write
    `out` (and the masked | filled | original `panel`); returns `out`."""
    from PIL import Image
    run = load_run(workdir, step=step)
    check_inpaint_model(run)                 # before reading any image
    shape = run.data.shape_of("x")
    image = read_image(image_path, shape)
    mask = (mask_lib.load_mask(mask_path, shape[:2]) if mask_path
            else run_mask(run, seed))
    filled = fill(run, image, mask)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    pixels = to_uint8(filled)
    Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels).save(out)
    if panel:
        from gan_jax.evaluators.inpainting import panel_rows
        original = to_model_range(image)
        masked = mask_lib.hide(original, mask)
        os.makedirs(os.path.dirname(os.path.abspath(panel)), exist_ok=True)
        viz.save_image_grid(panel_rows(masked[None], filled[None], original[None]), panel,
                            nrow=3)
    return out


FLAGS = flags.FLAGS


def define_flags():
    flags.DEFINE_string("workdir", None, "run directory of an inpainting run (gan_jax.train)")
    flags.DEFINE_string("image", None, "the image to fill (.png, .jpg, ...)")
    flags.DEFINE_string("mask", None, "the mask: white (>= 128) = missing; default: the run's")
    flags.DEFINE_string("out", None, "the filled image (.png)")
    flags.DEFINE_string("panel", None, "also write masked | filled | original here")
    flags.DEFINE_integer("step", None, "checkpoint step (default: the latest)")
    flags.DEFINE_integer("seed", 0, "key of the run's random mask kind (without --mask)")
    for name in ("workdir", "image", "out"):
        flags.mark_flag_as_required(name)


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)
    try:
        path = inpaint_file(FLAGS.workdir, FLAGS.image, FLAGS.out, FLAGS.mask, FLAGS.panel,
                            FLAGS.step, FLAGS.seed)
    except GanJaxError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    print(path)
    if FLAGS.panel:
        print(FLAGS.panel)


def run():
    """The console script gan-jax-inpaint."""
    define_flags()
    app.run(main)


if __name__ == "__main__":
    run()
