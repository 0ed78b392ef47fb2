"""Tests for the dcgan_mnist issue-16 scripts: experiments/dcgan_mnist_overfitting.py (D's outputs
on training, held-out and generated digits per checkpoint) and experiments/dcgan_mnist_ablations.py
(variants, table), on their pure parts and one tiny real run."""
import json
import os

import numpy as np
import pytest

from experiments import dcgan_mnist_ablations as ablations
from experiments import dcgan_mnist_overfitting as overfitting
from gan_jax.config import CONFIG_DIR, load_experiment
from gan_jax.gans import diffaugment
from gan_jax.train.loop import train
from gan_jax.validation import validate_config


def test_chunk_size_divides_n():
    assert overfitting.chunk_size(500, 128) == 125
    assert overfitting.chunk_size(512, 128) == 128
    assert overfitting.chunk_size(7, 128) == 7
    assert overfitting.chunk_size(13, 4) == 1


def test_summarise_known_values():
    row = overfitting.summarise(np.array([2.0, 3.0, -1.0, 4.0]), np.array([1.0, -2.0]),
                                np.array([-3.0, -1.0, 2.0, 0.0]))
    sig = lambda v: 1 / (1 + np.exp(-np.asarray(v)))             # noqa: E731
    assert row["acc_train"] == 0.75 and row["acc_heldout"] == 0.5 and row["acc_fake"] == 0.5
    assert row["r_t"] == pytest.approx(0.5)
    assert row["d_train"] == pytest.approx(sig([2.0, 3.0, -1.0, 4.0]).mean())
    assert row["d_gap"] == pytest.approx(row["d_train"] - sig([1.0, -2.0]).mean())
    assert row["acc_gap"] == pytest.approx(0.25)


def test_markdown_leaves_a_missing_fid_blank():
    row = {"step": 5, **overfitting.summarise(np.ones(2), np.ones(2), -np.ones(2)), "fid": None}
    text = overfitting.markdown([row, {**row, "step": 10, "fid": 12.345}])
    lines = text.splitlines()
    assert len(lines) == 4 and lines[2].endswith("|  |") and lines[3].endswith("| 12.3 |")


def _with(config, settings):
    """config with `section.key` settings applied (as --config.section.key=value would)."""
    for key, value in settings.items():
        section, field = key.split(".")
        assert field in config[section], key
        config[section][field] = value
    return config


def test_ablation_base_is_the_config_before_issue_16():
    from experiments.configs import dcgan_mnist
    settings = ablations.overrides("base", 2000, 500, 250)
    got = _with(dcgan_mnist.get_config(), settings)
    want = _with(dcgan_mnist.cpu_base_config(), {k: settings[k] for k in (
        "eval.every", "train.keep_checkpoints", "train.progress")})
    assert got.to_dict() == want.to_dict()
    wide = _with(dcgan_mnist.get_config(), ablations.overrides("wide", 4500, 0, 500))
    wide.train.keep_checkpoints, wide.train.progress = 3, True
    assert wide.to_dict() == dcgan_mnist.get_config().to_dict()      # the shipped recipe


def test_ablation_variants_are_valid_configs():
    base = load_experiment(os.path.join(CONFIG_DIR, "dcgan_mnist.py"))
    for name in ablations.VARIANTS:
        settings = ablations.overrides(name, 100, 50, 25)
        assert settings["train.steps"] == 100 and settings["eval.every"] == 50
        config = base.copy_and_resolve_references()
        for key, value in settings.items():
            *path, field = key.split(".")
            section = config
            for part in path:
                section = section[part]
            assert field in section, key
            section[field] = value
        validate_config(config)            # every variant is a config the trainer accepts
        diffaugment.parse_policy(settings.get("vanilla.diffaugment", "none"))
        command = ablations.train_command("W", settings)
        assert "--config=dcgan_mnist" in command and "--workdir=W" in command


def test_ablation_table_row():
    e = {"fid": 25.04, "is": 9.1, "precision": 0.81, "recall": 0.77, "classes_covered": 10}
    rows = [{"what": "x", "steps": 10, "eval": e, "g_eval": {**e, "fid": 30.0},
             "timing": {"wall_s": 90, "steps_per_sec": 7.25, "load_before": 1.0,
                        "load_after": 2.5}},
            {"what": "y", "steps": 20, "eval": e}]
    lines = ablations.table(rows).splitlines()
    assert "| x | 10 | 25.0 / 30.0 | 9.10 | 0.81 / 0.77 | 10 | 1.5 min | 7.2 | 1.0 / 2.5 |" \
        == lines[2]
    assert lines[3].startswith("| y | 20 | 25.0 |")


@pytest.mark.slow
def test_overfitting_diagnosis_of_a_tiny_run(tmp_path, data_dir):
    """Two checkpoints of a 4-step run with DiffAugment: one row each, in [0, 1], the run's
    FID at its evaluated step, the same numbers when run twice, JSON written."""
    config = load_experiment(os.path.join(CONFIG_DIR, "dcgan_mnist.py"))
    config.model.g_width = config.model.d_width = 4
    config.vanilla.diffaugment = "translation,cutout"
    t = config.train
    t.steps, t.batch_size, t.ckpt_every, t.keep_checkpoints, t.progress = 4, 16, 2, 10, False
    t.log_every = t.sample_every = 2
    config.eval.num_samples, config.eval.metrics, config.eval.every = 100, "fid", 2
    workdir = str(tmp_path / "run")
    train(config, workdir)
    out = tmp_path / "rows.json"
    rows = overfitting.main(["--workdir", workdir, "--n", "20", "--out", str(out)])[workdir]
    assert [r["step"] for r in rows] == [2, 4]
    for row in rows:
        for key in ("d_train", "d_heldout", "d_fake", "acc_train", "acc_heldout", "acc_fake"):
            assert 0.0 <= row[key] <= 1.0
        assert row["fid"] is not None and row["fid"] > 0
    assert json.loads(out.read_text())[workdir] == rows
    again = overfitting.diagnose(workdir, n=20)
    assert again == rows
    plain = overfitting.diagnose(workdir, n=20, augment="none")
    assert plain[0]["d_train"] != rows[0]["d_train"]
