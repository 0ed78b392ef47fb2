"""Evaluation of a run: the trainer's periodic rows and eval.json, `python -m gan_jax.evaluate`
on a workdir (no result ever lost) and on two image sets, repeated evaluation without growth,
and the errors."""
import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest
from PIL import Image

from gan_jax.config import base_config
from gan_jax.data.images import load_images, to_model_range
from gan_jax.errors import GanJaxError
from gan_jax.evaluate import compare_sets, evaluate_workdir, read_images
from gan_jax.evaluation import Evaluator
from gan_jax.metrics import compare
from gan_jax.train.logs import read_rows
from gan_jax.train.loop import train
from gan_jax.train.restore import load_run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIGIT_KEYS = {"fid", "is", "is_std", "kid", "kid_std", "precision", "recall", "density",
              "coverage", "parzen_ll", "parzen_se", "parzen_sigma", "classes_covered",
              "class_kl_to_uniform", "class_histogram"}


def _config(data_dir):
    c = base_config()
    c.data.name, c.data.data_dir = "mnist_offline", data_dir
    c.model.latent_dim, c.model.g_hidden, c.model.d_hidden = 8, (32,), (32,)
    t = c.train
    t.steps, t.steps_per_call, t.batch_size, t.num_devices = 40, 10, 16, 1
    t.log_every = t.sample_every = t.ckpt_every = 20
    t.progress = False
    c.eval.num_samples, c.eval.every = 200, 20
    return c


@pytest.fixture(scope="module")
def trained(data_dir, tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("eval_run"))
    _, results = train(_config(data_dir), workdir)
    return workdir, results


def test_trainer_evaluates_every_n_steps_and_at_the_end(trained):
    workdir, results = trained
    evals = [r for r in read_rows(workdir) if "eval_fid" in r]
    assert [r["step"] for r in evals] == [20, 40]
    assert evals[-1]["eval_fid"] == results["fid"]  # the final row is eval.json's evaluation
    assert "eval_class_histogram" not in evals[-1]  # lists stay in eval.json only
    with open(os.path.join(workdir, "eval.json")) as f:
        saved = json.load(f)
    assert saved == results and results["step"] == 40 and results["features"] == "mnist"
    assert DIGIT_KEYS <= set(results) and results["num_samples"] == 200
    assert results["fid"] > 0 and 1 <= results["is"] <= 10 and 0 <= results["precision"] <= 1


def test_evaluate_workdir_merges_and_never_loses_results(trained, tmp_path):
    workdir, results = trained
    again = evaluate_workdir(workdir, metrics="fid,kid", num_samples=200)
    assert again["fid"] == results["fid"]  # same checkpoint, same keys: same samples
    assert again["kid"] == results["kid"]
    with open(os.path.join(workdir, "eval.json")) as f:
        assert json.load(f)["parzen_ll"] == results["parzen_ll"]  # merged, not replaced
    other = evaluate_workdir(workdir, metrics="fid", num_samples=100, step=20)
    assert other["step"] == 20 and "parzen_ll" not in other
    kept = os.path.join(workdir, "eval.step40.json")
    with open(kept) as f:
        assert json.load(f)["parzen_ll"] == results["parzen_ll"]  # the step-40 file moved aside
    out = tmp_path / "elsewhere.json"
    evaluate_workdir(workdir, metrics="is", num_samples=100, out=str(out))
    assert json.loads(out.read_text())["is"] > 1


def test_swd_and_msssim_by_name(trained, tmp_path):
    workdir, _ = trained
    out = evaluate_workdir(workdir, metrics="swd,msssim", num_samples=64,
                           out=str(tmp_path / "pyramid.json"))
    # 28x28 digits padded to 32x32: pyramid levels 32 and 16 (x10^3, as the PGGAN paper)
    assert {"swd_32", "swd_16", "swd_avg", "msssim", "real_msssim"} <= set(out)
    assert out["swd_avg"] == pytest.approx((out["swd_32"] + out["swd_16"]) / 2)
    assert out["swd_avg"] > 0 and 0 < out["real_msssim"] < 1 and 0 < out["msssim"] <= 1
    assert "fid" not in out


@pytest.fixture(scope="module")
def run(trained):
    return load_run(trained[0])


def test_repeated_evaluation_neither_recompiles_nor_keeps_arrays(run):
    evaluator = Evaluator(run.spec, run.data, run.config, metrics="fid,is,modes", num_samples=100)
    first = evaluator(run.g_variables)
    live = len(jax.live_arrays())
    caches = evaluator.cache_sizes()
    assert set(caches) == {"sampler", "mnist"}
    for _ in range(3):
        assert evaluator(run.g_variables) == first  # deterministic
    assert len(jax.live_arrays()) == live
    assert evaluator.cache_sizes() == caches


