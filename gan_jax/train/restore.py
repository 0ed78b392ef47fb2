"""A trained run, back from its workdir: config, data, GANSpec and checkpointed TrainState.

`load_run(workdir)` is what the tools that use a trained generator start from
(`python -m gan_jax.sample`, evaluation). It rebuilds the config from config.json, the data and
the model as the trainer built them, and restores the newest checkpoint (or a given step) into
that template. Nothing in the workdir is written or changed.
"""
import json
import os
from typing import Any, NamedTuple

import jax
import ml_collections

from gan_jax.build import build_data, build_gan
from gan_jax.config import base_config
from gan_jax.errors import GanJaxError
from gan_jax.train.checkpoint import Checkpointer
from gan_jax.train.optimizers import make_optimizer
from gan_jax.train.state import create_train_state

TRAIN_HINT = "train first with python -m gan_jax.train --config CONFIG --workdir DIR"


class LoadedRun(NamedTuple):
    workdir: str
    config: ml_collections.ConfigDict
    data: Any           # ImageStream or ToyStream
    spec: Any           # GANSpec
    state: Any          # TrainState of `step`
    step: int
    g_variables: Any    # the EMA of G where kept and asked for, else G's own variables
    ema: bool           # whether g_variables is the EMA


def _tuples(tree):
    """JSON lists back to the tuples the config held (config.json writes tuples as lists)."""
    if isinstance(tree, dict):
        return {k: _tuples(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return tuple(_tuples(v) for v in tree)
    return tree


def _with_defaults(defaults: dict, tree: dict) -> dict:
    """`tree` with the keys it lacks taken from `defaults` (runs written before a key existed
    read it as its default, which keeps the old behaviour)."""
    out = dict(defaults)
    for k, v in tree.items():
        out[k] = _with_defaults(defaults[k], v) if isinstance(v, dict) and isinstance(
            defaults.get(k), dict) else v
    return out


def load_config(workdir: str) -> ml_collections.ConfigDict:
    """The run's resolved config from workdir/config.json, locked against new keys."""
    if not os.path.isdir(workdir):
        raise GanJaxError(f"workdir {workdir} does not exist; {TRAIN_HINT}, or point --workdir "
                          "at an existing run")
    path = os.path.join(workdir, "config.json")
    if not os.path.isfile(path):
        raise GanJaxError(f"{workdir} has no config.json, so it is not a training run's workdir; "
                          f"{TRAIN_HINT}")
    try:
        with open(path) as f:
            tree = json.load(f)
    except json.JSONDecodeError as e:
        raise GanJaxError(f"{path} is not valid JSON ({e}); restore it from the run's "
                          "config.<time>.json or the experiment config") from e
    config = ml_collections.ConfigDict(_with_defaults(base_config().to_dict(), _tuples(tree)))
    config.lock()
    return config


def checkpoint_steps(workdir: str) -> list:
    """The steps of the complete checkpoints under workdir/checkpoints, oldest first."""
    directory = os.path.join(workdir, "checkpoints")
    if not os.path.isdir(directory):
        return []
    return sorted(int(name) for name in os.listdir(directory) if name.isdigit())


def abstract_state(config, data, spec):
    """The shapes and dtypes of the run's TrainState, as the trainer creates it (no compute)."""
    t = config.train
    example = data.transform(jax.tree.map(lambda x: x[0], data.batches(0, 1, t.batch_size)))
    tx_g, tx_d = make_optimizer(config.optim.g), make_optimizer(config.optim.d)
    return jax.eval_shape(lambda: create_train_state(
        spec, tx_g, tx_d, jax.random.key(config.seed), example, use_ema=t.ema_decay > 0))


def load_run(workdir: str, step=None, use_ema: bool = True) -> LoadedRun:
    """Rebuild the run in `workdir` and restore its latest checkpoint (or the one of `step`).
    `g_variables` is the EMA of G when the run kept one and `use_ema`, else G's variables."""
    config = load_config(workdir)
    steps = checkpoint_steps(workdir)
    if not steps:
        raise GanJaxError(f"{workdir} has no checkpoint yet; {TRAIN_HINT} (checkpoints are "
                          "written every train.ckpt_every steps and at the end)")
    if step is not None and int(step) not in steps:
        raise GanJaxError(f"{workdir} has no checkpoint at step {step}; available steps: {steps}")
    data = build_data(config)
    spec = build_gan(config, data)
    ckpt = Checkpointer(os.path.join(workdir, "checkpoints"), keep=config.train.keep_checkpoints)
    try:
        state, _ = ckpt.restore(abstract_state(config, data, spec), step)
    finally:
        ckpt.close()
    ema = use_ema and state.ema_g is not None
    return LoadedRun(workdir=workdir, config=config, data=data, spec=spec, state=state,
                     step=int(state.step), g_variables=state.ema_g if ema else state.g, ema=ema)
