"""The image metric set (`gan_jax.metrics.compare`) on generated images, as one plug-in.

What is measured (`eval.metrics='auto'`), by the data:
- MNIST digits (mnist_offline, mnist; 28x28x1): fid, is, kid, pr, dc on the shipped MNIST
  LeNet's features and logits ("MNIST FID", "MNIST score"), parzen in pixel space, and modes
  over the LeNet's 10 classes;
- Stacked MNIST: the 1,000-mode count and KL to uniform (`metrics/stacked_mnist.py`);
- other images: fid, is, kid, pr, dc on InceptionV3 features (weights from a local file; when
  they are missing and the metrics were not asked for by name, they are listed under `skipped`).

Sets compared: the n generated images against the training split (the distribution G is
fitted to, as FID is usually reported); Parzen selects sigma on the first half of the held-out
test split and reports the log-likelihood of its second half. With `baseline` the held-out test
split is scored the same way as the samples (keys `real_*`): what a perfect generator would
get at that size.
"""
import numpy as np

from gan_jax.errors import GanJaxError
from gan_jax.evaluators import requested
from gan_jax.metrics import compare
from gan_jax.pixels import to_model_range

DIGIT_DATA = ("mnist_offline", "mnist")


def data_family(config) -> str:
    """'digits' (28x28x1 MNIST), 'stacked_mnist' or 'images' (anything else)."""
    if config.data.name in DIGIT_DATA and config.data.image_size in (0, 28):
        return "digits"
    if config.data.name == "stacked_mnist":
        return "stacked_mnist"
    return "images"


def auto_metrics(family: str):
    return {"digits": compare.METRICS, "stacked_mnist": ("modes",),
            "images": compare.FEATURE_METRICS}[family]


def default_features(config) -> str:
    return "inception" if data_family(config) == "images" else "mnist"


class ImageMetrics:
    """fid, is, kid, pr, dc, parzen, modes of the generated images (see the module docstring)."""
    known = compare.METRICS

    def __init__(self, context):
        self.context = context
        config, options = context.config, context.options
        self.family = data_family(config)
        names = requested(options)
        explicit = names is not None
        if explicit:
            mine = [m for m in names if m in compare.METRICS]
            self.metrics = compare.parse_metrics(mine) if mine else ()
        else:
            self.metrics = auto_metrics(self.family)
        features = options.features
        if features == "auto":
            features = default_features(config)
        self.features_name = features
        self.skipped = {}
        self.extractor = None
        needs_features = set(self.metrics) & set(compare.FEATURE_METRICS) or (
            "modes" in self.metrics and self.family in ("digits", "stacked_mnist"))
        if "modes" in self.metrics and self.family == "images":
            raise GanJaxError("metric 'modes' needs MNIST or Stacked MNIST data (it counts the "
                              "MNIST classifier's classes); drop it from --metrics")
        if self.family == "stacked_mnist" and set(self.metrics) - {"modes"}:
            raise GanJaxError("Stacked MNIST is evaluated by its modes only (metric 'modes'); "
                              "the MNIST features see one channel at a time")
        if needs_features:
            try:
                self.extractor = context.extractor(features)
            except GanJaxError as e:
                if explicit or features != "inception":
                    raise
                self.skipped = {m: str(e) for m in self.metrics}
                self.metrics = ()

    def __call__(self, fake, cond=None):
        result = {}
        if self.skipped:
            result["skipped"] = self.skipped
        if self.metrics:
            result["features"] = self.features_name
            result.update(self.score(fake))
            if self.context.options.baseline:
                held_out = self.context.test_images
                real = self.score(held_out, to_model_range(self.context.train_split[0]))
                result.update({f"real_{k}": v for k, v in real.items()})
                result["real_num_samples"] = len(held_out)
        return result.items()

    def score(self, images: np.ndarray, parzen_centres=None) -> dict:
        """The metrics of `images` (generated, or held-out real for the baseline, whose Parzen
        kernels sit on `parzen_centres`, the training images, instead of on itself)."""
        if self.family == "stacked_mnist":   # needs neither the real images nor their features
            from gan_jax.metrics.stacked_mnist import stacked_mnist_modes
            return stacked_mnist_modes(images, self.extractor.classify)
        real_features = self.context.train_features(self.features_name) \
            if self.extractor is not None else None
        stats = self.context.train_statistics(self.features_name) \
            if self.extractor is not None else None
        parzen_sets = None
        if "parzen" in self.metrics:
            held_out = self.context.test_images     # Parzen's validation and test halves
            half = len(held_out) // 2
            centres = images if parzen_centres is None else parzen_centres
            parzen_sets = (centres, held_out[:half], held_out[half:])
        fake_features = self.context.features_of(self.features_name, images) \
            if self.extractor is not None else None
        return compare.score_sets(real_features, fake_features, self.metrics,
                                  parzen_sets=parzen_sets, real_statistics=stats,
                                  seed=self.context.seed)
