"""`python -m gan_jax.inpaint`: a trained inpainting model fills a user's image behind a user's
mask (or the run's own mask), keeps the known pixels, writes the masked | filled | original
panel, checks sizes with clear errors, and gives identical files for the same arguments."""
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from gan_jax.errors import GanJaxError
from gan_jax.inpaint import inpaint_file
from gan_jax.train.loop import train
from tests.gans.test_inpaint import short_config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, data_dir):
    path = str(tmp_path_factory.mktemp("inpaint"))
    train(short_config(2), path)
    return path


def _files(folder, image_size=(28, 28), mask_size=(28, 28)):
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, image_size, dtype=np.uint8)).save(
        os.path.join(folder, "digit.png"))
    mask = np.zeros(mask_size, np.uint8)
    mask[4:14, 6:20] = 255
    Image.fromarray(mask).save(os.path.join(folder, "mask.png"))
    return os.path.join(folder, "digit.png"), os.path.join(folder, "mask.png")


def test_fills_the_masked_pixels_only_and_is_repeatable(workdir, tmp_path):
    image, mask = _files(str(tmp_path / "in"))
    out = inpaint_file(workdir, image, str(tmp_path / "out.png"), mask,
                       panel=str(tmp_path / "panel.png"))
    filled, original = np.asarray(Image.open(out)), np.asarray(Image.open(image))
    hole = np.asarray(Image.open(mask)) >= 128
    assert filled.shape == (28, 28) and filled.dtype == np.uint8
    np.testing.assert_array_equal(filled[~hole], original[~hole])
    assert not np.array_equal(filled[hole], original[hole])
    assert np.asarray(Image.open(tmp_path / "panel.png")).shape[1] > 3 * 28   # three columns
    again = inpaint_file(workdir, image, str(tmp_path / "again.png"), mask)
    np.testing.assert_array_equal(np.asarray(Image.open(again)), filled)
    # without --mask: the run's own mask, the centre 12x12
    centre = np.asarray(Image.open(inpaint_file(workdir, image, str(tmp_path / "c.png"))))
    np.testing.assert_array_equal(centre[:8], original[:8])
    assert not np.array_equal(centre[8:20, 8:20], original[8:20, 8:20])


def test_sizes_and_masks_are_checked(workdir, tmp_path):
    image, mask = _files(str(tmp_path / "a"), image_size=(32, 30))
    with pytest.raises(GanJaxError, match="is 30x32, but the model fills 28x28 images"):
        inpaint_file(workdir, image, str(tmp_path / "out.png"), mask)
    image, mask = _files(str(tmp_path / "b"), mask_size=(20, 20))
    with pytest.raises(GanJaxError, match="is 20x20, but the image is 28x28"):
        inpaint_file(workdir, image, str(tmp_path / "out.png"), mask)
    with pytest.raises(GanJaxError, match="does not exist"):
        inpaint_file(workdir, str(tmp_path / "missing.png"), str(tmp_path / "out.png"), mask)


def test_command_line(workdir, tmp_path):
    image, mask = _files(str(tmp_path / "in"))
    out = subprocess.run([sys.executable, "-m", "gan_jax.inpaint", f"--workdir={workdir}",
                          f"--image={image}", f"--mask={mask}", f"--out={tmp_path / 'o.png'}",
                          f"--panel={tmp_path / 'p.png'}"],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == [str(tmp_path / "o.png"), str(tmp_path / "p.png")]
    bad = subprocess.run([sys.executable, "-m", "gan_jax.inpaint", f"--workdir={workdir}",
                          f"--image={image}", f"--mask={tmp_path / 'nothing.png'}",
                          f"--out={tmp_path / 'o.png'}"],
                         cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode == 2 and "error: the mask" in bad.stderr, bad.stderr[-2000:]
