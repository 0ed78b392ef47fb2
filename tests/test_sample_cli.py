"""A trained run back from its workdir (load_run), and the latent-space pictures of
python -m gan_jax.sample: their grid layouts, that sample i is the same image in every mode, that
the same arguments give identical files, and the errors."""
import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest
from PIL import Image

from gan_jax import latent_space, viz
from gan_jax.config import base_config
from gan_jax.errors import GanJaxError
from gan_jax.sample import seeded_latents, write_arithmetic, write_grid, write_interpolation
from gan_jax.train.loop import train
from gan_jax.train.restore import load_run
from gan_jax.config import to_json_dict as config_to_json_dict
from tests.train.helpers import tree_bytes_equal

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CELL = 28 + 2  # an MNIST image and its border in a grid


def _config(data_dir):
    c = base_config()
    c.data.name, c.data.data_dir = "mnist_offline", data_dir
    c.model.latent_dim, c.model.g_hidden, c.model.d_hidden = 8, (16,), (16,)
    t = c.train
    t.steps, t.steps_per_call, t.batch_size, t.num_devices, t.ema_decay = 40, 10, 8, 1, 0.9
    t.log_every = t.sample_every = t.ckpt_every = 10
    t.progress = False
    c.eval.num_samples = 100
    return c


@pytest.fixture(scope="module")
def trained(data_dir, tmp_path_factory):
    """(workdir, final state) of a tiny MLP GAN on the offline digits with an EMA of G and
    checkpoints at steps 10 and 20. It stops at step 20 of 40, as if interrupted, which skips the
    end-of-run evaluation."""
    workdir = str(tmp_path_factory.mktemp("latent_run"))
    state, _ = train(_config(data_dir), workdir, stop_at=20)
    return workdir, jax.device_get(state)


@pytest.fixture(scope="module")
def run(trained):
    return load_run(trained[0])


@pytest.fixture(scope="module")
def plain_run(trained):
    """The first checkpoint, with G's own variables instead of their EMA."""
    return load_run(trained[0], step=10, use_ema=False)


def _read(path):
    with Image.open(path) as img:
        return np.asarray(img)


def _cell(picture, row, col):
    return picture[2 + row * CELL: row * CELL + CELL, 2 + col * CELL: col * CELL + CELL]


def _bytes(path):
    with open(path, "rb") as f:
        return f.read()


def test_load_run_restores_the_trained_state(trained, run, plain_run):
    workdir, state = trained
    assert run.step == 20 and run.ema and tree_bytes_equal(run.state, state)
    assert tree_bytes_equal(run.g_variables, state.ema_g)
    with open(os.path.join(workdir, "config.json")) as f:
        assert config_to_json_dict(run.config) == json.load(f)
    assert run.config.model.g_hidden == (16,)  # a tuple again, as the config had it
    assert plain_run.step == 10 and not plain_run.ema
    assert tree_bytes_equal(plain_run.g_variables, plain_run.state.g)


def test_load_run_errors(trained, tmp_path):
    with pytest.raises(GanJaxError, match="does not exist; train first with python -m gan_jax"):
        load_run(str(tmp_path / "missing"))
    with pytest.raises(GanJaxError, match="no config.json"):
        load_run(str(tmp_path))
    untrained = tmp_path / "untrained"
    untrained.mkdir()
    (untrained / "config.json").write_text(open(os.path.join(trained[0], "config.json")).read())
    with pytest.raises(GanJaxError, match="no checkpoint yet; train first with python -m gan_jax"):
        load_run(str(untrained))
    assert not (untrained / "checkpoints").exists()  # nothing was created
    with pytest.raises(GanJaxError, match=r"no checkpoint at step 15; available steps: \[10, 20\]"):
        load_run(trained[0], step=15)


