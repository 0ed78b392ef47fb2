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
REFERENCE_SEED = 20_251_207   # the eval.max_real subset's permutation: [REFERENCE_SEED, seed]
STREAM_CHUNK = 8              # a streamed split is read this many extractor batches at a time
LABEL_CHUNK = 4096            # ... and its labels alone, this many records at a time


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
        """(uint8 images, labels or None) of the whole training split, in memory. The reference
        metrics read `train_features` / `train_labels` / `train_images_at` instead, which a
        streamed run answers from the prepared files without holding the split."""
        if self.data is not None and getattr(self.data, "images", None) is not None:
            return self.data.images, self.data.labels
        from gan_jax.registry import load_split
        return load_split(self.config, "train")

    @functools.cached_property
    def train_table(self):
        """The training split's record table when the run streams its data (`data.streaming`:
        the trainer's stream, or opened here for `gan_jax.evaluate`), else None."""
        if self.data is not None:
            return getattr(self.data, "table", None) if getattr(self.data, "images", 0) is None \
                else None
        if self.config.data.get("streaming", False):
            from gan_jax.registry import open_train_table
            return open_train_table(self.config)
        return None

    @property
    def train_size(self) -> int:
        table = self.train_table
        return len(table) if table is not None else len(self.train_split[0])

    @functools.cached_property
    def reference_items(self):
        """The training images the real-set metrics compare with: None for all of them (the
        default), or with `eval.max_real` = m > 0 the sorted first m of a permutation seeded by
        the run's seed (StyleGAN2-ADA's `max_real`: bounded memory and time on large sets)."""
        m = int(self.config.eval.get("max_real", 0) or 0)
        if m <= 0:
            return None
        n = self.train_size
        if m >= n:
            return None
        return np.sort(np.random.default_rng([REFERENCE_SEED, self.seed]).permutation(n)[:m])

    def real_subset_size(self):
        """M when the metrics compared with an `eval.max_real` subset of M images, else None
        (all of the split, or no real set used: the subset is only drawn when asked for)."""
        items = self.__dict__.get("reference_items")
        return None if items is None else len(items)

    def train_images_at(self, items) -> np.ndarray:
        """uint8 training images of the given item numbers (read from the files when streamed)."""
        items = np.asarray(items, np.int64)
        if self.train_table is not None:
            return self.train_table.take(items)["x"]
        return self.train_split[0][items]

    @functools.cached_property
    def train_labels(self):
        """The labels of the reference images (`reference_items`), or None for unlabelled sets."""
        if self.train_table is None:
            labels = self.train_split[1]
            return labels if labels is None or self.reference_items is None \
                else labels[self.reference_items]
        if "label" not in self.train_table.shapes:
            return None
        return np.concatenate([self.train_table.take(chunk)["label"]
                               for chunk in self._reference_chunks(LABEL_CHUNK)])

    def _reference_chunks(self, size: int):
        items = self.reference_items
        if items is None:
            items = np.arange(self.train_size)
        return [items[i:i + size] for i in range(0, len(items), size)]

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
        """The feature network `name`'s features of the reference training images (computed
        once): all of them, or `eval.max_real` of them. A streamed run reads them from the files
        in chunks of whole extractor batches, so the features equal the in-memory ones bit for
        bit and the images are never all held."""
        if name not in self._train_features:
            extractor = self.extractor(name)
            items = self.reference_items
            if self.train_table is None:
                images = self.train_split[0] if items is None else self.train_split[0][items]
                self._train_features[name] = extractor(to_model_range(images))
            else:
                self._train_features[name] = self._stream_features(extractor)
        return self._train_features[name]

    def _stream_features(self, extractor):
        size = STREAM_CHUNK * getattr(extractor, "batch_size", 1)
        parts, labels = [], []
        for chunk in self._reference_chunks(size):
            records = self.train_table.take(chunk)
            parts.append(extractor(to_model_range(records["x"])))
            labels.append(records.get("label"))
        if "train_labels" not in self.__dict__:     # read on the way: no second pass for them
            self.__dict__["train_labels"] = None if labels[0] is None else np.concatenate(labels)
        return type(parts[0])(*(np.concatenate(field) for field in zip(*parts)))

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
