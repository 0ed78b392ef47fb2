"""Runs written before the family registry restore, evaluate, sample and resume: their
config.json lacks the new keys (read as defaults) and says loss.g_loss (migrated to loss.name),
their checkpoints lack TrainState.extra. And restore reads no data set: the template comes from
the config and the data's description."""
import json
import os

import jax
import numpy as np
import pytest

from gan_jax import config as config_module
from gan_jax.evaluate import evaluate_workdir
from gan_jax.train.checkpoint import Checkpointer
from gan_jax.train.loop import train
from gan_jax.train.restore import load_config, load_run
from tests.train.helpers import toy_config, tree_bytes_equal

NEW_KEYS = {"gan": None, "conditional": None, "progressive": None, "data": ("augment",),
            "model": ("d_norm", "spectral_norm"), "train": ("tensorboard", "ema_rampup"),
            "loss": ("gp_weight", "r1_gamma", "r2_gamma", "weight_clip", "drift")}
NEW_OPTIM_KEYS = ("rho", "schedule", "warmup_steps", "decay_start", "final_lr_scale")


def _as_old_workdir(workdir):
    """Rewrite a workdir as the previous gan_jax wrote it: config.json without the keys added
    since (and loss.g_loss for loss.name), checkpoints without the `extra` field."""
    path = os.path.join(workdir, "config.json")
    with open(path) as f:
        tree = json.load(f)
    for section, keys in NEW_KEYS.items():
        if keys is None:
            tree.pop(section, None)
        else:
            for k in keys:
                tree[section].pop(k)
    for player in ("g", "d"):
        for k in NEW_OPTIM_KEYS:
            tree["optim"][player].pop(k)
    tree["loss"]["g_loss"] = {"minimax": "saturating"}.get(tree["loss"].pop("name"),
                                                           "non_saturating")
    with open(path, "w") as f:
        json.dump(tree, f)
    directory = os.path.join(workdir, "checkpoints")
    for step in sorted(os.listdir(directory)):
        state = load_run(workdir, step=int(step)).state
        with open(os.path.join(directory, step, "data", "metadata")) as f:
            position = json.load(f)["position"]
        import shutil
        shutil.rmtree(os.path.join(directory, step))
        fields = {k: getattr(state, k) for k in ("step", "g", "d", "g_opt", "d_opt", "key",
                                                 "ema_g")}
        ckpt = Checkpointer(directory)
        ckpt.save(int(step), fields, position)
        ckpt.wait()
        ckpt.close()


def _config():
    c = toy_config(steps=40, steps_per_call=10, name="ring")
    c.loss.name = "minimax"
    c.eval.num_samples = 200
    return c


@pytest.fixture(scope="module")
def old_run(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("old"))
    cfg = _config()
    cfg.train.steps = 20
    state, _ = train(cfg, workdir)
    _as_old_workdir(workdir)
    return workdir, jax.device_get(state)


def test_old_config_reads_with_defaults_and_migrated_loss(old_run):
    workdir, _ = old_run
    with open(os.path.join(workdir, "config.json")) as f:
        raw = json.load(f)
    assert "gan" not in raw and raw["loss"] == {"g_loss": "saturating"}
    config = load_config(workdir)
    assert config.gan.family == "vanilla" and config.loss.name == "minimax"
    assert config.optim.g.schedule == "constant" and config.model.spectral_norm is False


def test_old_checkpoint_restores_and_evaluates(old_run):
    workdir, state = old_run
    run = load_run(workdir)
    assert run.state.extra is None and run.step == 20
    assert tree_bytes_equal(run.state.g, state.g) and tree_bytes_equal(run.state.key, state.key)
    result = evaluate_workdir(workdir, num_samples=200, out=os.path.join(workdir, "x.json"))
    assert result["step"] == 20 and result["num_modes"] == 8


def test_old_run_resumes_bit_identical(old_run, tmp_path):
    import shutil
    workdir = str(tmp_path / "old")
    shutil.copytree(old_run[0], workdir)
    resumed, _ = train(_config(), workdir)           # the same run, continued to step 40
    full, _ = train(_config(), str(tmp_path / "full"))
    assert tree_bytes_equal(jax.device_get(resumed), jax.device_get(full))


def test_restore_reads_no_data(data_dir, tmp_path, monkeypatch):
    """load_run and python -m gan_jax.sample need only config.json and the checkpoint."""
    c = config_module.base_config()
    c.data.name = "mnist_offline"
    c.model.latent_dim, c.model.g_hidden, c.model.d_hidden = 4, (8,), (8,)
    t = c.train
    t.steps, t.batch_size, t.steps_per_call, t.num_devices = 2, 8, 1, 1
    t.log_every = t.sample_every = t.ckpt_every = 1
    t.progress, t.tensorboard = False, False
    train(c, str(tmp_path), stop_at=2)

    def no_data(*args, **kwargs):
        raise AssertionError("restore read the data set")
    monkeypatch.setattr("gan_jax.data.images.load_images", no_data)
    run = load_run(str(tmp_path))
    assert run.data.example_shape == (28, 28, 1)
    from gan_jax.sample import write_grid
    (path,) = write_grid(run, num=4, out=str(tmp_path / "grid.png"))
    assert os.path.isfile(path)
    assert np.isfinite(jax.device_get(run.g_variables["params"]["Dense_0"]["kernel"])).all()
