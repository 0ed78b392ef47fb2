"""The training loop: data stream -> mapped step -> logs, pictures, checkpoints, evaluation.

Nothing else lives here, and nothing here knows a family or a network: the run's parts come
from `gan_jax.registry` (data, GANSpec), the pictures and the numbers from the family's own
writer and evaluators. Metrics of a call are fetched after the next call is dispatched, so
logging never stalls compute; before a checkpoint is saved every loss up to it is checked, so a
NaN/inf loss stops the run (NonFiniteLossError, naming the step) with the last good checkpoint
untouched. Ctrl-C saves a checkpoint at the current step before exiting.
"""
import os
import sys
import time

import jax
import numpy as np
from tqdm import tqdm

from gan_jax import registry
from gan_jax.errors import GanJaxError, NonFiniteLossError
from gan_jax.evaluation import Evaluator
from gan_jax.train.checkpoint import Checkpointer
from gan_jax.train.logs import RunLog, write_curves
from gan_jax.train.optimizers import make_optimizers
from gan_jax.train.parallel import DeviceMapper, check_batch_size, select_devices
from gan_jax.train.state import initial_state
from gan_jax.train.step import make_train_step, scan_steps
from gan_jax.train.workdir import prepare_workdir, write_json


def check_intervals(t):
    s = t.steps_per_call
    for name in ("steps", "log_every", "sample_every", "ckpt_every"):
        value = getattr(t, name)
        if value <= 0 or value % s:
            raise GanJaxError(f"train.{name}={value} must be a positive multiple of "
                              f"train.steps_per_call={s}")


def host_batches(data, position: int, t):
    """Global batches for one call, [steps_per_call, d_steps, B, ...], and the new position."""
    count = t.steps_per_call * t.d_steps
    batch = data.batches(position, count, t.batch_size)
    batch = {k: v.reshape((t.steps_per_call, t.d_steps) + v.shape[1:]) for k, v in batch.items()}
    return batch, position + count * t.batch_size


def build_run(config, devices=None, data=None):
    """Everything a run needs that does not depend on the workdir (`data`: a stream to use
    instead of config.data's, e.g. in a benchmark)."""
    t = config.train
    check_intervals(t)
    devices = devices or select_devices(t.num_devices)
    check_batch_size(t.batch_size, len(devices))
    data = data if data is not None else registry.make_stream(config)
    spec = registry.make_spec(config, data)
    state = initial_state(config, spec, data, num_devices=len(devices))
    tx_g, tx_d = make_optimizers(config)
    step = make_train_step(spec, tx_g, tx_d, d_steps=t.d_steps, transform_batch=data.transform,
                           ema_decay=t.ema_decay)
    mapper = DeviceMapper(scan_steps(step), devices, mapper=t.mapper)
    return data, spec, state, mapper


def make_evaluator(spec, data, config) -> Evaluator:
    e = config.eval
    return Evaluator(spec, data, config, metrics=e.metrics, features=e.features,
                     inception_weights=e.inception_weights or None, baseline=e.baseline)


def eval_row(step: int, results: dict) -> dict:
    """A metrics.jsonl row of an evaluation: its numbers as eval_<name> (lists left out)."""
    return {"step": step, **{f"eval_{k}": v for k, v in results.items()
                             if isinstance(v, (int, float)) and not isinstance(v, bool)}}


def metric_order(spec, names):
    """The family's progress-bar metrics first, then every other metric by name."""
    shown = [k for k in spec.progress if k in names]
    return shown + sorted(k for k in names if k not in shown)


def _first_non_finite(metrics: dict, first_step: int):
    bad = ~np.all([np.isfinite(v) for v in metrics.values()], axis=0)
    if bad.any():
        i = int(np.argmax(bad))
        raise NonFiniteLossError(first_step + i, {k: float(v[i]) for k, v in metrics.items()})


def train(config, workdir: str, overwrite: bool = False, stop_at=None):
    """Train (or resume) the run of `config` in `workdir`; returns (state, eval results).
    `stop_at` ends this invocation early at that step (with a checkpoint), as an interruption."""
    t = config.train
    prepare_workdir(workdir, config, overwrite)
    data, spec, state, mapper = build_run(config)
    ckpt = Checkpointer(os.path.join(workdir, "checkpoints"), keep=t.keep_checkpoints)
    position = 0
    if ckpt.latest_step() is not None:
        state, position = ckpt.restore(jax.eval_shape(lambda: state))
    state = mapper.put_state(state)
    start = int(state.step)
    end = min(t.steps, stop_at) if stop_at else t.steps
    log = RunLog(workdir, start, tensorboard=t.tensorboard)
    pictures = spec.snapshots(config.seed)
    bar = tqdm(total=t.steps, initial=start, unit="step", file=sys.stderr, mininterval=0.5,
               dynamic_ncols=True, disable=not t.progress)
    pending = []  # [(first_step, device metrics)] dispatched but not yet checked
    last_log = [start, time.perf_counter()]
    saved_step = start
    evaluator = None  # built on first use: periodic evaluations share its compiles and features

    def drain():
        for first, metrics in pending:
            metrics = jax.device_get(metrics)
            _first_non_finite(metrics, first)
            names = metric_order(spec, metrics)
            for i in range(t.steps_per_call):
                step = first + i
                if step % t.log_every == 0:
                    now = time.perf_counter()
                    row = {"step": step, **{k: float(metrics[k][i]) for k in names}}
                    row["steps_per_sec"] = (step - last_log[0]) / max(now - last_log[1], 1e-9)
                    last_log[:] = [step, now]
                    log.write(row)
                    bar.set_postfix({k: f"{row[k]:.3f}" for k in spec.progress if k in row})
        pending.clear()

    def save(step):
        drain()
        ckpt.save(step, state, position)

    try:
        try:
            step = start
            while step < end:
                batch, position = host_batches(data, position, t)
                state, metrics = mapper(state, batch)
                if pending:  # the previous call's metrics, now that this one is dispatched
                    drain()
                pending.append((step + 1, metrics))
                step += t.steps_per_call
                bar.update(t.steps_per_call)
                if step % t.sample_every == 0 or step == end:
                    drain()
                    pictures.write(workdir, step, state.ema_g or state.g, state.d)
                if step % t.ckpt_every == 0 or step == end:
                    save(step)
                    saved_step = step
                if config.eval.every and step % config.eval.every == 0 and step < t.steps:
                    drain()
                    evaluator = evaluator or make_evaluator(spec, data, config)
                    log.write(eval_row(step, evaluator(state.ema_g or state.g)))
            drain()
        except KeyboardInterrupt:
            if step > saved_step:
                save(step)
            raise
        finally:
            bar.close()
            ckpt.wait()
        ckpt.close()
        if step < t.steps:  # stopped early on purpose
            return state, None
        pictures.finish(workdir)
        evaluator = evaluator or make_evaluator(spec, data, config)
        results = {"step": int(state.step), "ema": state.ema_g is not None,
                   **evaluator(state.ema_g or state.g)}
        if config.eval.every and start < t.steps:
            log.write(eval_row(int(state.step), results))
    finally:
        log.close()
    write_curves(workdir)
    write_json(os.path.join(workdir, "eval.json"), results)
    return state, results
