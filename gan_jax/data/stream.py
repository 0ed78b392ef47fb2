"""The data stream: an infinite, seeded, exactly resumable sequence of training examples.

Example number e (0, 1, 2, ...) of a run is item `perm_epoch[e mod N]` with epoch = e // N and
`perm_epoch` a permutation drawn from (seed, epoch). A batch is a slice of consecutive examples,
so the stream's whole state is one integer, its position (examples consumed); it is saved in each
checkpoint and a resumed run reads exactly the batches the uninterrupted run would have.

Host side, a batch is a dict of arrays: `{'index': int32 [..., B], 'x': uint8 [..., B, H, W, C],
'label': int32 [..., B]}` for labelled images, `{'index', 'a', 'b'}` for paired or unpaired
images. `transform(batch, key)` runs on device inside the compiled step: uint8 -> float32 in
[-1, 1], then an optional per-example augmentation whose randomness is `fold_in(key, index)`
(like the noise z), so resume and n-device equality still hold with augmentation on.

Constructors: `ImageStream(images, labels)` (labelled or not), `PairedStream(a, b)` (example i
of A goes with example i of B: Pix2Pix), `UnpairedStream(a, b)` (A and B shuffled independently:
CycleGAN), `ToyStream(distribution)` (sampled on device from each example's index).
`ImageStream.from_records(table)` is the same stream as `ImageStream(images, labels)` read from
the prepared files by random access (`data.streaming`, `gan_jax.data.records`): nothing is held
in memory, and `batches(..., rows=...)` reads only the rows a process feeds to its devices.
"""
import functools
from typing import Callable, Dict, Mapping, Optional, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.data.catalog import DataInfo
from gan_jax.data.records import ArrayTable
from gan_jax.errors import GanJaxError

Augment = Callable[[Dict[str, jax.Array], jax.Array], Dict[str, jax.Array]]


def check_images(images, what: str = "training images") -> np.ndarray:
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim != 4:
        raise GanJaxError(
            f"{what} must be a uint8 array [N, H, W, C] in 0..255; got "
            f"{getattr(images, 'dtype', type(images))} of shape {np.shape(images)}. Convert "
            "with np.clip(np.round((x + 1) * 127.5), 0, 255).astype(np.uint8) from [-1, 1], "
            "or add a channel axis with x[..., None]")
    if len(images) == 0:
        raise GanJaxError(f"{what} are empty (shape {images.shape}); the data set has no examples")
    return images


def _examples(position: int, count: int, batch_size: int, rows=None):
    """The example numbers e [count, R] of `count` batches from `position` on, their rows
    `rows` (default: all B rows)."""
    e = position + np.arange(count * batch_size, dtype=np.int64).reshape(count, batch_size)
    return e if rows is None else e[:, np.asarray(rows)]


