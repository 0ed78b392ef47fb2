"""`pip install -e .` (the README's setup, through requirements.txt) makes the CLIs run from any
directory, installs the console scripts, and ships the LeNet weights as package data."""
import importlib.resources
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_pyproject_declares_scripts_and_package_data():
    import tomllib
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        project = tomllib.load(f)
    scripts = project["project"]["scripts"]
    assert scripts == {"gan-jax-train": "gan_jax.train.__main__:run",
                       "gan-jax-evaluate": "gan_jax.evaluate:run",
                       "gan-jax-sample": "gan_jax.sample:run",
                       "gan-jax-translate": "gan_jax.translate:run",
                       "gan-jax-inpaint": "gan_jax.inpaint:run"}
    assert "*.npz" in project["tool"]["setuptools"]["package-data"]["gan_jax.metrics.features"]
    with open(os.path.join(ROOT, "requirements.txt")) as f:
        assert "-e ." in [line.strip() for line in f]


def test_lenet_weights_are_package_data():
    files = importlib.resources.files("gan_jax.metrics.features")
    assert (files / "mnist_lenet.npz").is_file() and (files / "mnist_lenet.json").is_file()


def _installed():
    out = subprocess.run([sys.executable, "-c", "import gan_jax; print(gan_jax.__file__)"],
                         cwd="/", capture_output=True, text=True)
    return out.returncode == 0


@pytest.mark.skipif(not _installed(), reason="gan_jax is not pip-installed in this environment "
                                             "(pip install -e . , as requirements.txt does)")
def test_cli_and_console_script_run_from_another_directory(tmp_path):
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    args = ["--config=gan_1d", "--config.train.steps=200", "--config.train.progress=False",
            "--config.eval.num_samples=200", "--config.train.sample_every=100",
            "--config.train.ckpt_every=100"]
    out = subprocess.run([sys.executable, "-m", "gan_jax.train", f"--workdir={tmp_path}/a",
                          *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    script = os.path.join(os.path.dirname(sys.executable), "gan-jax-evaluate")
    out = subprocess.run([script, f"--workdir={tmp_path}/a", "--num_samples=300"], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout)["num_samples"] == 300
