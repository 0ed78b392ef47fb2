"""The real set the metrics compare with (EvalContext's reference): read from the prepared files
when the run streams its data, never holding the split, with the same numbers as in memory; and
`eval.max_real`, a fixed seeded subset of the training images."""
import json

import numpy as np
import pytest

from gan_jax.config import base_config
from gan_jax.data.records import RecordTable
from gan_jax.data.stream import ImageStream
from gan_jax.errors import GanJaxError
from gan_jax.evaluation import Evaluator
from gan_jax.train.loop import build_run
from gan_jax.train.parallel import select_devices
from gan_jax.validation import validate_config


def _config(streaming=False, max_real=0):
    """A tiny class-conditional MLP GAN on the 4,500 offline digits: its evaluation uses every
    reference accessor (FID/KID/PR features, intra-class FID's labels)."""
    c = base_config()
    c.data.name, c.data.streaming = "mnist_offline", streaming
    c.gan.family = "conditional"
    c.model.latent_dim, c.model.g_hidden, c.model.d_hidden = 8, (32,), (32,)
    c.train.num_devices, c.train.progress = 1, False
    c.eval.num_samples, c.eval.max_real = 200, max_real
    return c


def _evaluate(config, data="trainer"):
    stream, spec, state, _ = build_run(config, select_devices(1))
    evaluator = Evaluator(spec, stream if data == "trainer" else None, config)
    return evaluator(state.g), evaluator.context, stream


def _numbers(results):
    return {k: v for k, v in results.items() if k != "skipped"}


def test_streamed_evaluation_equals_in_memory_and_never_holds_the_split(data_dir):
    memory, memory_context, _ = _evaluate(_config())
    assert {"fid", "kid", "precision", "density", "intra_fid"} <= set(memory)
    streamed, context, stream = _evaluate(_config(streaming=True))
    assert isinstance(stream.table, RecordTable) and stream.images is None
    assert _numbers(streamed) == _numbers(memory)            # bit for bit: the same features
    assert "train_split" not in context.__dict__               # the whole split was never read
    assert stream.table.reads == 4500                          # one pass: features and labels
    # SWD's real images (the pyramid plug-in) are read by item number too.
    items = [0, 7, 4499]
    np.testing.assert_array_equal(context.train_images_at(items),
                                  memory_context.train_split[0][items])
    assert context.train_size == 4500 and "train_split" not in context.__dict__


def test_evaluate_cli_path_opens_the_table_of_a_streamed_run(data_dir):
    """`gan_jax.evaluate` has no stream: the context opens the train table itself."""
    memory, _, _ = _evaluate(_config())
    streamed, context, _ = _evaluate(_config(streaming=True), data=None)
    assert isinstance(context.train_table, RecordTable)
    assert "train_split" not in context.__dict__
    assert _numbers(streamed) == _numbers(memory)


def test_max_real_is_a_fixed_subset_read_alone(data_dir):
    m = 1000
    memory, mem_context, stream = _evaluate(_config(max_real=m))
    items = mem_context.reference_items
    assert len(items) == m and np.all(np.diff(items) > 0) and items[-1] < 4500
    assert memory["max_real"] == m
    # Streamed: the same numbers, and only the subset's records are read.
    streamed, context, streamed_stream = _evaluate(_config(streaming=True, max_real=m))
    np.testing.assert_array_equal(context.reference_items, items)
    assert _numbers(streamed) == _numbers(memory)
    assert streamed_stream.table.reads == m
    # The independent check: a run whose whole training set is those m images, evaluated
    # against all of it, gives the same numbers.
    c = _config()
    spec_stream, spec, state, _ = build_run(c, select_devices(1))
    subset = ImageStream(stream.images[items], stream.labels[items], seed=c.seed,
                         name=stream.info.name, num_classes=10)
    alone = Evaluator(spec, subset, c)(state.g)
    assert _numbers(alone) == {k: v for k, v in _numbers(memory).items() if k != "max_real"}
    # A different seed draws another subset; m >= the split is the whole split.
    c = _config(max_real=m)
    c.seed = 1
    other = _evaluate(c)[1].reference_items
    assert not np.array_equal(other, items)
    assert _evaluate(_config(max_real=4500))[1].reference_items is None


def test_bad_max_real_is_named(data_dir, tmp_path):
    c = _config(max_real=-1)
    with pytest.raises(GanJaxError, match="eval.max_real"):
        validate_config(c)
    from gan_jax.evaluate import evaluate_workdir
    from gan_jax.train.loop import train
    c = _config()
    c.train.steps = c.train.steps_per_call = 1
    c.train.log_every = c.train.sample_every = c.train.ckpt_every = 1
    c.train.tensorboard = False
    workdir = str(tmp_path / "run")
    train(c, workdir)
    with pytest.raises(GanJaxError, match="--max_real must be >= 0"):
        evaluate_workdir(workdir, max_real=-1)
    # Another reference size is another evaluation: the first eval.json is kept aside.
    evaluate_workdir(workdir, max_real=500)
    with open(tmp_path / "run" / "eval.json") as f:
        assert json.load(f)["max_real"] == 500
    kept = sorted(p.name for p in (tmp_path / "run").glob("eval.step*.json"))
    assert kept == ["eval.step1.json"]
    with open(tmp_path / "run" / kept[0]) as f:
        assert "max_real" not in json.load(f)


def test_max_real_is_ignored_where_no_real_set_is_compared(data_dir):
    """The 2-D toys sample their data on the fly: nothing to subset, nothing recorded."""
    c = base_config()
    c.data.name, c.model.g_output = "ring", "linear"
    c.train.num_devices, c.eval.num_samples, c.eval.max_real = 1, 100, 10
    stream, spec, state, _ = build_run(c, select_devices(1))
    results = Evaluator(spec, stream, c)(state.g)
    assert "modes_covered" in results and "max_real" not in results
