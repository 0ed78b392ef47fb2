"""Pictures and numbers of the inpainting family (`gan.family='inpaint'`): G fills the held-out
split's images (the data's test split, in order) behind fixed masks, and the fills are scored
against the originals.

Held-out masks: image i's is drawn from fold_in(fold_in(key(seed), EVAL_MASK_KEY), i) with the
run's `inpaint.mask` and `inpaint.mask_size` (the centre square is the same for every image),
so every evaluation and every model of one seed fills the same holes. Sample i of an evaluation
is the fill of held-out image i mod N (N held-out images; `eval.num_samples` = N fills each
once).

- `HoleScores`: in the hole only, on [0, 1] pixel values, per image then averaged: `hole_l1`
  (mean |x - y|), `hole_psnr` (10 log10(1 / MSE), dB, capped at 100) and `hole_ssim` (the SSIM
  map of Wang et al. 2004, computed as `gan_jax.metrics.image_quality.ssim` does on the whole
  filled image, averaged over the hole's pixels; equal to the mean of scikit-image's `full=True`
  map over the hole). The same for the masked input itself (its hole mid-grey):
  `masked_hole_l1`, `masked_hole_psnr`, `masked_hole_ssim`, the do-nothing reference.
- `DigitScores` (28x28x1 data with 10 classes: MNIST): the shipped LeNet's accuracy on the
  filled digits (`filled_accuracy`), on the masked ones (`masked_accuracy`) and on the
  originals (`original_accuracy`).

`InpaintGrid` draws rows masked | filled | original of the first held-out images.
"""
import functools
import json

import jax
import jax.numpy as jnp
import numpy as np
from scipy import ndimage

from gan_jax import viz
from gan_jax.data import masks as mask_lib
from gan_jax.errors import GanJaxError
from gan_jax.evaluators import EvalPlan
from gan_jax.metrics import image_quality
from gan_jax.pixels import to_model_range

EVAL_MASK_KEY = 0x1D7E
SAMPLE_BATCH = 50           # fills per generator call
PICTURE_KEY = 0x5A3B1E


@functools.lru_cache(maxsize=2)
def _test_split(data_json: str):
    import ml_collections
    from gan_jax.registry import load_split
    return load_split(ml_collections.ConfigDict({"data": json.loads(data_json)}), "test")


def held_out(config) -> dict:
    """{'images': [-1, 1] [N, H, W, C], 'labels': [N] or None, 'masks': [N, H, W, 1]} of the
    test split of config.data, with the fixed evaluation masks (read once per data config)."""
    images, labels = _test_split(json.dumps(config.data.to_dict(), sort_keys=True, default=str))
    if len(images) == 0:
        raise GanJaxError(f"{config.data.name!r} has no held-out images to evaluate on")
    c = config.inpaint
    key = jax.random.fold_in(jax.random.key(int(config.seed)), EVAL_MASK_KEY)
    masks = mask_lib.draw(c.mask, key, jnp.arange(len(images)), images.shape[1:3],
                          int(c.mask_size))
    return {"images": to_model_range(images), "labels": labels, "masks": np.asarray(masks)}


def with_masks(images, masks):
    """The `cond` of the family's sample: images with their mask as one more channel."""
    return np.concatenate([images, masks], axis=-1)


def _repeat(x, n):
    return np.take(x, np.arange(n) % len(x), axis=0)


def _unit(x):
    return (np.asarray(x, np.float64) + 1.0) / 2.0


def hole_l1(x, y, masks) -> float:
    x, y, m = _unit(x), _unit(y), np.asarray(masks, np.float64)
    per = np.sum(m * np.abs(x - y), axis=(1, 2, 3)) / np.maximum(
        np.sum(m, axis=(1, 2, 3)) * x.shape[-1], 1.0)
    return float(np.mean(per))


def hole_psnr(x, y, masks) -> float:
    x, y, m = _unit(x), _unit(y), np.asarray(masks, np.float64)
    mse = np.sum(m * (x - y) ** 2, axis=(1, 2, 3)) / np.maximum(
        np.sum(m, axis=(1, 2, 3)) * x.shape[-1], 1.0)
    with np.errstate(divide="ignore"):
        db = np.where(mse > 0, 10.0 * np.log10(1.0 / np.maximum(mse, 1e-300)),
                      image_quality.MAX_PSNR)
    return float(np.mean(np.minimum(db, image_quality.MAX_PSNR)))


