"""Tables of examples read by item number: in memory, or streamed from the prepared files.

A stream (`gan_jax.data.stream`) decides which items a batch holds; a table hands them over:
`len(table)`, `table.shapes` ({field: example shape}), `table.dtypes` and `table.take(items)`
({field: array [len(items), ...]}).

- `ArrayTable(arrays)`: numpy arrays in memory (the default; fastest for sets that fit).
- `RecordTable(source, fields)`: a tfds data source over the prepared ArrayRecord files, read by
  random access (`data.streaming=True`). Only the requested records are read and decoded, so
  memory stays flat however large the set is, and each process of a multi-process run reads
  only its own rows of the global batch. Images of any stored size are centre-cropped and
  resized to `image_size` as they are read, like `load_images` does.

`gan_jax.data.images.open_images(name, split, data_dir, image_size)` is the RecordTable of a
catalog image set; `load_images` there reads the same table whole.
"""
from typing import Dict, Mapping, Optional

import numpy as np

from gan_jax.data.resize import crop_and_resize
from gan_jax.errors import GanJaxError


class ArrayTable:
    """Equal-length numpy arrays held in memory: `take(items)` is `arrays[field][items]`."""

    def __init__(self, arrays: Mapping[str, np.ndarray]):
        lengths = {k: len(v) for k, v in arrays.items()}
        if len(set(lengths.values())) != 1:
            raise GanJaxError(f"the arrays of one stream must have equal lengths, got {lengths}")
        self.arrays = dict(arrays)
        self.size = next(iter(lengths.values()))
        self.shapes = {k: tuple(v.shape[1:]) for k, v in self.arrays.items()}
        self.dtypes = {k: v.dtype for k, v in self.arrays.items()}

    def __len__(self) -> int:
        return self.size

    def take(self, items: np.ndarray) -> Dict[str, np.ndarray]:
        return {k: v[items] for k, v in self.arrays.items()}


class RecordTable:
    """Records of a tfds data source read by item number, decoded into arrays.

    `fields` maps each output field to its feature in the records ({'x': 'image', 'label':
    'label'}); image fields (`image_fields`) come out uint8 [H, W, C] (a 2-D image gets its
    channel axis), resized to `image_size` when set; the others int32. `reads` counts the records
    read, for the tests and the benchmark."""

    def __init__(self, source, fields: Mapping[str, str], image_fields=("x",),
                 image_size: Optional[int] = None, name: str = "records"):
        self.source, self.fields, self.name = source, dict(fields), name
        self.image_fields = tuple(image_fields)
        self.image_size = image_size or None
        self.size = len(source)
        if self.size == 0:
            raise GanJaxError(f"{name}: the requested split is empty; choose a larger split")
        first = self._read(np.zeros(1, np.int64))
        self.reads = 0
        self.shapes = {k: tuple(v.shape[1:]) for k, v in first.items()}
        self.dtypes = {k: v.dtype for k, v in first.items()}

    def __len__(self) -> int:
        return self.size

    def take(self, items: np.ndarray) -> Dict[str, np.ndarray]:
        """{field: array [len(items), ...]} of the records `items`, in that order."""
        items = np.asarray(items, np.int64).reshape(-1)
        if len(items) and (items.min() < 0 or items.max() >= self.size):
            raise GanJaxError(f"{self.name}: items {items.min()}..{items.max()} are outside "
                              f"the {self.size} records")
        self.reads += len(items)
        return self._read(items)

    def _read(self, items: np.ndarray) -> Dict[str, np.ndarray]:
        try:
            records = self.source.__getitems__([int(i) for i in items])
        except ImportError as err:     # PNG-encoded sets decode with Pillow
            raise GanJaxError(f"decoding {self.name} images needs Pillow: `pip install "
                              f"pillow` ({err})") from None
        out = {}
        for field, feature in self.fields.items():
            if field in self.image_fields:
                images = np.stack([np.asarray(r[feature]) for r in records]) if records else \
                    np.zeros((0,) + self.shapes[field], np.uint8)
                if images.ndim == 3:
                    images = images[..., None]
                if self.image_size and records:
                    images = crop_and_resize(images, self.image_size)
                out[field] = images.astype(np.uint8, copy=False)
            else:
                out[field] = np.asarray([r[feature] for r in records], np.int32)
        return out


def image_table(source, image_size: Optional[int] = None, name: str = "records") -> RecordTable:
    """The RecordTable {'x': 'image', 'label': 'label' (where the records have labels)} of a
    source of image records."""
    if len(source) == 0:
        raise GanJaxError(f"{name}: the requested split is empty; choose a larger split or slice")
    fields = {"x": "image"}
    if "label" in source.__getitems__([0])[0]:
        fields["label"] = "label"
    return RecordTable(source, fields, ("x",), image_size, name=name)
