"""Checkpoints move between device counts: a run saved on 4 devices restores bit for bit, is
evaluated and resumes in a 1-device process (a multi-GPU box's run on a laptop), and a 1-device
checkpoint resumes on 4. The sharding is part of the restore target, not of the checkpoint
(`gan_jax.train.checkpoint.on_this_host`); before it, orbax refused the 4-device checkpoint with
"Topology mismatch" and the CLI called the healthy checkpoint corrupt.
"""
import json
import os
import subprocess
import sys

from gan_jax.train.checkpoint import digests
from gan_jax.train.loop import train
from gan_jax.train.restore import load_run
from tests.train.helpers import toy_config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DUMP = ("import json, sys; from gan_jax.train.restore import load_run; "
        "from gan_jax.train.checkpoint import digests; import jax; "
        "r = load_run(sys.argv[1]); print(json.dumps({'devices': jax.device_count(), "
        "'step': r.step, 'digests': digests(r.state)}))")

RESUME = ("import sys; from gan_jax.train.loop import train; "
          "from tests.train.helpers import toy_config; "
          "c = toy_config(steps={steps}, batch_size=32, num_devices={devices}); "
          "c.train.ckpt_every = c.train.log_every = c.train.sample_every = 4; "
          "c.train.num_devices = 0; train(c, sys.argv[1], overwrite={overwrite})")


def _in_process_with(devices: int, *args):
    """Run python with `devices` CPU devices (the conftest's 4 replaced), in the repository."""
    env = {**os.environ, "JAX_PLATFORMS": "cpu",
           "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}"}
    out = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def test_four_device_checkpoint_restores_evaluates_and_resumes_on_one(tmp_path, data_dir):
    config = toy_config(steps=8, batch_size=32, num_devices=4)
    config.train.ckpt_every = config.train.log_every = config.train.sample_every = 4
    workdir = str(tmp_path / "run")
    train(config, workdir)
    saved = digests(load_run(workdir).state)

    got = json.loads(_in_process_with(1, "-c", DUMP, workdir).strip().splitlines()[-1])
    assert got["devices"] == 1 and got["step"] == 8
    assert got["digests"] == saved                          # bit for bit

    _in_process_with(1, "-m", "gan_jax.evaluate", f"--workdir={workdir}")
    assert os.path.exists(os.path.join(workdir, "eval.json"))
    # Resume on 1 device to step 12: it continues from the 4-device state (train.num_devices
    # 4 -> 0 is a config change, which a resume accepts with overwrite / --overwrite).
    _in_process_with(1, "-c", RESUME.format(devices=4, steps=12, overwrite=True), workdir)
    assert load_run(workdir).step == 12


def test_one_device_checkpoint_resumes_on_four(tmp_path, data_dir):
    config = toy_config(steps=4, batch_size=32, num_devices=0)
    workdir = str(tmp_path / "run")
    _in_process_with(1, "-c", RESUME.format(devices=0, steps=4, overwrite=False), workdir)
    one = digests(load_run(workdir).state)                 # read here, on 4 devices
    config.train.steps = 8
    config.train.ckpt_every = config.train.log_every = config.train.sample_every = 4
    train(config, workdir)
    assert load_run(workdir).step == 8
    assert digests(load_run(workdir, step=4).state) == one     # the 1-device one, untouched
