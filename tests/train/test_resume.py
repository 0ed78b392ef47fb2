"""Resume: a run interrupted at step 200 and resumed to 400 equals the uninterrupted run, bit for
bit (parameters, optimizer states, PRNG key, data position, logged metrics)."""
import json
import os

import jax
import numpy as np

from gan_jax.train.checkpoint import Checkpointer
from gan_jax.train.loop import train
from tests.train.helpers import tree_bytes_equal, toy_config


def _config(name="toy_1d"):
    cfg = toy_config(steps=400, steps_per_call=50, name=name, batch_size=32)
    cfg.train.ckpt_every = 100
    cfg.train.sample_every = 200
    return cfg


def _rows(workdir):
    with open(os.path.join(workdir, "metrics.jsonl")) as f:
        return [{k: v for k, v in json.loads(line).items() if k != "steps_per_sec"} for line in f]


def test_interrupted_run_resumes_bit_identical(tmp_path):
    full, full_eval = train(_config(), str(tmp_path / "full"))
    part = str(tmp_path / "part")
    half, none = train(_config(), part, stop_at=200)
    assert none is None and int(half.step) == 200
    ckpt = Checkpointer(os.path.join(part, "checkpoints"))
    assert ckpt.latest_step() == 200
    resumed, resumed_eval = train(_config(), part)
    assert int(resumed.step) == 400
    assert tree_bytes_equal(jax.device_get(full), jax.device_get(resumed))
    assert _rows(str(tmp_path / "full")) == _rows(part)
    assert full_eval == resumed_eval


def test_checkpoint_holds_data_position_and_key(tmp_path):
    cfg = _config()
    state, _ = train(cfg, str(tmp_path), stop_at=100)
    ckpt = Checkpointer(str(tmp_path / "checkpoints"))
    restored, position = ckpt.restore(jax.eval_shape(lambda: state))
    assert position == 100 * cfg.train.d_steps * cfg.train.batch_size
    assert np.array_equal(jax.random.key_data(restored.key), jax.random.key_data(state.key))


def test_longer_run_continues_from_finished_one(tmp_path):
    """Same workdir, train.steps raised from 200 to 400: continues (does not restart)."""
    cfg = _config()
    cfg.train.steps = 200
    train(cfg, str(tmp_path))
    cfg.train.steps = 400
    state, _ = train(cfg, str(tmp_path))
    full, _ = train(_config(), str(tmp_path / "ref"))
    assert int(state.step) == 400
    assert tree_bytes_equal(jax.device_get(full), jax.device_get(state))


def test_image_stream_resume_reads_the_same_batches():
    from gan_jax.data.stream import ImageStream
    images = np.random.default_rng(0).integers(0, 255, (50, 4, 4, 1), dtype=np.uint8)
    stream = ImageStream(images, np.arange(50) % 10, seed=3)
    whole = stream.batches(0, 10, 16)  # crosses epoch boundaries (50 images)
    second = ImageStream(images, np.arange(50) % 10, seed=3).batches(5 * 16, 5, 16)
    for k in whole:
        assert np.array_equal(whole[k][5:], second[k])
    # each epoch is a permutation: every image once per 50 examples
    flat = whole["x"].reshape(-1, 16)[:50]
    assert len({row.tobytes() for row in flat}) == len({im.tobytes() for im in images})
