"""Unpaired data for CycleGAN: the two domains of digits_mnist and grass_gravel with their shapes
and (never-trained-on) labels, the training stream's independent shuffles, the official
trainA/ trainB/ testA/ testB/ folders with their errors, and an unprepared tfds set named."""
import numpy as np
import pytest
from PIL import Image

from gan_jax import registry
from gan_jax.config import base_config
from gan_jax.errors import GanJaxError


def _config(name, **data):
    c = base_config()
    c.data.name = name
    for k, v in data.items():
        c.data[k] = v
    return c


def test_digits_mnist_domains(data_dir):
    train = registry.load_unpaired(_config("digits_mnist"), "train")
    test = registry.load_unpaired(_config("digits_mnist"), "test")
    assert train["a"].shape == (1497, 28, 28, 1) and train["b"].shape == (4500, 28, 28, 1)
    assert test["a"].shape == (300, 28, 28, 1) and test["b"].shape == (500, 28, 28, 1)
    for split in (train, test):
        assert split["a"].dtype == split["b"].dtype == np.uint8
        assert split["a_label"].dtype == split["b_label"].dtype == np.int32
        assert set(np.unique(split["a_label"])) == set(range(10))
    info = registry.data_info(_config("digits_mnist"))
    assert info.kind == "unpaired" and info.fields == ("a", "b")
    assert info.shape_of("a") == info.shape_of("b") == (28, 28, 1)
    with pytest.raises(GanJaxError, match="two image domains"):
        registry.load_split(_config("digits_mnist"), "train")


def test_the_stream_shuffles_the_domains_independently(data_dir):
    stream = registry.make_stream(_config("digits_mnist"))
    assert stream.info == registry.data_info(_config("digits_mnist"))
    batch = stream.batches(0, 1, 64)
    sets = registry.load_unpaired(_config("digits_mnist"), "train")
    # each row of the batch is some A-image and some B-image, but not A's item i with B's item i
    a_items = [int(np.flatnonzero((sets["a"] == x).all(axis=(1, 2, 3)))[0]) for x in batch["a"][0]]
    b_items = [int(np.flatnonzero((sets["b"] == x).all(axis=(1, 2, 3)))[0]) for x in batch["b"][0]]
    assert a_items != b_items and len(set(a_items)) == len(set(b_items)) == 64
    np.testing.assert_array_equal(stream.batches(32, 1, 32)["a"][0], batch["a"][0, 32:])


def test_grass_gravel_domains(data_dir):
    test = registry.load_unpaired(_config("grass_gravel"), "test")
    assert test["a"].shape == test["b"].shape == (50, 128, 128, 1)
    small = registry.load_unpaired(_config("grass_gravel", image_size=64), "test")
    assert small["a"].shape == (50, 64, 64, 1)
    assert registry.data_info(_config("grass_gravel", image_size=64)).shape_of("b") == (64, 64, 1)


def _folder(root, sizes):
    rng = np.random.default_rng(0)
    for sub, count in sizes.items():
        (root / sub).mkdir(parents=True)
        for i in range(count):
            Image.fromarray(rng.integers(0, 256, (40, 30, 3), dtype=np.uint8)).save(
                root / sub / f"{i}.png")


def test_unpaired_folder_reads_the_official_layout(tmp_path):
    _folder(tmp_path, {"trainA": 3, "trainB": 5, "testA": 2, "testB": 1})
    c = _config("unpaired_folder", path=str(tmp_path), image_size=32)
    train = registry.load_unpaired(c, "train")
    assert train["a"].shape == (3, 32, 32, 3) and train["b"].shape == (5, 32, 32, 3)
    assert registry.load_unpaired(c, "test")["b"].shape == (1, 32, 32, 3)
    assert registry.data_info(c).shape_of("a") == (32, 32, 3)


def test_unpaired_errors_name_the_problem(tmp_path, data_dir):
    with pytest.raises(GanJaxError, match="needs data.path"):
        registry.load_unpaired(_config("unpaired_folder"), "train")
    _folder(tmp_path, {"trainA": 1})
    with pytest.raises(GanJaxError, match="trainB does not exist"):
        registry.load_unpaired(_config("unpaired_folder", path=str(tmp_path)), "train")
    with pytest.raises(GanJaxError, match="unknown split"):
        registry.load_unpaired(_config("digits_mnist"), "val")
    with pytest.raises(GanJaxError, match="data.variant"):
        registry.load_unpaired(_config("cycle_gan"), "train")
    with pytest.raises(GanJaxError, match="not prepared.*never downloads"):
        registry.load_unpaired(_config("cycle_gan", variant="horse2zebra"), "train")
