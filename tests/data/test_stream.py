"""The data streams as dicts: labelled, paired and unpaired constructors; one integer of state
(resume reads the same batches); per-example keyed augmentation that is the same whatever the
batch split (n devices) and after a resume."""
import chex
import jax
import numpy as np
import pytest

from gan_jax.data.augment import flip, get_augment
from gan_jax.data.stream import ImageStream, PairedStream, UnpairedStream
from gan_jax.errors import GanJaxError

RNG = np.random.default_rng(0)
A = RNG.integers(0, 256, (30, 4, 4, 1), dtype=np.uint8)
B = RNG.integers(0, 256, (20, 4, 4, 3), dtype=np.uint8)
KEY = jax.random.key(7)


def _ids(images):
    """The row each image came from (images are random, so their bytes identify them)."""
    return images.reshape(len(images), -1)


def test_labelled_stream_batches_are_dicts():
    s = ImageStream(A, np.arange(30) % 10, seed=1)
    b = s.batches(0, 2, 8)
    assert set(b) == {"index", "x", "label"}
    chex.assert_shape((b["index"], b["x"], b["label"]), [(2, 8), (2, 8, 4, 4, 1), (2, 8)])
    assert s.info.num_classes == 10 and s.info.fields == ("x",)
    for x, y in zip(b["x"].reshape(16, -1), b["label"].reshape(16)):
        assert y == np.flatnonzero((_ids(A) == x).all(1))[0] % 10   # the label goes with its image


def test_paired_stream_keeps_pairs_together():
    b_same = np.repeat(A, 3, axis=-1)       # B_i is A_i in colour: pairs are recognisable
    s = PairedStream(A, b_same, seed=2)
    batch = s.batches(5, 3, 10)             # crosses the epoch boundary at 30
    np.testing.assert_array_equal(np.repeat(batch["a"], 3, -1), batch["b"])
    with pytest.raises(GanJaxError, match="equal lengths"):
        PairedStream(A, B, seed=0)


def test_unpaired_stream_shuffles_each_set_on_its_own():
    s = UnpairedStream(A, B, seed=3)
    batch = s.batches(0, 6, 10)             # 60 examples: 2 epochs of A, 3 of B
    a, b = batch["a"].reshape(60, -1), batch["b"].reshape(60, -1)
    for epoch in range(2):                  # every epoch is a permutation of its own set
        assert {r.tobytes() for r in a[30 * epoch:30 * (epoch + 1)]} == {r.tobytes() for r in _ids(A)}
    for epoch in range(3):
        assert {r.tobytes() for r in b[20 * epoch:20 * (epoch + 1)]} == {r.tobytes() for r in _ids(B)}
    # independent orders: A's permutation is not B's
    a_order = [np.flatnonzero((_ids(A) == r).all(1))[0] for r in a[:20]]
    b_order = [np.flatnonzero((_ids(B) == r).all(1))[0] for r in b[:20]]
    assert a_order != b_order
    resumed = UnpairedStream(A, B, seed=3).batches(20, 4, 10)
    for k in batch:
        np.testing.assert_array_equal(batch[k][2:], resumed[k])


def test_flip_augmentation_is_keyed_by_example_index():
    s = ImageStream(A, seed=4, augment=flip)
    raw = s.batches(0, 2, 12)
    whole = np.asarray(s.transform(raw, KEY)["x"])
    plain = np.asarray(ImageStream(A, seed=4).transform(raw)["x"])
    flipped = np.all(whole == plain[..., :, ::-1, :], axis=(2, 3, 4))
    kept = np.all(whole == plain, axis=(2, 3, 4))
    assert np.all(flipped | kept) and 4 <= flipped.sum() <= 20          # about half of 24
    # the same examples split in two halves (two devices) are augmented the same way
    halves = [np.asarray(s.transform(jax.tree.map(lambda x: x[:, h * 6:(h + 1) * 6], raw),
                                     KEY)["x"]) for h in (0, 1)]
    np.testing.assert_array_equal(np.concatenate(halves, axis=1), whole)
    # a later batch read after a resume (position 12) is augmented as in the long run
    later = np.asarray(s.transform(s.batches(12, 1, 12), KEY)["x"])
    np.testing.assert_array_equal(later[0], whole[1])
    other = np.asarray(s.transform(raw, jax.random.key(8))["x"])
    assert not np.array_equal(other, whole)
    with pytest.raises(GanJaxError, match="needs a key"):
        s.transform(raw)


def test_paired_augmentation_flips_both_images_of_a_pair_together():
    s = PairedStream(A, A, seed=5, augment=flip)
    out = s.transform(s.batches(0, 1, 16), KEY)
    np.testing.assert_array_equal(out["a"], out["b"])


def test_augment_names():
    assert get_augment("none") is None and get_augment("flip") is flip
    with pytest.raises(GanJaxError, match="unknown data.augment 'flop'"):
        get_augment("flop")


def test_training_with_augmentation_two_devices_equal_one_and_resume(data_dir, tmp_path):
    """data.augment='flip' keeps the two promises of the keyed randomness: 2 devices compute
    the 1-device step, and an interrupted run resumes bit-identically."""
    from gan_jax.config import base_config
    from gan_jax.train.loop import train
    from tests.train.helpers import run_steps, tree_bytes_equal

    def config(num_devices=1):
        c = base_config()
        c.data.name, c.data.augment = "mnist_offline", "flip"
        c.model.latent_dim, c.model.g_hidden, c.model.d_hidden = 4, (16,), (16,)
        t = c.train
        t.steps, t.batch_size, t.steps_per_call, t.num_devices = 6, 8, 3, num_devices
        t.log_every = t.sample_every = t.ckpt_every = 3
        t.progress, t.tensorboard = False, False
        c.eval.num_samples, c.eval.metrics = 50, "is"   # a cheap evaluation
        return c

    one, m1, _ = run_steps(config(1), calls=2)
    two, m2, _ = run_steps(config(2), calls=2)
    chex.assert_trees_all_close((one.g, one.d), (two.g, two.d), rtol=2e-4, atol=2e-5)
    full, _ = train(config(), str(tmp_path / "full"))
    train(config(), str(tmp_path / "part"), stop_at=3)
    resumed, _ = train(config(), str(tmp_path / "part"))
    assert tree_bytes_equal(jax.device_get(full), jax.device_get(resumed))
