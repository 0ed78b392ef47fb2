"""`python -m gan_jax.translate`: a trained Pix2Pix generator applied to a user's images, with
the size check, --resize, clear errors, and identical files for the same arguments."""
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from gan_jax.errors import GanJaxError
from gan_jax.train.loop import train
from gan_jax.translate import translate_files
from tests.gans.test_pix2pix import _config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, data_dir):
    path = str(tmp_path_factory.mktemp("p2p"))
    train(_config(), path)
    return path


def _inputs(folder, sizes):
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(0)
    for i, size in enumerate(sizes):
        Image.fromarray(rng.integers(0, 256, size + (3,), dtype=np.uint8)).save(
            os.path.join(folder, f"layout{i}.png"))
    return folder


def test_translates_a_folder_and_is_repeatable(workdir, tmp_path):
    src = _inputs(str(tmp_path / "in"), [(32, 32), (32, 32)])
    paths = translate_files(workdir, src, str(tmp_path / "out"))
    assert [os.path.basename(p) for p in paths] == ["layout0.png", "layout1.png"]
    first = [np.asarray(Image.open(p)) for p in paths]
    assert first[0].shape == (32, 32) and first[0].dtype == np.uint8    # the grey scene
    again = translate_files(workdir, src, str(tmp_path / "out2"))
    for p, a in zip(again, first):
        np.testing.assert_array_equal(np.asarray(Image.open(p)), a)


def test_sizes_are_checked_or_resized(workdir, tmp_path):
    src = _inputs(str(tmp_path / "in"), [(40, 48)])
    with pytest.raises(GanJaxError, match="48x40, but the model translates 32x32"):
        translate_files(workdir, src, str(tmp_path / "out"))
    (path,) = translate_files(workdir, src, str(tmp_path / "out"), resize=True)
    assert np.asarray(Image.open(path)).shape == (32, 32)
    with pytest.raises(GanJaxError, match="neither an image file nor a folder"):
        translate_files(workdir, str(tmp_path / "nothing"), str(tmp_path / "out"))


def test_command_line(workdir, tmp_path):
    src = _inputs(str(tmp_path / "in"), [(32, 32)])
    out = subprocess.run([sys.executable, "-m", "gan_jax.translate", f"--workdir={workdir}",
                          f"--input={src}/layout0.png", f"--out={tmp_path / 'out'}"],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("layout0.png")
    bad = subprocess.run([sys.executable, "-m", "gan_jax.translate", f"--workdir={workdir}",
                          f"--input={tmp_path / 'missing'}", f"--out={tmp_path / 'out'}"],
                         cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode == 2 and "error: --input" in bad.stderr