def ssim_map(x, y):
    """The SSIM map of two [H, W] images in [0, 1] (image_quality's window and constants)."""
    def blur(a):
        return ndimage.gaussian_filter(a, image_quality.SIGMA, truncate=image_quality.TRUNCATE)
    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    c1, c2 = image_quality.K1 ** 2, image_quality.K2 ** 2
    return ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))


def hole_ssim(x, y, masks) -> float:
    """The SSIM map of each image (per channel) averaged over its hole, then over the images."""
    x, y, m = _unit(x), _unit(y), np.asarray(masks) > 0.5
    scores = []
    for i in range(len(x)):
        hole = m[i, ..., 0]
        if not hole.any():
            continue
        scores.append(np.mean([ssim_map(x[i, ..., c], y[i, ..., c])[hole].mean()
                               for c in range(x.shape[-1])]))
    return float(np.mean(scores)) if scores else float("nan")


class HoleScores:
    known = ("hole_l1", "hole_psnr", "hole_ssim")

    def __init__(self, images, masks):
        self.images, self.masks = images, masks
        masked = mask_lib.hide(images, masks)
        self.reference = {f"masked_{k}": v for k, v in self.scores(masked, images, masks)}

    @staticmethod
    def scores(fake, target, masks):
        yield "hole_l1", hole_l1(fake, target, masks)
        yield "hole_psnr", hole_psnr(fake, target, masks)
        yield "hole_ssim", hole_ssim(fake, target, masks)

    def __call__(self, fake, cond):
        target, masks = _repeat(self.images, len(fake)), _repeat(self.masks, len(fake))
        yield from self.scores(fake, target, masks)
        yield from self.reference.items()


class DigitScores:
    known = ("filled_accuracy", "masked_accuracy", "original_accuracy")

    def __init__(self, context, images, labels, masks):
        self.context, self.images, self.labels, self.masks = context, images, labels, masks

    @functools.cached_property
    def reference(self):
        classify = self.context.extractor("mnist").classify
        masked = mask_lib.hide(self.images, self.masks)
        return {"masked_accuracy": float(np.mean(classify(masked) == self.labels)),
                "original_accuracy": float(np.mean(classify(self.images) == self.labels))}

    def __call__(self, fake, cond):
        classify = self.context.extractor("mnist").classify
        labels = _repeat(self.labels, len(fake))
        yield "filled_accuracy", float(np.mean(classify(fake) == labels))
        yield from self.reference.items()


def is_digits(images, labels) -> bool:
    return images.shape[1:] == (28, 28, 1) and labels is not None and labels.max() < 10


def inpainting_plan(context) -> EvalPlan:
    """The plug-ins for the run's held-out images and the masked images to fill."""
    data = held_out(context.config)
    images, labels, masks = data["images"], data["labels"], data["masks"]
    plugins = [HoleScores(images, masks)]
    if is_digits(images, labels):
        plugins.append(DigitScores(context, images, labels, masks))
    cond = with_masks(images, masks)
    return EvalPlan(plugins, conditions=lambda n: _repeat(cond, n), sample_batch=SAMPLE_BATCH)


def as_rgb(images):
    images = np.asarray(images)
    return np.repeat(images, 3, axis=-1) if images.shape[-1] == 1 else images


def panel_rows(masked, filled, original):
    """One picture's rows: masked | filled | original, as a flat list for `viz` with nrow=3."""
    rows = np.stack([as_rgb(masked), as_rgb(filled), as_rgb(original)], axis=1)
    return rows.reshape((-1,) + rows.shape[2:])


class InpaintGrid:
    """Rows of the first `num` held-out images: masked | filled | original. `held_out()`
    returns `held_out(config)`, read on the first write."""

    def __init__(self, spec, held_out_fn, num: int = 8):
        key = jax.random.key(PICTURE_KEY)       # unused: the held-out masks are given
        self._held_out, self.num = held_out_fn, num
        self._fill = jax.jit(lambda g, cond: spec.sample(g, key, cond.shape[0], cond))

    def write(self, workdir: str, step: int, g_variables, d_variables=None) -> str:
        from gan_jax.snapshots import sample_path
        data = self._held_out()
        images, masks = data["images"][:self.num], data["masks"][:self.num]
        filled = np.asarray(self._fill(g_variables, jnp.asarray(with_masks(images, masks))))
        return viz.save_image_grid(panel_rows(mask_lib.hide(images, masks), filled, images),
                                   sample_path(workdir, step), nrow=3)

    def finish(self, workdir: str):
        return None
