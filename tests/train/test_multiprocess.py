"""Multi-process training (`jax.distributed`, several processes on 127.0.0.1 with 2 CPU devices
each; the conftest's device flags removed for the children): 2 processes x 2 devices equal 1
process x 4 devices, bit-identical when repeated (and when each process streams its own rows
from the files); a checkpoint of 2 processes resumes in 1;
pmap over several processes is refused; a killed worker makes the other exit, not hang, and the
last checkpoint stays intact.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

from gan_jax.train.restore import load_run

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOY = ["--config=experiments/configs/gan_2d_ring.py", "--config.train.steps=20",
       "--config.train.steps_per_call=10", "--config.train.log_every=10",
       "--config.train.sample_every=10", "--config.train.ckpt_every=10",
       "--config.train.mapper=shard_map", "--config.train.progress=False",
       "--config.train.tensorboard=False", "--config.eval.num_samples=200"]
MLP = ["--config=experiments/configs/mlp_mnist.py", "--config.train.steps=20",
       "--config.train.steps_per_call=10", "--config.train.log_every=10",
       "--config.train.sample_every=20",
       "--config.train.ckpt_every=20", "--config.train.mapper=shard_map",
       "--config.train.progress=False", "--config.train.tensorboard=False",
       "--config.eval.num_samples=200", "--config.eval.metrics=fid"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(devices: int):
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    env.update(JAX_PLATFORMS="cpu", JAX_NUM_CPU_DEVICES=str(devices))
    return env


def start(workdir, args, processes: int, devices: int):
    """Launch the trainer as `processes` processes of `devices` CPU devices each."""
    cmd = [sys.executable, "-m", "gan_jax.train", f"--workdir={workdir}", *args]
    if processes > 1:
        port = _free_port()
        return [subprocess.Popen(cmd + [f"--coordinator=127.0.0.1:{port}",
                                        f"--num_processes={processes}", f"--process_id={i}"],
                                 cwd=ROOT, env=_env(devices), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for i in range(processes)]
    return [subprocess.Popen(cmd, cwd=ROOT, env=_env(devices), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)]


def finish(workers, timeout=300):
    """(return codes, outputs) of the workers; kills them all if one overruns."""
    outs = []
    try:
        for w in workers:
            outs.append(w.communicate(timeout=timeout))
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
    return [w.returncode for w in workers], outs


def train(workdir, args, processes, devices):
    codes, outs = finish(start(workdir, args, processes, devices))
    assert codes == [0] * processes, [o[1][-1500:] for o in outs]
    return outs


def trained(workdir):
    state = load_run(workdir).state
    return [np.asarray(x) for x in jax.tree.leaves((state.g, state.d, state.g_opt, state.d_opt))]


def max_relative(a, b):
    """The largest per-array relative difference ||a - b|| / ||b|| over the state."""
    return max(float(np.linalg.norm(x - y) / max(np.linalg.norm(y), 1e-30))
               for x, y in zip(a, b))


@pytest.fixture(scope="module")
def toy_runs(tmp_path_factory, data_dir):
    root = tmp_path_factory.mktemp("multiprocess")
    runs = {}
    start_time = time.perf_counter()
    outs = train(root / "2x2", TOY, 2, 2)
    runs["launch_s"] = time.perf_counter() - start_time
    runs["outs"] = outs
    train(root / "2x2_again", TOY, 2, 2)
    train(root / "1x4", TOY, 1, 4)
    runs.update(root=root)
    return runs


def test_two_processes_equal_one_and_repeat_bit_for_bit(toy_runs):
    root = toy_runs["root"]
    two, again, one = (trained(root / n) for n in ("2x2", "2x2_again", "1x4"))
    assert all(np.array_equal(x, y) for x, y in zip(two, again))     # repeated: bit-identical
    assert max_relative(two, one) < 1e-5                              # only the sum order differs


def _gloo_line(line: str) -> bool:
    """Gloo's connection report ("[Gloo] Rank 1 is connected to 3 peer ranks. Expected number
    of connected peer ranks is : 3"), which its C++ writes can break over two lines."""
    return line.startswith("[Gloo]") or "peer ranks" in line


