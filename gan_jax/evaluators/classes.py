"""Conditional samples judged class by class (the conditional family's plug-ins).

- `ClassAccuracy`: how often the shipped MNIST LeNet classifies a sample generated for label y
  as y: overall (`class_accuracy`), per class (`class_accuracy_per_class`, and the worst,
  `class_accuracy_min`). The baseline (`real_class_accuracy`) is the LeNet's accuracy on the
  held-out real digits (98.6 %).
- `IntraClassFID`: the Fréchet distance on LeNet features between the samples generated for
  class c and the real training digits of class c, for every class (`intra_fid_per_class`), and
  their mean (`intra_fid`; Miyato & Koyama 2018 report it on ImageNet with Inception features).

Both need a classifier of the data's classes: the MNIST LeNet, so MNIST digits (28x28x1).
On other data they report themselves under `skipped` unless asked for by name (then an error).
"""
import functools

import numpy as np

from gan_jax.errors import GanJaxError
from gan_jax.evaluators import requested
from gan_jax.evaluators.images import data_family
from gan_jax.metrics.frechet import frechet_distance, gaussian_statistics


def _wanted(context, names):
    """(run it, error-or-skip reason) for a plug-in answering to `names` on this run's data."""
    asked = requested(context.options)
    wanted = asked is None or any(n in asked for n in names)
    if not wanted:
        return False, None
    if data_family(context.config) != "digits":
        reason = (f"{names[0]} needs a classifier of the data's classes; gan_jax ships the MNIST "
                  f"LeNet (data mnist_offline or mnist, 28x28x1), not one for "
                  f"{context.config.data.name!r}")
        if asked is not None:
            raise GanJaxError(reason)
        return False, reason
    return True, None


def _labels(cond, n):
    if cond is None:
        raise GanJaxError("class metrics need the labels the samples were generated for")
    return np.asarray(cond)[:n]


class _PerClassMetric:
    """A metric of samples judged class by class against the labels they were generated for:
    `measure(images, labels) -> (overall, per_class)`; `name` its key. The baseline
    (`real_<name>`) measures the held-out real digits with their own labels."""
    name = ""
    known = ()       # the metric names (--metrics) it answers to: (name,)

    def __init__(self, context, num_classes: int):
        self.context, self.num_classes = context, num_classes
        self.active, self.skip_reason = _wanted(context, self.known)
        if self.active:
            context.extractor("mnist")

    def summary(self, overall, per_class) -> dict:
        return {self.name: overall, f"{self.name}_per_class": per_class}

    def __call__(self, fake, cond=None):
        if not self.active:
            return {"skipped": {self.name: self.skip_reason}}.items() \
                if self.skip_reason else ()
        out = self.summary(*self.measure(fake, _labels(cond, len(fake))))
        if self.context.options.baseline:
            out[f"real_{self.name}"] = self.measure(self.context.test_images,
                                                    self.context.test_split[1])[0]
        return out.items()


class ClassAccuracy(_PerClassMetric):
    name = "class_accuracy"
    known = (name,)

    def measure(self, images, labels):
        logits = self.context.features_of("mnist", images).logits
        predicted = np.argmax(logits, -1)
        correct = predicted == labels
        per_class = [float(np.mean(correct[labels == c])) if np.any(labels == c) else float("nan")
                     for c in range(self.num_classes)]
        return float(np.mean(correct)), per_class

    def summary(self, overall, per_class) -> dict:
        return {**super().summary(overall, per_class),
                "class_accuracy_min": float(np.nanmin(per_class))}


class IntraClassFID(_PerClassMetric):
    name = "intra_fid"
    known = (name,)
    MIN_SAMPLES = 2

    @functools.cached_property
    def _class_statistics(self):
        """(mu, sigma) of the training digits' LeNet features, per class (computed once)."""
        features = self.context.train_features("mnist").features
        labels = self.context.train_labels
        return [gaussian_statistics(features[labels == c]) for c in range(self.num_classes)]

    def measure(self, images, labels):
        features = self.context.features_of("mnist", images).features
        real = self._class_statistics
        per_class = []
        for c in range(self.num_classes):
            mine = features[labels == c]
            if len(mine) < self.MIN_SAMPLES:
                raise GanJaxError(f"intra-class FID needs at least {self.MIN_SAMPLES} samples of "
                                  f"every class; class {c} has {len(mine)}: raise num_samples")
            per_class.append(frechet_distance(*real[c], *gaussian_statistics(mine)))
        return float(np.mean(per_class)), per_class
