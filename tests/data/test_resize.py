"""Centre crop and resize: Pillow's antialiased bilinear as the reference, shapes, errors."""
import numpy as np
import PIL.Image
import pytest
import scipy.ndimage

from gan_jax.data import images as im
from gan_jax.data.resize import center_crop_square, crop_and_resize
from gan_jax.errors import GanJaxError


def _smooth_images(n, h, w, c, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n, h, w, c)).astype(np.float64)
    return scipy.ndimage.gaussian_filter(x, (0, 2, 2, 0)).round().astype(np.uint8)


def _pillow(images, size):
    out = []
    for a in images:
        img = PIL.Image.fromarray(a[..., 0] if a.shape[-1] == 1 else a)
        out.append(np.asarray(img.resize((size, size), PIL.Image.BILINEAR)))
    out = np.stack(out)
    return out[..., None] if out.ndim == 3 else out


@pytest.mark.parametrize("shape,size", [((3, 178, 178, 3), 64), ((4, 28, 28, 1), 32),
                                        ((2, 64, 64, 3), 32)])
def test_resize_matches_pillow_bilinear(shape, size):
    x = _smooth_images(*shape)
    got = crop_and_resize(x, size)
    want = _pillow(x, size)
    assert got.shape == want.shape and got.dtype == np.uint8
    diff = np.abs(got.astype(int) - want.astype(int))
    assert diff.max() <= 1 and diff.mean() < 0.3


def test_center_crop_takes_the_middle_square():
    x = np.arange(2 * 218 * 178 * 1, dtype=np.int64).reshape(2, 218, 178, 1)
    crop = center_crop_square(x)
    assert crop.shape == (2, 178, 178, 1)
    np.testing.assert_array_equal(crop, x[:, 20:198])
    wide = x.transpose(0, 2, 1, 3)                  # 178 x 218: crop columns
    np.testing.assert_array_equal(center_crop_square(wide), wide[:, :, 20:198])


def test_celeba_shape_is_cropped_then_resized():
    x = _smooth_images(2, 218, 178, 3)
    got = crop_and_resize(x, 64)
    np.testing.assert_array_equal(got, crop_and_resize(x[:, 20:198], 64))
    assert got.shape == (2, 64, 64, 3)


def test_same_side_is_only_cropped():
    x = _smooth_images(2, 30, 28, 1)
    np.testing.assert_array_equal(crop_and_resize(x, 28), x[:, 1:29])


def test_chunks_do_not_change_the_result():
    x = _smooth_images(5, 40, 40, 3)
    np.testing.assert_array_equal(crop_and_resize(x, 16, chunk=2), crop_and_resize(x, 16))


def test_bad_input_is_named():
    with pytest.raises(GanJaxError, match="uint8"):
        crop_and_resize(np.zeros((2, 8, 8, 1), np.float32), 4)
    with pytest.raises(GanJaxError, match="image_size"):
        crop_and_resize(np.zeros((2, 8, 8, 1), np.uint8), 0)


class _Source(list):
    """A stand-in tfds data source: a list of records with batch reads."""

    def __getitems__(self, indices):
        return [self[i] for i in indices]


def test_read_all_resizes_while_reading_and_allows_no_labels(monkeypatch):
    x = _smooth_images(5, 36, 30, 3)
    source = _Source({"image": a} for a in x)        # no 'label' (as CelebA)
    monkeypatch.setattr(im, "_READ_CHUNK", 2)
    images, labels = im._read_all(source, image_size=16)
    assert labels is None
    np.testing.assert_array_equal(images, crop_and_resize(x, 16))
    images, labels = im._read_all(_Source({"image": a, "label": i} for i, a in enumerate(x)))
    np.testing.assert_array_equal(images, x)
    np.testing.assert_array_equal(labels, np.arange(5))
