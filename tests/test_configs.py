"""Every shipped experiment config loads through the CLI's loader and builds its data and GAN.

Configs for data sets that must be prepared online (cifar10, celeb_a) are checked to fail at
once with the fix when the data are missing, and their GAN is built on stand-in images of the
data set's (resized) shape.
"""
import os

import jax
import numpy as np
import pytest

from gan_jax.registry import make_spec as build_gan, make_stream as build_data
from gan_jax.data.images import IMAGE_SHAPES
from gan_jax.data.catalog import pair_shapes
from gan_jax.data.stream import ImageStream, PairedStream
from gan_jax.errors import GanJaxError
from gan_jax.config import CONFIG_DIR, available_configs, load_experiment as _load_config
from gan_jax.validation import validate_config

OFFLINE = ("mnist_offline", "stacked_mnist", "toy_1d", "ring", "grid", "digit_scenes",
           "photo_edges", "photo_colour", "photo_crops", "digits_mnist", "grass_gravel")


def _stand_in_images(config, n=8):
    if config.data.name == "paired_folder":
        shapes = pair_shapes(config)
        return PairedStream(np.zeros((n,) + shapes["a"], np.uint8),
                            np.zeros((n,) + shapes["b"], np.uint8), seed=config.seed)
    h, w, c = IMAGE_SHAPES[config.data.name]
    if config.data.image_size:
        h = w = config.data.image_size
    return ImageStream(np.zeros((n, h, w, c), np.uint8), seed=config.seed)


@pytest.mark.parametrize("name", available_configs())
def test_shipped_config_builds(name, data_dir, tmp_path):
    config = _load_config(os.path.join(CONFIG_DIR, f"{name}.py"))
    validate_config(config)
    if config.data.name in OFFLINE:
        data = build_data(config)
    else:
        config.data.data_dir = str(tmp_path)
        with pytest.raises(GanJaxError, match="not prepared|needs data.path"):
            build_data(config)
        data = _stand_in_images(config)
    spec = build_gan(config, data)
    example = data.transform(jax.tree.map(lambda x: x[0], data.batches(0, 1, 4)),
                             jax.random.key(0))
    variables = jax.eval_shape(spec.init, jax.random.key(0), example)
    assert set(variables) == {"g", "d"}
    cond = None
    if spec.cond_kind == "image":
        cond = np.zeros((3,) + data.info.shape_of("a"), np.float32)
    samples = jax.eval_shape(lambda v: spec.sample(v, jax.random.key(0), 3, cond), variables["g"])
    assert samples.shape == (3,) + tuple(data.example_shape)


def test_dcgan_on_toy_data_is_refused(data_dir):
    config = _load_config(os.path.join(CONFIG_DIR, "gan_1d.py"))
    config.model.arch = "dcgan"
    with pytest.raises(GanJaxError, match="needs image data"):
        build_gan(config, build_data(config))


def test_unknown_arch_lists_valid(data_dir):
    config = _load_config(os.path.join(CONFIG_DIR, "mlp_mnist.py"))
    config.model.arch = "transformer"
    with pytest.raises(GanJaxError, match="dcgan"):
        build_gan(config, build_data(config))


def test_compute_dtype_reaches_dcgan_and_is_refused_for_mlp(data_dir):
    config = _load_config(os.path.join(CONFIG_DIR, "dcgan_mnist.py"))
    config.model.compute_dtype = "bfloat16"
    data = build_data(config)
    spec = build_gan(config, data)
    example = data.transform(jax.tree.map(lambda x: x[0], data.batches(0, 1, 4)))
    variables = jax.eval_shape(spec.init, jax.random.key(0), example)
    assert {str(v.dtype) for v in jax.tree.leaves(variables)} == {"float32"}
    jaxpr = str(jax.make_jaxpr(lambda v: spec.sample(v, jax.random.key(0), 2))(variables["g"]))
    assert "bf16[" in jaxpr
    config = _load_config(os.path.join(CONFIG_DIR, "mlp_mnist.py"))
    config.model.compute_dtype = "bfloat16"
    with pytest.raises(GanJaxError, match="compute_dtype"):
        build_gan(config, build_data(config))