def test_pictures_share_the_seeded_samples(run, tmp_path):
    [grid_path] = write_grid(run, seed=0, num=16)
    assert grid_path == os.path.join(run.workdir, "latent", "grid_step20_ema_seed0.png")
    grid = _read(grid_path)
    assert grid.shape == (4 * CELL + 2, 4 * CELL + 2)  # 16 samples, 4 per row
    sample = lambda i: _cell(grid, i // 4, i % 4)

    png, gif = write_interpolation(run, seed=0, pairs=3, steps=5, method="slerp", out=str(tmp_path))
    walks = _read(png)
    assert walks.shape == (3 * CELL + 2, 5 * CELL + 2)  # one row per pair, one column per step
    for p in range(3):  # exact ends: from sample p to sample 3 + p
        np.testing.assert_array_equal(_cell(walks, p, 0), sample(p))
        np.testing.assert_array_equal(_cell(walks, p, 4), sample(3 + p))
    with Image.open(gif) as img:  # 3 pairs per frame (2 x 2), steps 0..4 then 3..1
        assert img.size == (2 * CELL + 2, 2 * CELL + 2) and img.n_frames == 8

    [arith] = write_arithmetic(run, a=[1, 2, 3], b=[4, 5], c=[6], seed=0, num=16,
                               out=str(tmp_path / "sum.png"))
    picture = _read(arith)
    assert arith == str(tmp_path / "sum.png")
    assert picture.shape == (4 * CELL + 2, 4 * CELL + 2)  # rows a, b, c, result; 3 + 1 columns
    for row, group in enumerate([[1, 2, 3], [4, 5], [6]]):
        for col, i in enumerate(group):
            np.testing.assert_array_equal(_cell(picture, row, col), sample(i))
    assert np.all(_cell(picture, 1, 2) == 0) and np.all(_cell(picture, 3, 0) == 0)  # empty
    z = latent_space.vector_arithmetic(seeded_latents(run, 0, 16), [1, 2, 3], [4, 5], [6])
    result = viz.image_grid(np.asarray(run.spec.generate(run.g_variables, z[None])))[..., 0]
    np.testing.assert_array_equal(_cell(picture, 3, 3), _cell(result, 0, 0))


def test_same_arguments_give_identical_files(run, tmp_path):
    write = lambda seed, name: write_interpolation(run, seed=seed, pairs=2, steps=4,
                                                   method="lerp", out=str(tmp_path / name))
    first, again, other = write(3, "1"), write(3, "2"), write(4, "3")
    assert [_bytes(p) for p in first] == [_bytes(p) for p in again]
    assert _bytes(first[0]) != _bytes(other[0])


def _cli(workdir, *args):
    cmd = [sys.executable, "-m", "gan_jax.sample", f"--workdir={workdir}", *args]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_cli_writes_the_same_files_as_the_module(plain_run, tmp_path):
    out = _cli(plain_run.workdir, "--mode=interpolate", "--pairs=2", "--steps=4", "--method=lerp",
               "--seed=3", "--step=10", "--no_ema", f"--out={tmp_path / 'cli'}")
    assert out.returncode == 0, out.stderr[-2000:]
    paths = out.stdout.split()
    assert paths == [str(tmp_path / "cli" / "interpolate_lerp_step10_seed3.png"),
                     str(tmp_path / "cli" / "interpolate_lerp_step10_seed3.gif")]
    expected = write_interpolation(plain_run, seed=3, pairs=2, steps=4, method="lerp",
                                   out=str(tmp_path / "module"))
    assert [_bytes(p) for p in paths] == [_bytes(p) for p in expected]  # across processes too


def test_cli_errors(run, tmp_path):
    out = _cli(run.workdir, "--mode=arithmetic", "--a=1,2", "--b=3", "--c=64")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "error: --c [64] out of range: the sample indices must be in 0..63" in out.stderr
    (tmp_path / "config.json").write_text(open(os.path.join(run.workdir, "config.json")).read())
    out = _cli(str(tmp_path))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "has no checkpoint yet; train first with python -m gan_jax.train" in out.stderr
    with pytest.raises(GanJaxError, match="--b is empty"):
        write_arithmetic(run, a=[1], b=[], c=[2])
