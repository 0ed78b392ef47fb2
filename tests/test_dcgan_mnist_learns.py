"""The shipped dcgan_mnist config learns recognisable digits (a short real training run).

Judge: the shipped MNIST LeNet (98.6 % on the held-out digits) through the trainer's own
end-of-run evaluation, on 1,000 samples. The test trains the shipped config unchanged except
for its length: the first 200 of its 4,500 steps. Measured here after 200 steps (widths 64,
EMA 0.999 with ramp-up): MNIST score 3.70, all 10 classes, MNIST FID 438 (the earlier widths-32
config: 3.27 and 605); the untrained generator: 1.00, one class, FID 1143; the full 4,500-step
run (10,000 samples): 7.18, 10 classes, FID 111.2; the held-out real digits: 9.15 and FID 7.5.
The bar: all 10 classes (each with >= 10% of its fair share), MNIST score >= 2.8,
MNIST FID <= 800.
"""
import os

import jax
import pytest

from gan_jax.evaluation import Evaluator
from gan_jax.config import CONFIG_DIR, load_experiment as _load_config
from gan_jax.train.loop import build_run, train

STEPS = 200
MIN_SCORE, MAX_FID = 2.8, 800.0


@pytest.mark.slow
def test_dcgan_mnist_digits_are_recognisable(tmp_path, data_dir):
    config = _load_config(os.path.join(CONFIG_DIR, "dcgan_mnist.py"))
    assert config.model.arch == "dcgan" and config.data.name == "mnist_offline"
    config.train.steps = STEPS
    config.train.sample_every = config.train.ckpt_every = STEPS
    config.train.log_every = 50
    config.train.progress = False
    config.eval.num_samples = 1000
    config.eval.metrics = "fid,is,modes"
    state, results = train(config, str(tmp_path / "run"))
    assert results["features"] == "mnist" and results["num_samples"] == 1000
    assert results["classes_covered"] == 10, results
    assert results["is"] >= MIN_SCORE, results
    assert results["fid"] <= MAX_FID, results
    # The bar is not met by an untrained generator.
    data, spec, untrained, _ = build_run(config)
    before = Evaluator(spec, data, config)(untrained.g)
    assert before["is"] < MIN_SCORE and before["fid"] > MAX_FID
    assert before["classes_covered"] < 10
    assert int(jax.device_get(state.step)) == STEPS
