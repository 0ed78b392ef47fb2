"""Bad input gets one clear error (GanJaxError) naming the problem, and nothing is lost."""
import os
import subprocess
import sys

import numpy as np
import pytest

from gan_jax.errors import GanJaxError, NonFiniteLossError
from gan_jax.config import available_configs, resolve_config_arg
from gan_jax.train.loop import train
from tests.train.helpers import file_digests, toy_config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _config(steps=100):
    cfg = toy_config(steps=steps, steps_per_call=50)
    cfg.train.ckpt_every = 100
    cfg.train.sample_every = 100
    return cfg


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A workdir with a checkpoint at step 100."""
    workdir = str(tmp_path_factory.mktemp("run"))
    train(_config(), workdir)
    return workdir


def _copy(src, tmp_path):
    import shutil
    dst = str(tmp_path / "copy")
    shutil.copytree(src, dst)
    return dst


def test_nan_loss_stops_and_keeps_last_checkpoint(finished_run, tmp_path):
    workdir = _copy(finished_run, tmp_path)
    before = file_digests(os.path.join(workdir, "checkpoints"))
    cfg = _config(steps=200)
    cfg.optim.d.lr = 1e30  # diverges at once
    with pytest.raises(NonFiniteLossError, match=r"non-finite loss at step 10[12]") as info:
        train(cfg, workdir, overwrite=True)
    assert info.value.step in (101, 102)
    assert file_digests(os.path.join(workdir, "checkpoints")) == before  # untouched, nothing added


def test_corrupt_checkpoint_is_reported_not_overwritten(finished_run, tmp_path):
    workdir = _copy(finished_run, tmp_path)
    state_dir = os.path.join(workdir, "checkpoints", "100", "state")
    for root, _, files in os.walk(state_dir):
        for f in files:
            with open(os.path.join(root, f), "wb") as fh:
                fh.write(b"garbage")
    before = file_digests(workdir)
    with pytest.raises(GanJaxError, match="corrupt"):
        train(_config(steps=200), workdir)
    after = file_digests(workdir)
    assert {k: v for k, v in after.items() if "checkpoints" in k} == \
        {k: v for k, v in before.items() if "checkpoints" in k}


def test_unreadable_checkpoint_directory_is_reported(tmp_path):
    workdir = str(tmp_path)
    os.makedirs(os.path.join(workdir, "checkpoints", "not_a_checkpoint"))
    with pytest.raises(GanJaxError, match="no complete checkpoint"):
        train(_config(), workdir)
    assert os.path.isdir(os.path.join(workdir, "checkpoints", "not_a_checkpoint"))


def test_incompatible_checkpoint_is_reported(finished_run, tmp_path):
    workdir = _copy(finished_run, tmp_path)
    cfg = _config(steps=200)
    cfg.model.d_hidden = (8, 8)
    before = file_digests(os.path.join(workdir, "checkpoints"))
    with pytest.raises(GanJaxError, match=r"does not match this config's model: first difference "
                       r"at 'd/params/Dense_0/bias' \(checkpoint \(\(16,\), dtype\('float32'\)\), "
                       r"config \(\(8,\)"):
        train(cfg, workdir, overwrite=True)
    assert file_digests(os.path.join(workdir, "checkpoints")) == before


def test_different_config_in_workdir_is_refused(finished_run, tmp_path):
    workdir = _copy(finished_run, tmp_path)
    cfg = _config(steps=100)
    cfg.optim.g.b1 = 0.9
    with pytest.raises(GanJaxError, match=r"different config \(optim.g.b1: 0.5 -> 0.9\).*--overwrite"):
        train(cfg, workdir)


def test_unknown_experiment_lists_valid_ones():
    with pytest.raises(GanJaxError, match="unknown experiment config 'gan_1dd'.*gan_1d"):
        resolve_config_arg(["prog", "--config=gan_1dd", "--workdir=x"])
    assert {"gan_1d", "gan_2d_ring", "gan_2d_grid", "mlp_mnist"} <= set(available_configs())
    argv = resolve_config_arg(["prog", "--config", "gan_1d", "--workdir=x"])
    assert argv[2].endswith(os.path.join("experiments", "configs", "gan_1d.py"))


@pytest.mark.parametrize("key,value,message", [
    ("data.name", "mnistt", r"data.name='mnistt': must be one of \[.*'mnist_offline'.*\] \(did "
                            r"you mean 'mnist'\?\)"),
    ("loss.name", "minmax", r"loss.name='minmax': must be one of \[.*'minimax'"),
    ("optim.d.name", "adagrad", r"optim.d.name='adagrad': must be one of \['adam', 'sgd', "
                                r"'rmsprop'\]"),
    ("train.mapper", "vmap", r"train.mapper='vmap': must be one of \['pmap', 'shard_map'\]"),
])
def test_unknown_names_list_valid_ones(tmp_path, key, value, message):
    cfg = _config()
    section, field = key.rsplit(".", 1)
    setattr(cfg if section == "" else eval("cfg." + section), field, value)  # noqa: S307
    with pytest.raises(GanJaxError, match=message):
        train(cfg, str(tmp_path))


def test_interval_not_multiple_of_steps_per_call(tmp_path):
    cfg = _config()
    cfg.train.log_every = 30
    with pytest.raises(GanJaxError, match="train.log_every=30: must be a positive multiple"):
        train(cfg, str(tmp_path))


def test_wrong_images_are_named():
    from gan_jax.data.stream import ImageStream
    with pytest.raises(GanJaxError, match="uint8 array"):
        ImageStream(np.zeros((10, 28, 28, 1), np.float32))
    with pytest.raises(GanJaxError, match=r"\[N, H, W, C\]"):
        ImageStream(np.zeros((10, 28, 28), np.uint8))


def test_cli_typo_in_config_key_is_named(tmp_path):
    """config_flags with lock_config: a mistyped override fails before anything runs."""
    out = subprocess.run(
        [sys.executable, "-m", "gan_jax.train", "--config=gan_1d", f"--workdir={tmp_path}/w",
         "--config.train.stepz=10"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert "unknown config key 'train.stepz'" in out.stderr
    assert "Did you mean 'train.steps'?" in out.stderr and "'batch_size'" in out.stderr
    assert "Traceback" not in out.stderr
    assert not os.path.exists(tmp_path / "w")


def test_unknown_config_section_lists_valid_keys():
    from gan_jax.config import check_override_keys
    with pytest.raises(GanJaxError, match=r"unknown config key 'loss.nmae'.*'gp_weight'.*"
                       r"Did you mean 'loss.name'\?"):
        check_override_keys(["prog", "--config=experiments/configs/gan_1d.py",
                             "--config.loss.nmae=minimax"])
    check_override_keys(["prog", "--config", "experiments/configs/gan_1d.py",
                         "--config.loss.name=minimax", "--config.train.steps=5"])


def test_renamed_config_key_names_its_new_name():
    from gan_jax.config import check_override_keys
    with pytest.raises(GanJaxError, match=r"'loss.g_loss' was renamed 'loss.name' \(saturating "
                                          r"is now minimax"):
        check_override_keys(["prog", "--config=experiments/configs/gan_2d_ring.py",
                             "--config.loss.g_loss=saturating"])
