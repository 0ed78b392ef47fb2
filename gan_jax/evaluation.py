"""Evaluation of a run's generator: what the trainer writes to eval.json (at the end, and as
`eval_*` rows of metrics.jsonl every `eval.every` steps) and what `python -m gan_jax.evaluate`
computes. Both go through one `Evaluator`, built once per run.

What is measured (`eval.metrics='auto'`):
- 1-D toy: Wasserstein-1 distance and Kolmogorov-Smirnov statistic between n generated and n
  data samples, and W1 in units of the data's std;
- 2-D mixtures: modes covered, high-quality fraction and KL to uniform (`metrics/modes.py`);
- MNIST digits (mnist_offline, mnist; 28x28x1): fid, is, kid, pr, dc on the shipped MNIST
  LeNet's features and logits ("MNIST FID", "MNIST score"), parzen in pixel space, and modes
  over the LeNet's 10 classes (`metrics/compare.py`);
- Stacked MNIST: the 1,000-mode count and KL to uniform (`metrics/stacked_mnist.py`);
- other images: fid, is, kid, pr, dc on InceptionV3 features (weights from a local file; when
  they are missing and the metrics were not asked for by name, they are listed under `skipped`).

Sets compared: n = eval.num_samples generated images (fixed evaluation keys, independent of
training) against the training split (the distribution G is fitted to, as FID is usually
reported); Parzen selects sigma on the first half of the held-out test split and reports the
log-likelihood of its second half. With `baseline=True` the held-out test split is scored the
same way as the samples (keys `real_*`): the value a perfect generator would get at that size.
"""
import functools
from typing import Optional, Sequence, Union

import jax
import numpy as np

from gan_jax.errors import GanJaxError
from gan_jax.metrics import compare
from gan_jax.metrics.distances import ks_statistic, wasserstein_1d
from gan_jax.metrics.frechet import gaussian_statistics
from gan_jax.metrics.modes import mode_statistics

EVAL_KEY = 0xE7A1
IMAGE_BATCH = 500           # generator batch for images (one compile for any n)
DIGIT_DATA = ("mnist_offline", "mnist")
FEATURES = ("mnist", "inception")