def test_only_process_zero_writes_and_prints(toy_runs):
    root = toy_runs["root"]
    out0, out1 = ([line for line in out.splitlines() if not _gloo_line(line)]
                  for out, _ in toy_runs["outs"])     # without gloo's own connection lines
    assert any("'step': 20" in line for line in out0) and out1 == []
    for name in ("config.json", "metrics.jsonl", "eval.json"):
        assert (root / "2x2" / name).exists(), name
    rows = [json.loads(r) for r in (root / "2x2" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if "d_loss" in r] == [10, 20]     # one writer, no duplicates


def test_checkpoint_of_two_processes_resumes_in_one(toy_runs, tmp_path):
    root = toy_runs["root"]
    resumed = tmp_path / "resumed"
    shutil.copytree(root / "2x2", resumed)
    shutil.rmtree(resumed / "checkpoints" / "20")        # back to the step-10 checkpoint
    train(resumed, TOY, 1, 4)
    assert load_run(resumed).step == 20
    assert max_relative(trained(resumed), trained(root / "2x2")) < 1e-5


def test_mlp_gan_two_processes_equal_one(tmp_path, data_dir):
    train(tmp_path / "2x2", MLP, 2, 2)
    train(tmp_path / "1x4", MLP, 1, 4)
    assert max_relative(trained(tmp_path / "2x2"), trained(tmp_path / "1x4")) < 1e-5
    assert (tmp_path / "2x2" / "eval.json").exists()
    # Streamed, each process reads its own rows from the files: the same run, bit for bit.
    train(tmp_path / "2x2_streamed", MLP + ["--config.data.streaming=True"], 2, 2)
    assert all(np.array_equal(x, y) for x, y in zip(trained(tmp_path / "2x2_streamed"),
                                                    trained(tmp_path / "2x2")))


def test_pmap_over_several_processes_is_refused(tmp_path, data_dir):
    args = [a for a in TOY if "mapper" not in a]          # the default mapper: pmap
    codes, outs = finish(start(tmp_path / "run", args, 2, 2), timeout=120)
    assert codes == [2, 2], [o[1][-800:] for o in outs]
    for _, err in outs:
        assert "use --config.train.mapper=shard_map" in err
    assert not (tmp_path / "run" / "checkpoints").exists() or not os.listdir(
        tmp_path / "run" / "checkpoints")


def wait_for_checkpoint(workdir, step: int, timeout: float = 120):
    """Wait until the running workers have written the checkpoint of `step`."""
    deadline = time.time() + timeout
    while time.time() < deadline and not (workdir / "checkpoints" / str(step)).exists():
        time.sleep(0.5)
    assert (workdir / "checkpoints" / str(step)).exists(), f"no checkpoint within {timeout} s"


def test_a_signal_to_one_process_stops_both_at_one_checkpoint(tmp_path, data_dir):
    args = [a for a in TOY if "train.steps=" not in a] + ["--config.train.steps=100000"]
    workdir = tmp_path / "run"
    workers = start(workdir, args, 2, 2)
    try:
        wait_for_checkpoint(workdir, 20)
        workers[1].send_signal(signal.SIGTERM)
        codes, outs = finish(workers, timeout=120)
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
    assert codes == [130, 143], [o[1][-800:] for o in outs]   # 143: SIGTERM; 130: the peer's
    steps = {int(line.split("at step ")[1].split()[0]) for _, err in outs
             for line in err.splitlines() if "training stopped at step" in line}
    assert len(steps) == 1, outs                              # both stopped at the same step
    assert load_run(str(workdir)).step == steps.pop()         # ... and saved it


def test_killed_worker_stops_the_other_and_keeps_the_last_checkpoint(tmp_path, data_dir):
    args = [a for a in TOY if "train.steps=" not in a] + ["--config.train.steps=100000",
                                                          "--heartbeat_timeout_s=15"]
    workdir = tmp_path / "run"
    workers = start(workdir, args, 2, 2)
    try:
        wait_for_checkpoint(workdir, 20)
        workers[1].send_signal(signal.SIGKILL)
        killed_at = time.time()
        code = workers[0].wait(timeout=90)            # no hang: it exits on its own
        waited = time.time() - killed_at
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
    assert code != 0
    assert waited < 90, waited
    print(f"the survivor exited {waited:.1f} s after its peer was killed")
    # The newest complete checkpoint restores (digests checked); nothing half-written counts.
    assert load_run(str(workdir)).step >= 20
