"""Streaming (`data.streaming`): batches read from the prepared files by random access equal the
in-memory stream's, example for example, across epochs and with resizing; a process's rows are
all it reads; a short training run is bit-identical either way."""
import chex
import jax
import numpy as np
import pytest

from gan_jax.config import base_config
from gan_jax.data import records, sources
from gan_jax.data.images import load_images, open_images
from gan_jax.data.stream import ImageStream
from gan_jax.errors import GanJaxError
from gan_jax.validation import validate_config
from tests.data.test_images import _prepare_fake_standard_mnist, no_network  # noqa: F401


def _config(name="mnist_offline", **data):
    c = base_config()
    c.data.name = name
    c.data.update(data)
    return c


def _both(config):
    memory = sources.make_stream(config)
    config.data.streaming = True
    return memory, sources.make_stream(config)


def _assert_same(a, b):
    assert sorted(a) == sorted(b)
    for k in a:
        chex.assert_trees_all_equal_dtypes(a[k], b[k])
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


@pytest.mark.parametrize("name,data", [("mnist_offline", {}), ("stacked_mnist", {}),
                                       ("mnist_offline", {"image_size": 16})])
def test_streamed_batches_equal_in_memory(data_dir, name, data):
    memory, streamed = _both(_config(name, **data))
    assert isinstance(streamed.table, records.RecordTable) and streamed.images is None
    assert streamed.info == memory.info and streamed.size == memory.size
    n = memory.size
    for position in (0, n - 40, 3 * n + 7):        # the first batch, an epoch boundary, epoch 3
        _assert_same(memory.batches(position, 2, 64), streamed.batches(position, 2, 64))


def test_rows_are_the_global_batch_rows_and_all_that_is_read(data_dir):
    memory, streamed = _both(_config())
    rows = np.array([2, 3, 6, 7])                    # e.g. process 1 of 2, 2 devices each
    streamed.table.reads = 0
    part = streamed.batches(4470, 3, 8, rows)        # crosses the epoch boundary at 4,500
    assert streamed.table.reads == 3 * len(rows)
    whole = memory.batches(4470, 3, 8)
    _assert_same({k: v[:, rows] for k, v in whole.items()}, part)
    chex.assert_shape(part["x"], (3, 4, 28, 28, 1))


def test_standard_png_set_streams_like_load_images(tmp_path, no_network):  # noqa: F811
    images, labels, _ = _prepare_fake_standard_mnist(tmp_path)
    table = open_images("mnist", "train", tmp_path)
    got = table.take(np.array([3, 0, 11, 3]))
    np.testing.assert_array_equal(got["x"], images[[3, 0, 11, 3]])
    np.testing.assert_array_equal(got["label"], labels[[3, 0, 11, 3]])
    chex.assert_type([got["x"], got["label"]], [np.uint8, np.int32])
    whole, _ = load_images("mnist", "train", tmp_path, image_size=14)
    small = open_images("mnist", "train", tmp_path, image_size=14)
    np.testing.assert_array_equal(small.take(np.arange(12))["x"], whole)


def test_stream_from_a_table_of_arrays_equals_the_array_stream():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (30, 4, 4, 3), np.uint8)
    y = np.arange(30, dtype=np.int32) % 3
    table = records.ArrayTable({"x": x, "label": y})
    _assert_same(ImageStream(x, y, seed=5).batches(25, 4, 10),
                 ImageStream.from_records(table, seed=5, num_classes=3).batches(25, 4, 10))


def test_bad_items_and_unstreamable_sets_are_named(data_dir):
    table = open_images("mnist_offline", "test", data_dir)
    with pytest.raises(GanJaxError, match=r"outside the 500 records"):
        table.take(np.array([0, 500]))
    for name in ("ring", "digit_scenes", "grass_gravel", "photo_crops"):
        c = _config(name)
        c.data.streaming = True
        with pytest.raises(GanJaxError, match="data.streaming"):
            validate_config(c)


def test_training_streamed_is_bit_identical(data_dir):
    from tests.train.helpers import run_steps
    c = _config()
    c.model.g_hidden = c.model.d_hidden = (32,)
    c.train.batch_size, c.train.steps_per_call, c.train.progress = 32, 5, False
    memory, _, _ = run_steps(c, 3)
    c.data.streaming = True
    streamed, _, (data, _, _) = run_steps(c, 3)
    assert isinstance(data.table, records.RecordTable)
    chex.assert_trees_all_equal(jax.tree.leaves(memory), jax.tree.leaves(streamed))


def test_read_ahead_workers_give_the_same_batches(data_dir):
    from gan_jax.data.prefetch import Prefetched
    _, streamed = _both(_config())
    ahead = Prefetched(streamed, 2)
    try:
        rows = np.array([0, 1, 4, 5])
        positions = [0, 32, 64, 96, 4480, 4512]      # in order, then a jump (a resume)
        for p in positions:
            _assert_same(streamed.batches(p, 2, 16, rows), ahead.batches(p, 2, 16, rows))
        # Read here: the checks' own reads and the two calls not foreseen (0 and the jump);
        # the workers read the others from their own copies of the stream.
        assert streamed.table.reads == 2 * 4 * (len(positions) + 2)
        assert ahead.info == streamed.info and ahead.transform == streamed.transform
    finally:
        ahead.close()


def test_training_with_read_workers_is_bit_identical(data_dir):
    from tests.train.helpers import run_steps
    c = _config()
    c.model.g_hidden = c.model.d_hidden = (32,)
    c.train.batch_size, c.train.steps_per_call, c.train.progress = 32, 5, False
    c.data.streaming = True
    streamed, _, _ = run_steps(c, 3)
    c.data.read_workers = 1
    ahead, _, (data, _, _) = run_steps(c, 3)
    data.close()
    chex.assert_trees_all_equal(jax.tree.leaves(streamed), jax.tree.leaves(ahead))