def generate(sample, g_variables, seed: int, n: int, batch: int):
    """n samples from G with a fixed evaluation key (independent of the training keys), in
    full batches of `batch` (batch i uses key fold_in(eval_key, i)) cut to n."""
    key = jax.random.fold_in(jax.random.key(seed), EVAL_KEY)
    out = [np.asarray(sample(g_variables, jax.random.fold_in(key, i), batch))
           for i in range(-(-n // batch))]
    return np.concatenate(out)[:n]


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


def make_extractor(name: str, inception_weights: Optional[str] = None):
    """The feature network `name` ('mnist' | 'inception'), as a Features-returning callable."""
    if name == "mnist":
        from gan_jax.metrics.features.lenet import MnistExtractor
        return MnistExtractor()
    if name == "inception":
        from gan_jax.metrics.features.inception import InceptionExtractor
        return InceptionExtractor(inception_weights or None)
    raise GanJaxError(f"unknown features {name!r}; valid: {FEATURES}")


class Evaluator:
    """Evaluates G variables of one run; builds the jitted sampler, the feature network and the
    real data's features once, so repeated (periodic) evaluations neither recompile nor reload.

    metrics / features: 'auto' (see the module docstring), or names (`compare.METRICS`;
    'mnist' | 'inception'). num_samples: None = config.eval.num_samples.
    """

    def __init__(self, spec, data, config, metrics: Union[str, Sequence[str]] = "auto",
                 features: str = "auto", num_samples: Optional[int] = None,
                 inception_weights: Optional[str] = None, baseline: bool = False):
        self.spec, self.data, self.config = spec, data, config
        self.n = int(num_samples or config.eval.num_samples)
        if self.n < 2:
            raise GanJaxError(f"num_samples must be at least 2, got {self.n}")
        self.baseline = baseline
        self.skipped = {}
        self.extractor = None
        self._sample = jax.jit(spec.sample, static_argnums=2)
        if data.kind == "toy":
            self.family, self.metrics = "toy", ()
            return
        self.family = data_family(config)
        explicit = metrics != "auto"
        self.metrics = compare.parse_metrics(metrics) if explicit else auto_metrics(self.family)
        if features == "auto":
            features = {"digits": "mnist", "stacked_mnist": "mnist",
                        "images": "inception"}[self.family]
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
                self.extractor = make_extractor(features, inception_weights)
            except GanJaxError as e:
                if explicit or features != "inception":
                    raise
                self.skipped = {m: str(e) for m in self.metrics}
                self.metrics = ()
        self.features_name = features

    @functools.cached_property
    def _held_out(self) -> np.ndarray:
        """The held-out test split in [-1, 1] (Parzen's validation/test halves, the baseline)."""
        from gan_jax.data.images import load_images, to_model_range
        c = self.config.data
        return to_model_range(load_images(c.name, "test", c.data_dir or None,
                                          image_size=c.image_size or None)[0])

    @functools.cached_property
    def _reference(self):
        """The training images' features and their Gaussian statistics (computed once)."""
        from gan_jax.data.images import to_model_range
        features = self.extractor(to_model_range(self.data.images))
        return features, gaussian_statistics(features.features)

    def samples(self, g_variables) -> np.ndarray:
        batch = self.n if self.family == "toy" else IMAGE_BATCH
        return generate(self._sample, g_variables, self.config.seed, self.n, batch)

    def __call__(self, g_variables) -> dict:
        fake = self.samples(g_variables)
        if not np.all(np.isfinite(fake)):
            raise GanJaxError(f"the generator produced {int(np.sum(~np.isfinite(fake)))} "
                              "non-finite values; the metrics would be meaningless")
        result = {"num_samples": self.n}
        if self.family == "toy":
            result.update(self._toy(fake))
            return result
        if self.skipped:
            result["skipped"] = self.skipped
        if self.metrics:
            result["features"] = self.features_name
            result.update(self.score(fake))
            if self.baseline:
                from gan_jax.data.images import to_model_range
                real = self.score(self._held_out, to_model_range(self.data.images))
                result.update({f"real_{k}": v for k, v in real.items()})
                result["real_num_samples"] = len(self._held_out)
        return result

    def score(self, images: np.ndarray, parzen_centres: Optional[np.ndarray] = None) -> dict:
        """The metrics of `images` (generated, or held-out real for the baseline, whose Parzen
        kernels sit on `parzen_centres`, the training images, instead of on itself)."""
        if self.family == "stacked_mnist":   # needs neither the real images nor their features
            from gan_jax.metrics.stacked_mnist import stacked_mnist_modes
            return stacked_mnist_modes(images, self.extractor.classify)
        real_features, stats = self._reference
        held_out = self._held_out
        half = len(held_out) // 2
        centres = images if parzen_centres is None else parzen_centres
        return compare.score_sets(real_features, self.extractor(images), self.metrics,
                                  parzen_sets=(centres, held_out[:half], held_out[half:]),
                                  real_statistics=stats, seed=self.config.seed)

    def _toy(self, fake: np.ndarray) -> dict:
        dist = self.data.distribution
        real_key = jax.random.fold_in(jax.random.key(self.config.seed), EVAL_KEY + 1)
        real = np.asarray(dist.sample(real_key, np.arange(self.n)))
        if dist.dim == 1:
            w1 = wasserstein_1d(fake[:, 0], real[:, 0])
            return dict(wasserstein_1=w1, ks_statistic=ks_statistic(fake[:, 0], real[:, 0]),
                        data_std=dist.std, w1_over_std=w1 / dist.std,
                        generated_mean=float(fake.mean()), generated_std=float(fake.std()))
        return mode_statistics(fake, dist.centres, float(dist.stds[0]))


def evaluate(spec, g_variables, data, config, **kwargs) -> dict:
    """One evaluation (builds an Evaluator; keep the Evaluator to evaluate repeatedly)."""
    return Evaluator(spec, data, config, **kwargs)(g_variables)
