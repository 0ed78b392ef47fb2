"""Evaluation of image-to-image families (Pix2Pix): G translates the held-out pairs' inputs, in
order, and the outputs are scored against the pairs' targets.

- `PairScores` (every paired data set): per-pixel `l1` ([0, 1] units), `psnr` (dB) and `ssim`
  (`gan_jax.metrics.image_quality`).
- `DigitSceneScores` (digit_scenes; the paper's FCN-score analogue): each generated digit,
  cropped at the layout's box and resized to 28x28 (Pillow, bilinear), is classified by the
  shipped MNIST LeNet: `digit_accuracy` (fraction of digits classified as the layout's label, the
  paper's per-pixel accuracy analogue) and `class_accuracy` (its mean over the 10 classes, the
  paper's per-class accuracy). With `--baseline` the same for the real scenes (`real_*`, the
  paper's "ground truth" row).

Sample i is the translation of held-out input i mod N (N held-out pairs; `eval.num_samples` =
N scores each pair once).
"""
import functools
import json

import numpy as np

from gan_jax.errors import GanJaxError
from gan_jax.evaluators import EvalPlan
from gan_jax.metrics import image_quality
from gan_jax.pixels import to_model_range

SAMPLE_BATCH = 50       # translations per generator call


@functools.lru_cache(maxsize=2)
def _held_out(data_json: str) -> dict:
    import ml_collections
    from gan_jax.registry import load_pairs
    return load_pairs(ml_collections.ConfigDict({"data": json.loads(data_json)}), "test")


def held_out_records(config) -> dict:
    """The held-out pairs of config.data, as stored (uint8 'a', 'b' and the data's extras);
    read once per process for each data config."""
    return _held_out(json.dumps(config.data.to_dict(), sort_keys=True, default=str))


def held_out_pairs(config):
    """(inputs, targets) of the held-out pairs in [-1, 1]."""
    records = held_out_records(config)
    return to_model_range(records["a"]), to_model_range(records["b"])


def _repeat(x, n):
    return np.take(x, np.arange(n) % len(x), axis=0)


class PairScores:
    known = ("l1", "psnr", "ssim")

    def __init__(self, targets):
        self.targets = targets

    def __call__(self, fake, cond):
        target = _repeat(self.targets, len(fake))
        yield "l1", image_quality.l1(fake, target)
        yield "psnr", image_quality.psnr(fake, target)
        yield "ssim", image_quality.ssim(fake, target)


def digit_crops(scenes, boxes, labels):
    """(crops [M, 28, 28, 1] in [-1, 1], their labels [M]) of every digit of `scenes` [n, H, W, 1]
    ([-1, 1]) at `boxes` [n, K, 3] (top, left, side); labels -1 mark unused rows."""
    from PIL import Image
    crops, wanted = [], []
    for scene, scene_boxes, scene_labels in zip(scenes, boxes, labels):
        for (top, left, side), label in zip(scene_boxes, scene_labels):
            if label < 0:
                continue
            patch = np.asarray(scene[top:top + side, left:left + side, 0], np.float32)
            small = Image.fromarray(patch, mode="F").resize((28, 28), Image.BILINEAR)
            crops.append(np.asarray(small, np.float32))
            wanted.append(int(label))
    return np.clip(np.stack(crops), -1.0, 1.0)[..., None], np.asarray(wanted, np.int32)


def digit_scores(extractor, scenes, boxes, labels):
    """{'digit_accuracy', 'class_accuracy'} of LeNet on the digits of `scenes` at their boxes."""
    crops, wanted = digit_crops(scenes, boxes, labels)
    correct = extractor.classify(crops) == wanted
    per_class = [correct[wanted == c].mean() for c in np.unique(wanted)]
    return {"digit_accuracy": float(correct.mean()), "class_accuracy": float(np.mean(per_class))}


class DigitSceneScores:
    known = ("digit_accuracy", "class_accuracy")

    def __init__(self, context, records):
        self.context, self.records = context, records

    def __call__(self, fake, cond):
        n = len(fake)
        boxes, labels = (_repeat(self.records[k], n) for k in ("boxes", "labels"))
        extractor = self.context.extractor("mnist")
        yield from digit_scores(extractor, fake, boxes, labels).items()
        if self.context.options.baseline:
            real = to_model_range(self.records["b"])
            for name, value in digit_scores(extractor, real, self.records["boxes"],
                                            self.records["labels"]).items():
                yield f"real_{name}", value


def translation_plan(context, data) -> EvalPlan:
    """The plug-ins of a paired data set and the inputs to translate."""
    records = held_out_records(context.config)
    if len(records["a"]) == 0:
        raise GanJaxError(f"{data.name!r} has no held-out pairs to evaluate on")
    plugins = [PairScores(to_model_range(records["b"]))]
    if "boxes" in records:
        plugins.append(DigitSceneScores(context, records))
    inputs = to_model_range(records["a"])
    return EvalPlan(plugins, conditions=lambda n: _repeat(inputs, n), sample_batch=SAMPLE_BATCH)
