"""Every scalar a family returns is logged: metrics.jsonl, TensorBoard event files (read back
here with tensorboardX's own protobufs) and curves.png; a resume purges the interrupted run's
later events as it drops its later metrics rows."""
import glob
import os
import struct

import numpy as np
import pytest
from PIL import Image

from gan_jax.train.logs import read_rows
from gan_jax.train.loop import train
from tests.train.helpers import toy_config


def _config(steps=40):
    c = toy_config(steps=steps, steps_per_call=10, name="ring")
    c.loss.r1_gamma = 1.0          # a family metric beyond the four of the plain GAN
    c.train.tensorboard = True
    c.eval.num_samples = 200
    return c


def read_events(workdir):
    """[(file, [(step, tag, value)], [purge steps])] of every event file, oldest first."""
    from tensorboardX.proto import event_pb2
    out = []
    for path in sorted(glob.glob(os.path.join(workdir, "events.out.tfevents.*"))):
        with open(path, "rb") as f:
            data = f.read()
        scalars, purges, offset = [], [], 0
        while offset < len(data):
            (length,) = struct.unpack("<Q", data[offset:offset + 8])
            event = event_pb2.Event()
            event.ParseFromString(data[offset + 12:offset + 12 + length])
            offset += 12 + length + 4
            if event.HasField("session_log"):
                purges.append(event.step)
            for v in event.summary.value:
                scalars.append((event.step, v.tag, v.simple_value))
        out.append((path, scalars, purges))
    return out


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("logs"))
    train(_config(), workdir)
    return workdir


def test_every_scalar_is_in_metrics_jsonl(run):
    rows = read_rows(run)
    assert [r["step"] for r in rows] == [10, 20, 30, 40]
    for r in rows:
        assert set(r) == {"step", "d_loss", "g_loss", "mean_d_x", "mean_d_g_z", "r1_penalty",
                          "steps_per_sec"}
        assert r["r1_penalty"] >= 0


def test_tensorboard_events_hold_the_same_numbers(run):
    (path, scalars, purges), = read_events(run)
    assert purges == []
    by_key = {(step, tag): value for step, tag, value in scalars}
    for r in read_rows(run):
        for k, v in r.items():
            if k != "step":
                assert by_key[(r["step"], k)] == pytest.approx(v, rel=1e-6, abs=1e-6)


def test_curves_png_shows_the_run(run):
    with Image.open(os.path.join(run, "curves.png")) as im:
        assert im.format == "PNG" and im.size[0] >= 500 and im.size[1] >= 500  # 3 panels


def test_resume_purges_the_interrupted_runs_later_events(tmp_path):
    workdir = str(tmp_path)
    cfg = _config()
    cfg.train.ckpt_every = 20
    train(cfg, workdir, stop_at=30)          # writes rows 10, 20, 30; checkpoint at 20 and 30
    # as if killed after step 30's row but before its checkpoint: resume from 20
    import shutil
    shutil.rmtree(os.path.join(workdir, "checkpoints", "30"))
    train(cfg, workdir)
    assert [r["step"] for r in read_rows(workdir)] == [10, 20, 30, 40]
    files = read_events(workdir)
    assert len(files) == 2 and files[1][2] == [21]          # TensorBoard drops steps >= 21
    second = {(s, t) for s, t, _ in files[1][1]}
    assert {(30, "d_loss"), (40, "d_loss")} <= second and (20, "d_loss") not in second


def test_tensorboard_can_be_switched_off(tmp_path):
    cfg = _config(steps=10)
    cfg.train.tensorboard = False
    train(cfg, str(tmp_path))
    assert not glob.glob(str(tmp_path / "events.out.tfevents.*"))
    assert np.isfinite(read_rows(str(tmp_path))[0]["d_loss"])
