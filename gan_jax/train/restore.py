"""A trained run, back from its workdir: config, GANSpec and checkpointed TrainState.

`load_run(workdir)` is what the tools that use a trained generator start from
(`python -m gan_jax.sample`, `python -m gan_jax.evaluate`). It rebuilds the config from
config.json (keys added since the run was written read as their defaults), the model as the
trainer built it, and restores the newest checkpoint (or a given step) into the template that
`initial_state` traces from the data's description: the data set itself is not read (the
evaluators read it when they need it). Nothing in the workdir is written or changed.
"""
import json
import os
from typing import Any, NamedTuple

import jax
import ml_collections

from gan_jax import registry
from gan_jax.config import from_json
from gan_jax.errors import GanJaxError
from gan_jax.train.checkpoint import Checkpointer
from gan_jax.train.state import initial_state

TRAIN_HINT = "train first with python -m gan_jax.train --config CONFIG --workdir DIR"


class LoadedRun(NamedTuple):
    workdir: str
    config: ml_collections.ConfigDict
    data: Any           # DataInfo: the run's data described (not loaded)
    spec: Any           # GANSpec
    state: Any          # TrainState of `step`
    step: int
    g_variables: Any    # the EMA of G where kept and asked for, else G's own variables
    ema: bool           # whether g_variables is the EMA


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
    return from_json(tree)


def checkpoint_steps(workdir: str) -> list:
    """The steps of the complete checkpoints under workdir/checkpoints, oldest first."""
    directory = os.path.join(workdir, "checkpoints")
    if not os.path.isdir(directory):
        return []
    return sorted(int(name) for name in os.listdir(directory) if name.isdigit())


def abstract_state(config, spec, data, stored=None):
    """The shapes and dtypes of the run's TrainState, as the trainer creates it (traced, no
    compute, no data read). `stored`: the checkpoint's own metadata tree, whose per-device
    state (`extra`, one slice per training device) fixes the device count to restore."""
    num_devices = 1
    extra = stored.get("extra") if isinstance(stored, dict) else getattr(stored, "extra", None)
    leaves = [x for x in jax.tree.leaves(extra) if hasattr(x, "shape")] if extra else []
    if leaves:
        num_devices = int(leaves[0].shape[0])
    return jax.eval_shape(lambda: initial_state(config, spec, data, num_devices=num_devices))


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
    data = registry.data_info(config)
    spec = registry.make_spec(config, data)
    ckpt = Checkpointer(os.path.join(workdir, "checkpoints"), keep=config.train.keep_checkpoints)
    try:
        state, _ = ckpt.restore(lambda stored: abstract_state(config, spec, data, stored), step)
    finally:
        ckpt.close()
    ema = use_ema and state.ema_g is not None
    return LoadedRun(workdir=workdir, config=config, data=data, spec=spec, state=state,
                     step=int(state.step), g_variables=state.ema_g if ema else state.g, ema=ema)
