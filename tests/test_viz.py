"""Tests for gan_jax.viz: grid geometry and pixel values, and that every figure writes a PNG."""

import numpy as np
import pytest
from PIL import Image

from gan_jax import viz
from gan_jax.errors import GanJaxError
from gan_jax.data.toy import ring_centres


@pytest.mark.parametrize('n,nrow,h,w,c,rows,cols', [
    (16, None, 8, 8, 1, 4, 4),
    (10, None, 5, 7, 3, 3, 4),   # ceil(sqrt(10)) = 4 per row, 3 rows
    (10, 5, 6, 6, 1, 2, 5),
    (3, 8, 4, 4, 3, 1, 3),       # fewer images than nrow: one row of 3
    (1, None, 28, 28, 1, 1, 1),
])
def test_grid_shape(n, nrow, h, w, c, rows, cols):
    grid = viz.image_grid(np.zeros((n, h, w, c), np.float32), nrow=nrow)
    assert grid.dtype == np.uint8
    assert grid.shape == (rows * (h + 2) + 2, cols * (w + 2) + 2, c)


def test_grid_pixel_values_and_layout():
    images = np.stack([np.full((3, 3, 1), v, np.float32) for v in (-1.0, 1.0, 0.0, 5.0, -7.0)])
    images[4, 1, 2, 0] = 0.5
    grid = viz.image_grid(images, nrow=2)  # 3 rows x 2 cols of 3x3 cells, 2-pixel borders
    assert grid.shape == (3 * 5 + 2, 2 * 5 + 2, 1)
    cell = lambda k: grid[2 + (k // 2) * 5: 5 + (k // 2) * 5, 2 + (k % 2) * 5: 5 + (k % 2) * 5, 0]
    assert np.all(cell(0) == 0)      # -1 -> 0
    assert np.all(cell(1) == 255)    # 1 -> 255
    assert np.all(cell(2) == 128)    # 0 -> 127.5, rounded half up
    assert np.all(cell(3) == 255)    # clipped from 5
    assert cell(4)[1, 2] == 191      # 0.5 -> 191.25 -> 191
    assert np.all(np.delete(cell(4).ravel(), 5) == 0)  # clipped from -7
    # Borders (and the unused last cell) are 0.
    mask = np.zeros(grid.shape[:2], bool)
    for k in range(5):
        mask[2 + (k // 2) * 5: 5 + (k // 2) * 5, 2 + (k % 2) * 5: 5 + (k % 2) * 5] = True
    assert np.all(grid[~mask] == 0)


def test_grid_colour_channels_kept():
    images = np.zeros((2, 2, 2, 3), np.float32)
    images[..., 0] = 1.0
    grid = viz.image_grid(images)
    np.testing.assert_array_equal(grid[2, 2], [255, 128, 128])


@pytest.mark.parametrize('shape', [(4, 4, 4), (2, 4, 4, 2), (0, 4, 4, 1)])
def test_grid_rejects_bad_shapes(shape):
    with pytest.raises(GanJaxError):
        viz.image_grid(np.zeros(shape))


@pytest.mark.parametrize('c,mode', [(1, 'L'), (3, 'RGB')])
def test_save_image_grid(tmp_path, c, mode):
    images = np.random.default_rng(0).uniform(-1, 1, (7, 6, 5, c)).astype(np.float32)
    path = tmp_path / 'new' / 'dir' / 'grid.png'
    viz.save_image_grid(images, str(path), nrow=3)
    with Image.open(path) as img:
        assert img.format == 'PNG' and img.mode == mode
        assert img.size == (3 * 7 + 2, 3 * 8 + 2)  # (width, height)
        pixels = np.asarray(img)
    np.testing.assert_array_equal(pixels.reshape(viz.image_grid(images, 3).shape),
                                  viz.image_grid(images, 3))


def test_save_gif(tmp_path):
    frames = [np.full((6, 9, 1), 40 * k, np.uint8) for k in range(4)]
    frames[2][1, 1, 0] = 255
    path = viz.save_gif(frames, str(tmp_path / 'new' / 'walk.gif'), duration_ms=50)
    with Image.open(path) as img:
        assert img.format == 'GIF' and img.size == (9, 6) and img.n_frames == 4
        assert img.info['loop'] == 0 and img.info['duration'] == 50
        for k in range(4):  # gray levels come back exactly
            img.seek(k)
            np.testing.assert_array_equal(np.asarray(img.convert('L')), frames[k][..., 0])
    with pytest.raises(GanJaxError, match='uint8'):
        viz.save_gif([np.zeros((6, 9, 1), np.float32)], str(tmp_path / 'bad.gif'))


def _snapshot(step, rng, with_mapping):
    x = np.linspace(-4, 4, 200)
    z = rng.uniform(-1, 1, 500)
    gz = 1.5 * z + 0.3 * step / 100
    snap = {
        'step': step,
        'x': x,
        'data_pdf': np.exp(-0.5 * (x - 1) ** 2) / np.sqrt(2 * np.pi),
        'generator_samples': gz,
        'discriminator': 1 / (1 + np.exp(-x)),
    }
    if with_mapping:
        snap.update(z=z, gz=gz)
    return snap


def _png_size(path):
    with Image.open(path) as img:
        assert img.format == 'PNG'
        return img.size


@pytest.mark.parametrize('with_mapping', [True, False])
def test_save_density_panels(tmp_path, with_mapping):
    rng = np.random.default_rng(0)
    snaps = [_snapshot(s, rng, with_mapping) for s in (0, 100, 200)]
    path = tmp_path / 'fig1' / 'panels.png'
    viz.save_density_panels(snaps, str(path))
    assert _png_size(path) == (3 * viz.PANEL_SIZE * viz.DPI, viz.PANEL_SIZE * viz.DPI)


def test_density_panels_with_constant_generator(tmp_path):
    snap = _snapshot(0, np.random.default_rng(0), False)
    snap['generator_samples'] = np.zeros(100)  # full collapse: KDE must not divide by zero
    viz.save_density_panels([snap], str(tmp_path / 'p.png'))
    assert _png_size(tmp_path / 'p.png') == (viz.PANEL_SIZE * viz.DPI, viz.PANEL_SIZE * viz.DPI)


def test_kde_integrates_to_one():
    samples = np.random.default_rng(0).normal(size=1000)
    x = np.linspace(-8, 8, 2001)
    assert abs(np.trapezoid(viz._kde(samples, x), x) - 1.0) < 1e-3


def test_save_scatter_2d(tmp_path):
    centres = ring_centres()
    samples = centres[np.arange(400) % 8] + 0.02 * np.random.default_rng(0).normal(size=(400, 2))
    path = tmp_path / 'scatter.png'
    viz.save_scatter_2d(samples, centres, str(path), title='ring')
    size = (viz.PANEL_SIZE + 1) * viz.DPI
    assert _png_size(path) == (size, size)


def test_save_curves(tmp_path):
    rows = [{'step': s, 'd_loss': 1.4 - s * 1e-3, 'g_loss': 0.7 + s * 1e-3} for s in range(50)]
    rows.append({'step': 50, 'fid': 3.0})  # a sparse metric: rows without the keys are skipped
    path = tmp_path / 'curves' / 'loss.png'
    viz.save_curves(rows, str(path))
    assert _png_size(path) == (600, 400)
    viz.save_curves(rows, str(tmp_path / 'fid.png'), keys=('fid', 'missing'))
    assert (tmp_path / 'fid.png').exists()