def _items(position: int, count: int, batch_size: int, n: int, permutation, rows=None):
    """(example numbers e [count, R], item numbers perm_{e // n}[e mod n] [count, R]) of the
    batches' rows `rows` (default: all B rows)."""
    e = _examples(position, count, batch_size, rows)
    items = np.empty_like(e)
    for epoch in np.unique(e // n):
        sel = e // n == epoch
        items[sel] = permutation(int(epoch))[e[sel] % n]
    return e, items


def _index(e):
    return (e % 2**31).astype(np.int32)


class ArrayStream:
    """Examples drawn together from a table of equal-length fields: `table.take(items)`, where
    `table` is a dict of numpy arrays (in memory) or a `gan_jax.data.records` table (e.g. read
    from the prepared files by random access).

    `image_fields` are uint8 images, converted to [-1, 1] and augmented by `transform`; the
    other fields (labels) pass through. `stream_id` separates the permutations of streams that
    share a seed (UnpairedStream)."""
    kind = "image"

    def __init__(self, arrays, seed: int = 0,
                 image_fields: Sequence[str] = ("x",), augment: Optional[Augment] = None,
                 name: str = "images", num_classes: int = 0, stream_id: Optional[int] = None):
        if isinstance(arrays, Mapping):
            self.table = ArrayTable(arrays)
            for k in image_fields:
                check_images(arrays[k], f"training images {k!r}")
        else:                   # a table of records decodes its images as uint8 [H, W, C]
            self.table = arrays
        self.seed = seed
        self.image_fields = tuple(image_fields)
        self.augment = augment
        self.stream_id = stream_id
        self.size = len(self.table)
        shapes = tuple((k, self.table.shapes[k]) for k in self.image_fields)
        distinct = len({s for _, s in shapes}) > 1
        self.info = DataInfo(name, "image" if len(shapes) == 1 else "paired", shapes[-1][1],
                             num_classes=num_classes, fields=self.image_fields,
                             field_shapes=shapes if distinct else ())

    @property
    def example_shape(self):
        return self.info.example_shape

    @functools.lru_cache(maxsize=4)
    def _permutation(self, epoch: int):
        seed = [self.seed, epoch] if self.stream_id is None else [self.seed, self.stream_id, epoch]
        return np.random.default_rng(seed).permutation(self.size)

    def batches(self, position: int, count: int, batch_size: int, rows=None) -> dict:
        """`count` consecutive batches from example `position` on, stacked: [count, B, ...];
        with `rows` (indices into B) only those rows of each batch, [count, len(rows), ...]:
        only their examples are read (a process of a multi-process run reads its own)."""
        e, items = _items(position, count, batch_size, self.size, self._permutation, rows)
        out = {"index": _index(e)}
        for k, v in self.table.take(items.reshape(-1)).items():
            out[k] = v.reshape(e.shape + v.shape[1:])
        return out

    def transform(self, batch, key=None):
        """On device: image fields uint8 -> float32 in [-1, 1], then the augmentation of each
        example with key fold_in(key, index)."""
        out = dict(batch)
        for k in self.image_fields:
            out[k] = batch[k].astype(jnp.float32) / 127.5 - 1.0
        if self.augment is not None:
            out.update(augment_examples(self.augment, {k: out[k] for k in self.image_fields},
                                        batch["index"], key))
        return out


def augment_examples(augment: Augment, images: Dict[str, jax.Array], index, key):
    """`augment(example_images, fold_in(key, index_i))` for every example i of a batch of any
    leading shape (the images' leading axes are those of `index`)."""
    if key is None:
        raise GanJaxError("this stream augments its examples and needs a key: transform(batch, key)")
    lead = index.shape
    flat = {k: v.reshape((-1,) + v.shape[len(lead):]) for k, v in images.items()}
    keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(index.reshape(-1).astype(jnp.uint32))
    out = jax.vmap(augment)(flat, keys)
    return {k: v.reshape(lead + v.shape[1:]) for k, v in out.items()}


class ImageStream(ArrayStream):
    """Labelled (or unlabelled) images: batches `{'index', 'x', 'label'}`."""

    def __init__(self, images: np.ndarray, labels=None, seed: int = 0,
                 augment: Optional[Augment] = None, name: str = "images", num_classes: int = 0):
        images = check_images(images)
        arrays = {"x": images}
        if labels is not None:
            arrays["label"] = np.asarray(labels, np.int32)
            num_classes = num_classes or int(arrays["label"].max()) + 1
        super().__init__(arrays, seed, ("x",), augment, name, num_classes)
        self.images = images
        self.labels = arrays.get("label")

    @classmethod
    def from_records(cls, table, seed: int = 0, augment: Optional[Augment] = None,
                     name: str = "images", num_classes: int = 0) -> "ImageStream":
        """The same stream (same permutations, same batches) read from a table of records
        ({'x', 'label'?}, `gan_jax.data.records`) instead of arrays in memory. `images` and
        `labels` are None: nothing is held."""
        stream = cls.__new__(cls)
        ArrayStream.__init__(stream, table, seed, ("x",), augment, name, num_classes)
        stream.images = stream.labels = None
        return stream


class PairedStream(ArrayStream):
    """Aligned pairs (example i of A belongs with example i of B): batches `{'index', 'a', 'b'}`,
    augmented together (one key per pair, e.g. the same random crop for input and target)."""

    def __init__(self, a: np.ndarray, b: np.ndarray, seed: int = 0,
                 augment: Optional[Augment] = None, name: str = "pairs"):
        super().__init__({"a": a, "b": b}, seed, ("a", "b"), augment, name)


class UnpairedStream:
    """Two unaligned sets, each shuffled by its own permutation (CycleGAN): batches
    `{'index', 'a', 'b'}` where 'a' and 'b' are unrelated examples; one position for both.
    Each set is an ArrayStream; their augmentations draw independently (keys fold_in(key, 1)
    and fold_in(key, 2))."""
    kind = "image"

    def __init__(self, a: np.ndarray, b: np.ndarray, seed: int = 0,
                 augment: Optional[Augment] = None, name: str = "unpaired"):
        self.a = ArrayStream({"a": a}, seed, ("a",), augment, name, stream_id=0)
        self.b = ArrayStream({"b": b}, seed, ("b",), augment, name, stream_id=1)
        self.augment = augment
        shapes = (("a", tuple(a.shape[1:])), ("b", tuple(b.shape[1:])))
        self.info = DataInfo(name, "unpaired", shapes[1][1], fields=("a", "b"),
                             field_shapes=shapes)

    @property
    def example_shape(self):
        return self.info.example_shape

    def batches(self, position: int, count: int, batch_size: int, rows=None) -> dict:
        a = self.a.batches(position, count, batch_size, rows)
        return {**a, "b": self.b.batches(position, count, batch_size, rows)["b"]}

    def transform(self, batch, key=None):
        out = dict(batch)
        for i, (field, stream) in enumerate((("a", self.a), ("b", self.b))):
            key_i = None if key is None else jax.random.fold_in(key, 1 + i)
            out[field] = stream.transform({"index": batch["index"], field: batch[field]},
                                          key_i)[field]
        return out


class ToyStream:
    """Examples of a toy distribution, sampled on device from each example's index with the
    data's own key (derived from the seed): `{'index'}` host side, `{'index', 'x'}` after
    `transform`."""
    kind = "toy"

    def __init__(self, distribution, seed: int = 0):
        self.distribution = distribution
        self.info = DataInfo(distribution.name, "toy", (distribution.dim,),
                             distribution=distribution)
        self._key = jax.random.fold_in(jax.random.key(seed), 0x7D47A)  # the data's own key

    @property
    def example_shape(self):
        return self.info.example_shape

    def batches(self, position: int, count: int, batch_size: int, rows=None) -> dict:
        return {"index": _index(_examples(position, count, batch_size, rows))}

    def transform(self, batch, key=None):
        del key  # the toy's examples depend on their index and the data's key only
        index = batch["index"]
        x = self.distribution.sample(self._key, index.reshape(-1))
        return {**batch, "x": x.reshape(index.shape + self.example_shape)}
