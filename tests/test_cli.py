"""The command line end to end: every output file of a run, then a resume that continues."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEYS = {"step", "d_loss", "g_loss", "mean_d_x", "mean_d_g_z", "steps_per_sec"}


def _run(workdir, *extra):
    cmd = [sys.executable, "-m", "gan_jax.train", "--config", "experiments/configs/gan_2d_ring.py",
           f"--workdir={workdir}", "--config.train.steps=200", "--config.train.log_every=100",
           "--config.train.sample_every=100", "--config.train.ckpt_every=100",
           "--config.eval.num_samples=500", "--config.train.keep_checkpoints=2", *extra]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_cli_writes_the_run_directory_and_resumes(tmp_path):
    workdir = tmp_path / "ring"
    out = _run(workdir)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "step/s" in out.stderr and "d_loss=" in out.stderr  # the progress bar
    with open(workdir / "config.json") as f:
        assert json.load(f)["train"]["steps"] == 200
    with open(workdir / "metrics.jsonl") as f:
        rows = [json.loads(line) for line in f]
    assert [r["step"] for r in rows] == [100, 200] and all(set(r) == KEYS for r in rows)
    assert sorted(os.listdir(workdir / "samples")) == ["step_0000100.png", "step_0000200.png"]
    assert sorted(os.listdir(workdir / "checkpoints")) == ["100", "200"]
    with open(workdir / "eval.json") as f:
        result = json.load(f)
    assert result["step"] == 200 and result["num_modes"] == 8 and "modes_covered" in result

    again = _run(workdir, "--config.train.steps=300")  # continues from 200, does not restart
    assert again.returncode == 0, again.stderr[-2000:]
    with open(workdir / "metrics.jsonl") as f:
        assert [json.loads(line)["step"] for line in f] == [100, 200, 300]
    assert sorted(os.listdir(workdir / "checkpoints")) == ["200", "300"]  # the last K=2 kept

    refused = _run(workdir, "--config.optim.g.b1=0.9")
    assert refused.returncode == 2 and "different config" in refused.stderr
    assert "Traceback" not in refused.stderr
