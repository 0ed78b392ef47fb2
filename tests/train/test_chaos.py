"""Chaos: a toy run on the command line, killed by SIGKILL, SIGINT or SIGTERM at seeded random
moments (start-up, compilation, training, checkpoint writes) and restarted with the same
command each time, ends bit-identical to the uninterrupted run; after every stop the workdir
passes a consistency check."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from gan_jax.train.checkpoint import TMP_MARK
from gan_jax.train.restore import load_run
from tests.train.helpers import tree_bytes_equal

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARGS = ["--config=gan_2d_ring", "--config.train.steps=8000", "--config.train.steps_per_call=100",
        "--config.train.log_every=100", "--config.train.ckpt_every=500",
        "--config.train.sample_every=4000", "--config.model.g_hidden=(32,32)",
        "--config.model.d_hidden=(32,32)", "--config.eval.num_samples=500",
        "--config.train.progress=False"]
EXIT = {"SIGINT": 130, "SIGTERM": 143, "SIGKILL": -9}


def _start(workdir):
    return subprocess.Popen([sys.executable, "-m", "gan_jax.train", f"--workdir={workdir}", *ARGS],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "JAX_PLATFORMS": "cpu"})


def _rows(workdir):
    path = os.path.join(workdir, "metrics.jsonl")
    if not os.path.isfile(path):
        return []
    with open(path) as f:
        lines = f.read().splitlines()
    rows = []
    for i, line in enumerate(lines):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            assert i == len(lines) - 1, "only the last line may be torn (by SIGKILL)"
    return rows


def _checkpoints(workdir):
    directory = os.path.join(workdir, "checkpoints")
    if not os.path.isdir(directory):
        return []
    return sorted(int(n) for n in os.listdir(directory) if n.isdigit())


def check_consistency(workdir, how):
    """What a stop may leave: config.json; complete checkpoints (every ckpt_every, and where a
    clean stop saved)
    (at most 3; after SIGKILL perhaps one more, whose deletion orbax had not yet done, and one
    interrupted write; the next save removes both); metrics rows at multiples of
    log_every in order, none past the last checkpoint after a clean stop; no evaluation file
    but eval.json."""
    if os.path.isfile(os.path.join(workdir, "config.json")):
        with open(os.path.join(workdir, "config.json")) as f:
            assert json.load(f)["train"]["steps"] == 8000
    steps = _checkpoints(workdir)
    assert len(steps) <= 3 + (how == "SIGKILL"), steps
    leftovers = [n for n in os.listdir(os.path.join(workdir, "checkpoints"))
                 if not n.isdigit()] if os.path.isdir(os.path.join(workdir, "checkpoints")) else []
    assert all(TMP_MARK in n for n in leftovers) and (how == "SIGKILL" or not leftovers), leftovers
    rows = [r["step"] for r in _rows(workdir)]
    assert rows == sorted(set(rows)) and all(s % 100 == 0 for s in rows)
    if how != "SIGKILL" and steps:
        assert rows and rows[-1] <= steps[-1] and rows == list(range(100, rows[-1] + 1, 100))
    assert [n for n in os.listdir(workdir) if n.startswith("eval")] in ([], ["eval.json"])


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("uninterrupted"))
    proc = _start(workdir)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-2000:]
    return workdir


@pytest.mark.slow
def test_killed_at_random_moments_and_resumed_equals_the_uninterrupted_run(reference, tmp_path):
    rng = np.random.default_rng(20261130)
    workdir = str(tmp_path / "chaos")
    stops = []
    for attempt in range(12):
        proc = _start(workdir)
        how = None
        if attempt < 5:
            how = str(rng.choice(["SIGKILL", "SIGINT", "SIGTERM"]))
            time.sleep(float(rng.uniform(2.0, 9.0)))
            if proc.poll() is None:
                proc.send_signal(getattr(signal, how))
            else:
                how = None
        _, err = proc.communicate(timeout=600)
        if proc.returncode == 0:
            break
        assert how is not None, err[-2000:]
        assert proc.returncode == EXIT[how], (how, proc.returncode, err[-2000:])
        assert "Traceback" not in err, err[-3000:]
        stops.append((how, _checkpoints(workdir)[-1:] or [0]))
        check_consistency(workdir, how)
    else:
        pytest.fail("the run did not finish")
    assert len(stops) >= 3, stops
    check_consistency(workdir, "done")
    assert not any(TMP_MARK in n for n in os.listdir(os.path.join(workdir, "checkpoints")))
    a, b = load_run(workdir), load_run(reference)
    assert a.step == b.step == 8000 and tree_bytes_equal(a.state, b.state)

    def numbers(w):
        return [{k: v for k, v in r.items() if k != "steps_per_sec"} for r in _rows(w)]
    assert numbers(workdir) == numbers(reference)
    with open(os.path.join(workdir, "eval.json")) as f, \
            open(os.path.join(reference, "eval.json")) as g:
        assert json.load(f) == json.load(g)