def test_baseline_scores_held_out_digits_far_better_than_a_40_step_generator(run):
    out = Evaluator(run.spec, run.data, run.config, metrics="fid,is,modes", baseline=True,
                    num_samples=200)(run.g_variables)
    assert out["real_num_samples"] == 500
    assert out["real_fid"] < out["fid"] / 5 and out["real_is"] > 8.5
    assert out["real_classes_covered"] == 10


def test_compare_sets_on_folders_and_npz(data_dir, tmp_path):
    real, _ = load_images("mnist_offline", "test", data_dir)
    np.savez(tmp_path / "real.npz", images=real)
    folder = tmp_path / "fake"
    folder.mkdir()
    for i, img in enumerate(real[:100]):
        Image.fromarray(img[..., 0]).save(folder / f"{i:03d}.png")
    a, b = read_images(str(tmp_path / "real.npz")), read_images(str(folder))
    np.testing.assert_array_equal(b, to_model_range(real[:100]))
    out = compare_sets(a, b, "fid,pr,modes")
    assert out["features"] == "mnist" and out["num_fake"] == 100
    assert out["precision"] == 1.0  # every fake image is one of the real ones
    direct = compare.feature_metrics(*(read_and_extract(x) for x in (a, b)), ("fid",))
    assert out["fid"] == pytest.approx(direct["fid"], rel=1e-9)

    cmd = [sys.executable, "-m", "gan_jax.evaluate", "--compare", str(tmp_path / "real.npz"),
           str(folder), "--metrics", "fid"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["fid"] == pytest.approx(out["fid"], rel=1e-6)


def read_and_extract(images):
    from gan_jax.metrics.features.lenet import MnistExtractor
    return MnistExtractor()(images)


def test_errors_name_the_problem(trained, tmp_path):
    workdir = trained[0]
    with pytest.raises(GanJaxError, match="unknown metric"):
        evaluate_workdir(workdir, metrics="fdi")
    with pytest.raises(GanJaxError, match="no checkpoint at step 7"):
        evaluate_workdir(workdir, step=7)
    np.savez(tmp_path / "bad.npz", images=np.full((4, 28, 28, 1), 3.0, np.float32))
    with pytest.raises(GanJaxError, match=r"must lie in \[-1, 1\]"):
        read_images(str(tmp_path / "bad.npz"))
    with pytest.raises(GanJaxError, match="neither a folder"):
        read_images(str(tmp_path / "missing"))
    with pytest.raises(GanJaxError, match="differ in image shape"):
        compare_sets(np.zeros((8, 28, 28, 1)), np.zeros((8, 32, 32, 3)), "fid")
    proc = subprocess.run([sys.executable, "-m", "gan_jax.evaluate", "--workdir",
                           str(tmp_path / "nothing")], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2 and "does not exist" in proc.stderr
    assert "Traceback" not in proc.stderr


def _untrained(config):
    from gan_jax.train.loop import build_run
    data, spec, state, _ = build_run(config)
    return data, spec, state.g


def test_images_without_inception_weights_are_skipped_unless_asked(data_dir, monkeypatch,
                                                                   tmp_path):
    monkeypatch.setenv("GAN_JAX_INCEPTION_WEIGHTS", str(tmp_path / "absent.pth"))
    config = _config(data_dir)
    config.data.image_size = 32           # not MNIST's own size: Inception features by default
    data, spec, g = _untrained(config)
    out = Evaluator(spec, data, config, num_samples=20)(g)
    assert set(out["skipped"]) == {"fid", "is", "kid", "pr", "dc"}
    assert "pytorch-fid/releases" in out["skipped"]["fid"] and "fid" not in out
    with pytest.raises(GanJaxError, match="GAN_JAX_INCEPTION_WEIGHTS"):
        Evaluator(spec, data, config, metrics="fid")
    with pytest.raises(GanJaxError, match="'modes' needs MNIST"):
        Evaluator(spec, data, config, metrics="modes", features="mnist")


def test_stacked_mnist_is_evaluated_by_its_modes(data_dir):
    config = _config(data_dir)
    config.data.name = "stacked_mnist"
    data, spec, g = _untrained(config)
    out = Evaluator(spec, data, config, num_samples=300, baseline=True)(g)
    assert out["num_modes"] == 1000 and out["features"] == "mnist"
    assert out["modes_captured"] < 50 < out["real_modes_captured"]  # untrained G: collapsed
    with pytest.raises(GanJaxError, match="by its modes only"):
        Evaluator(spec, data, config, metrics="fid")
