"""Every shipped experiment config loads through the CLI's loader and builds its data and GAN."""
import os

import jax
import pytest

from gan_jax.build import build_data, build_gan
from gan_jax.train.__main__ import CONFIG_DIR, _load_config, available_configs
from gan_jax.train.loop import check_intervals


@pytest.mark.parametrize("name", available_configs())
def test_shipped_config_builds(name, data_dir):
    config = _load_config(os.path.join(CONFIG_DIR, f"{name}.py"))
    check_intervals(config.train)
    data = build_data(config)
    spec = build_gan(config, data)
    example = data.transform(jax.tree.map(lambda x: x[0], data.batches(0, 1, 4)))
    variables = jax.eval_shape(spec.init, jax.random.key(0), example)
    assert set(variables) == {"g", "d"}
    samples = jax.eval_shape(lambda v: spec.sample(v, jax.random.key(0), 3), variables["g"])
    assert samples.shape == (3,) + tuple(data.example_shape)
