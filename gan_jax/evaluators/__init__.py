"""Evaluation plug-ins: each family names the ones that measure it (`GANSpec.evaluators`).

A plug-in is a callable `plugin(fake, cond) -> iterable of (name, value)`: `fake` are the n
generated samples of one evaluation (numpy, [n, *example_shape], drawn once with fixed keys and
shared by every plug-in), `cond` the labels they were generated for (conditional families) or
None. Plug-ins are built once per run with the run's `EvalContext` (config, options, the data,
loaded only when a plug-in asks, and feature networks shared between plug-ins), so periodic
evaluations neither recompile nor reload. `known` lists the metric names (`--metrics`) a
plug-in answers to.

A family's `evaluators(context)` returns an `EvalPlan`: the plug-ins, and `conditions(n)`, the
labels to sample with (e.g. the test split's labels for a conditional family).
"""
import functools
from typing import Any, Callable, List, NamedTuple, Optional, Sequence, Union

import numpy as np

from gan_jax.errors import GanJaxError
from gan_jax.pixels import to_model_range

FEATURES = ("mnist", "inception")


class EvalOptions(NamedTuple):
    metrics: Union[str, Sequence[str]] = "auto"   # 'auto' or names
    features: str = "auto"                        # 'auto' | 'mnist' | 'inception'
    inception_weights: Optional[str] = None
    baseline: bool = False                        # also score the held-out real split


class EvalPlan(NamedTuple):
    plugins: List[Any]
    conditions: Optional[Callable[[int], np.ndarray]] = None   # n -> labels [n]
    sample_batch: Optional[int] = None    # generator batch; None: 500, 0: all n in one call


def requested(options: EvalOptions):
    """None for 'auto', else the tuple of requested metric names."""
    m = options.metrics
    if isinstance(m, str) and m == "auto":
        return None
    names = [v.strip() for v in (m.split(",") if isinstance(m, str) else m)]
    names = tuple(v for v in names if v)
    if not names:
        raise GanJaxError(f"no metric named in {m!r}; e.g. --metrics fid,kid")
    return names


def make_extractor(name: str, inception_weights: Optional[str] = None):
    """The feature network `name` ('mnist' | 'inception'), as a Features-returning callable."""
    if name == "mnist":
        from gan_jax.metrics.features.lenet import MnistExtractor
        return MnistExtractor()
    if name == "inception":
        from gan_jax.metrics.features.inception_extractor import InceptionExtractor
        return InceptionExtractor(inception_weights or None)
    raise GanJaxError(f"unknown features {name!r}; valid: {FEATURES}")


class EvalContext:
    """What plug-ins may use. `data` is the training stream when the caller has it (the trainer),
    else None and the splits are read on first use."""

    def __init__(self, config, data=None, options: EvalOptions = EvalOptions()):
        self.config, self.data, self.options = config, data, options
        self._extractors = {}
        self._train_features = {}
        self._train_statistics = {}
        self._current = {}      # (network, id(images)) -> (images, features), per evaluation
        self.g_variables = None  # the generator under evaluation, for plug-ins that run it

    @property
    def seed(self) -> int:
        return int(self.config.seed)

    def extractor(self, name: str):
        """The feature network `name`, built once and shared."""
        if name not in self._extractors:
            self._extractors[name] = make_extractor(name, self.options.inception_weights)
        return self._extractors[name]

    def extractors(self):
        return dict(self._extractors)

    @functools.cached_property
    def train_split(self):
        """(uint8 images, labels or None) of the training split."""
        if self.data is not None and getattr(self.data, "images", None) is not None:
            return self.data.images, self.data.labels
        from gan_jax.registry import load_split
        return load_split(self.config, "train")

    @functools.cached_property
    def test_split(self):
        """(uint8 images, labels or None) of the held-out test split."""
        from gan_jax.registry import load_split
        return load_split(self.config, "test")

    @functools.cached_property
    def test_images(self):
        """The held-out test images in [-1, 1] (one array for every plug-in, so their features
        are computed once per evaluation)."""
        return to_model_range(self.test_split[0])

    def train_features(self, name: str):
        """The feature network `name`'s features of the training images (computed once)."""
        if name not in self._train_features:
            self._train_features[name] = self.extractor(name)(to_model_range(self.train_split[0]))
        return self._train_features[name]

    def train_statistics(self, name: str):
        """(mu, sigma) of `train_features(name)` (computed once)."""
        if name not in self._train_statistics:
            from gan_jax.metrics.frechet import gaussian_statistics
            self._train_statistics[name] = gaussian_statistics(self.train_features(name).features)
        return self._train_statistics[name]

    def features_of(self, name: str, images):
        """The feature network `name` on `images`, computed once per evaluation for the same
        array (plug-ins share the samples' features and the held-out images')."""
        key = (name, id(images))
        if key not in self._current:      # the entry keeps `images` alive, so its id stays its
            self._current[key] = (images, self.extractor(name)(images))
        return self._current[key][1]

    def end_evaluation(self):
        """Drop the cached features and the generator (called after each evaluation)."""
        self._current.clear()
        self.g_variables = None
