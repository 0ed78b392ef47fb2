"""From a config to data: the training stream, a split's arrays, an example batch's shapes.

The data half of `gan_jax.registry` (the trainer and the tools never import data modules
directly). `data_info` needs nothing on disk; `make_stream`, `load_split` (images) and `load_pairs` (paired
data) read the data set (preparing the offline ones on first use, never downloading);
`load_unpaired` the two domains of unpaired data.
"""
from typing import Optional, Tuple

import jax.numpy as jnp
import numpy as np

from gan_jax.data.augment import get_augment
from gan_jax.data.catalog import (PAIRED_DATASETS, TOY_DATASETS, UNPAIRED_DATASETS, DataInfo,
                                  data_info)
from gan_jax.data.paired import load_pairs
from gan_jax.data.stream import ImageStream, PairedStream, ToyStream, UnpairedStream
from gan_jax.data.unpaired import load_unpaired
from gan_jax.errors import GanJaxError

__all__ = ["data_info", "make_stream", "load_split", "load_pairs", "load_unpaired",
           "example_batch", "open_train_table"]


def make_stream(config):
    """The training stream of config.data (toy distributions, or the train split's images)."""
    info = data_info(config)
    if config.data.name in TOY_DATASETS:
        if config.data.augment != "none":
            raise GanJaxError("data.augment applies to images; the toy data sets take 'none'")
        return ToyStream(info.distribution, seed=config.seed)
    if config.data.name in PAIRED_DATASETS:
        pairs = load_pairs(config, "train")
        return PairedStream(pairs["a"], pairs["b"], seed=config.seed, name=info.name,
                            augment=get_augment(config.data.augment))
    if config.data.name in UNPAIRED_DATASETS:
        sets = load_unpaired(config, "train")
        return UnpairedStream(sets["a"], sets["b"], seed=config.seed, name=info.name,
                              augment=get_augment(config.data.augment))
    if config.data.streaming:
        stream = ImageStream.from_records(open_train_table(config), seed=config.seed,
                                          name=info.name,
                                          augment=get_augment(config.data.augment),
                                          num_classes=info.num_classes)
        if config.data.read_workers:
            from gan_jax.data.prefetch import Prefetched
            return Prefetched(stream, config.data.read_workers)
        return stream
    images, labels = load_split(config, "train")
    return ImageStream(images, labels, seed=config.seed, augment=get_augment(config.data.augment),
                       name=info.name, num_classes=info.num_classes)


def open_train_table(config):
    """The streamed table (`gan_jax.data.records.RecordTable`) of an image set's train split:
    read by item number from the prepared files, nothing held (`data.streaming`)."""
    from gan_jax.data.images import open_images
    return open_images(config.data.name, "train", config.data.data_dir or None,
                       config.data.image_size or None)


def load_split(config, split: str) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """(uint8 images [N, H, W, C], int32 labels [N] or None) of one split of config.data,
    cropped and resized to data.image_size where set."""
    from gan_jax.data.images import load_images
    c = config.data
    if c.name in TOY_DATASETS:
        raise GanJaxError(f"{c.name!r} is a toy distribution sampled on the fly; it has no "
                          "stored split")
    if c.name in PAIRED_DATASETS:
        raise GanJaxError(f"{c.name!r} holds image pairs: read them with load_pairs")
    if c.name in UNPAIRED_DATASETS:
        raise GanJaxError(f"{c.name!r} holds two image domains: read them with load_unpaired")
    images, labels = load_images(c.name, split, c.data_dir or None,
                                 image_size=c.image_size or None)
    if c.get("pseudo_labels", 0):       # the clusters of the training pixels replace labels
        from gan_jax.data.clusters import pseudo_labels
        key = (c.name, c.data_dir or None, c.image_size or None, int(c.pseudo_labels),
               int(config.seed))
        labels = pseudo_labels(images, _cluster_centres(key, images if split == "train" else None))
    return images, labels


_CENTRES = {}   # (name, data_dir, image_size, k, seed) -> k-means centres of the train split


def _cluster_centres(key, train_images=None):
    """The k-means centres of the train split's pixels (`data.pseudo_labels`), computed once per
    key, from `train_images` when the caller has just read them, else read here."""
    if key not in _CENTRES:
        from gan_jax.data.clusters import cluster_images
        from gan_jax.data.images import load_images
        name, data_dir, image_size, k, seed = key
        if train_images is None:
            train_images = load_images(name, "train", data_dir, image_size=image_size)[0]
        _CENTRES[key] = cluster_images(train_images, k, seed)
    return _CENTRES[key]


def example_batch(info: DataInfo, n: int = 2) -> dict:
    """A transformed batch of zeros with the shapes and dtypes of the run's batches (what
    `GANSpec.init` needs), from `info` alone: nothing is read."""
    batch = {"index": jnp.arange(n, dtype=jnp.int32), "step": jnp.zeros((), jnp.int32)}
    for field in info.fields:
        batch[field] = jnp.zeros((n,) + info.shape_of(field), jnp.float32)
    if info.num_classes:
        batch["label"] = jnp.zeros((n,), jnp.int32)
    return batch
