"""The training loop: data stream -> mapped step -> logs, pictures, checkpoints, evaluation.

Nothing else lives here, and nothing here knows a family or a network: the run's parts come
from `gan_jax.registry` (data, GANSpec), the pictures and the numbers from the family's own
writer and evaluators. Metrics of a call are fetched after the next call is dispatched, so
logging never stalls compute.

What protects a run (docs/design.md, "Reliability"):
- Everything that can fail without writing is checked first: the whole config
  (`gan_jax.validation`), the data and the model (built), the workdir's config and its latest
  checkpoint (compatible, readable, digests intact). Only then is config.json written.
- One trainer per workdir (`WorkdirLock`).
- Before a checkpoint is saved, every loss up to it and every parameter of the state are
  checked (`gan_jax.train.finite`): a NaN/inf stops the run (NonFiniteLossError, naming the step and the last
  checkpoint, which is finite and untouched); no non-finite state is ever saved.
- SIGINT (Ctrl-C) and SIGTERM (preemption) only set a flag; the loop finishes the call in
  flight, saves the consistent (state, data position, metrics) of the last completed step and
  raises TrainingInterrupted (exit codes 130 / 143 on the command line). The same command
  resumes.
"""
import contextlib
import os
import signal
import sys
import threading
import time

import jax
from tqdm import tqdm

from gan_jax import registry
from gan_jax.errors import EARLY_SIGNALS, TrainingInterrupted
from gan_jax.evaluation import Evaluator
from gan_jax.train import processes
from gan_jax.train.checkpoint import Checkpointer
from gan_jax.train.finite import check_finite_losses, check_finite_state
from gan_jax.train.logs import RunLog, write_curves
from gan_jax.train.optimizers import make_optimizers
from gan_jax.train.parallel import DeviceMapper, check_batch_size, select_devices
from gan_jax.train.state import initial_state
from gan_jax.train.step import make_train_step, scan_steps
from gan_jax.train.workdir import (WorkdirLock, check_config, unwritable, write_config,
                                   write_evaluation)
from gan_jax.validation import validate_config


def host_batches(data, position: int, t, rows=None):
    """Global batches for one call, [steps_per_call, d_steps, B, ...] (with `rows`, only those
    rows of B: a process's own), and the new position."""
    count = t.steps_per_call * t.d_steps
    batch = data.batches(position, count, t.batch_size, rows)
    batch = {k: v.reshape((t.steps_per_call, t.d_steps) + v.shape[1:]) for k, v in batch.items()}
    return batch, position + count * t.batch_size


def build_run(config, devices=None, data=None):
    """Everything a run needs that does not depend on the workdir (`data`: a stream to use
    instead of config.data's, e.g. in a benchmark)."""
    t = validate_config(config).train
    devices = devices or select_devices(t.num_devices)
    check_batch_size(t.batch_size, len(devices))
    data = data if data is not None else registry.make_stream(config)
    spec = registry.make_spec(config, data)
    state = initial_state(config, spec, data, num_devices=len(devices))
    tx_g, tx_d = make_optimizers(config)

    def steps_of(phase_spec):
        return scan_steps(make_train_step(phase_spec, tx_g, tx_d, d_steps=t.d_steps,
                                          transform_batch=data.transform,
                                          ema_decay=t.ema_decay, ema_rampup=t.ema_rampup))

    if spec.phase_of is None:
        mapper = DeviceMapper(steps_of(spec), devices, mapper=t.mapper)
    else:    # one compiled step per phase (PGGAN's levels), built on first use
        mapper = DeviceMapper(lambda phase: steps_of(spec.at_phase(phase)), devices,
                              mapper=t.mapper, phase_of=spec.phase_of)
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


class StopFlag:
    """SIGINT and SIGTERM, while training, only record that a stop was asked for; the loop
    reads `signal` between calls. (Handlers can only be set in the main thread; elsewhere the
    defaults stay.)"""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.signal = None
        self._previous = {}

    def _handle(self, signum, frame):
        del frame
        if self.signal is None:
            self.signal = signal.Signals(signum).name
            print(f"\n{self.signal}: finishing the current step, then saving a checkpoint "
                  "(the same command resumes)...", file=sys.stderr, flush=True)
        else:
            print(f"\n{signal.Signals(signum).name}: already stopping, saving the checkpoint; "
                  "please wait", file=sys.stderr, flush=True)

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for s in self.SIGNALS:
                previous = signal.signal(s, self._handle)
                if getattr(previous, "records_early_signals", False):   # the CLI's: after
                    previous = (signal.default_int_handler if s == signal.SIGINT  # training,
                                else signal.SIG_DFL)                     # Python's defaults
                self._previous[s] = previous
        if EARLY_SIGNALS:       # caught by the command line while it was starting up
            self.signal = EARLY_SIGNALS[0]
        return self

    def release(self):
        """Give the signals back to their previous handlers (before the final evaluation)."""
        for s, handler in self._previous.items():
            signal.signal(s, handler)
        self._previous = {}

    def __exit__(self, *exc):
        self.release()
        return False


def train(config, workdir: str, overwrite: bool = False, stop_at=None):
    """Train (or resume) the run of `config` in `workdir`; returns (state, eval results).
    `stop_at` ends this invocation early at that step (with a checkpoint), as an interruption.
    Raises TrainingInterrupted after a SIGINT/SIGTERM (with a checkpoint saved)."""
    primary = processes.is_primary()    # with several processes only process 0 writes files
    with StopFlag() as stop:        # from here a SIGINT/SIGTERM stops the run cleanly
        data, spec, state, mapper = build_run(config)     # validates the whole config first
        with WorkdirLock(workdir) if primary else contextlib.nullcontext():
            check_config(workdir, config, overwrite)
            processes.barrier("gan_jax: config checked")
            try:
                ckpt = Checkpointer(os.path.join(workdir, "checkpoints"),
                                    keep=config.train.keep_checkpoints)
            except PermissionError as e:
                raise unwritable(os.path.join(workdir, "checkpoints"), e) from e
            try:
                position, latest = 0, ckpt.latest_step()
                if latest is not None:
                    state, position = ckpt.restore(jax.eval_shape(lambda: state), latest)
                state = mapper.put_state(state)
                if primary:
                    write_config(workdir, config)
                state, results = _run(config, workdir, data, spec, state, mapper, ckpt,
                                      position, latest, stop_at, stop)
            finally:
                ckpt.wait()
                ckpt.close()
                if hasattr(data, "close"):      # read-ahead workers (data.read_workers)
                    data.close()
                processes.barrier("gan_jax: run finished")
    return state, results


def _run(config, workdir, data, spec, state, mapper, ckpt, position, latest, stop_at, stop):
    """The loop of `train`, from `state` (restored from checkpoint `latest`, or None)."""
    t = config.train
    primary = processes.is_primary()
    start = int(processes.to_local(state.step))
    end = min(t.steps, stop_at) if stop_at else t.steps
    log = RunLog(workdir, start, tensorboard=t.tensorboard) if primary else NoFiles()
    pictures = spec.snapshots(config.seed) if primary else NoFiles()
    bar = tqdm(total=t.steps, initial=start, unit="step", file=sys.stderr, mininterval=0.5,
               dynamic_ncols=True, disable=not (t.progress and primary))
    pending = []  # [(first_step, device metrics)] dispatched but not yet checked
    last_log = [start, time.perf_counter()]
    saved = [latest]   # the last checkpoint's step
    evaluator = None  # built on first use: periodic evaluations share its compiles and features
    rows = mapper.rows(t.batch_size)  # the global batch's rows this process reads (None: all)

    def drain():
        for first, metrics in pending:
            metrics = jax.device_get(processes.to_local(metrics))
            check_finite_losses(metrics, first, saved[0])
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
        check_finite_state(state, step, saved[0])
        ckpt.save(step, state, position)
        saved[0] = step

    try:
        step = start
        try:
            while step < end and not processes.any_process(stop.signal is not None):
                batch, next_position = host_batches(data, position, t, rows)
                state, metrics = mapper(state, batch, step=step, batch_size=t.batch_size)
                position = next_position
                if pending:  # the previous call's metrics, now that this one is dispatched
                    drain()
                pending.append((step + 1, metrics))
                step += t.steps_per_call
                bar.update(t.steps_per_call)
                if step % t.sample_every == 0 or step == end:
                    drain()
                    pictures.write(workdir, step, *processes.to_local(
                        (state.ema_g or state.g, state.d)))
                if step % t.ckpt_every == 0 or step == end:
                    save(step)
                if (config.eval.every and step % config.eval.every == 0 and step < t.steps
                        and primary):
                    drain()
                    evaluator = evaluator or make_evaluator(spec, data, config)
                    log.write(eval_row(step, evaluator(
                        processes.to_local(state.ema_g or state.g))))
            drain()
            stopped = processes.any_process(stop.signal is not None)
            if stopped and step != saved[0] and step > start:
                save(step)
        finally:
            bar.close()
            ckpt.wait()        # the last save is complete before the signals are given back
        if stopped:
            raise TrainingInterrupted(stop.signal or "a stop on another process", saved[0],
                                      workdir)
        stop.release()
        if step < t.steps or not primary:  # stopped early on purpose; or not the writer
            return state, None
        pictures.finish(workdir)
        evaluator = evaluator or make_evaluator(spec, data, config)
        results = {"step": step, "ema": state.ema_g is not None,
                   **evaluator(processes.to_local(state.ema_g or state.g))}
        if config.eval.every and start < t.steps:
            log.write(eval_row(step, results))
    finally:
        log.close()
    write_curves(workdir)
    write_evaluation(workdir, results)
    return state, results


class NoFiles:
    """The run log and picture writer of a process that writes no files (not process 0)."""

    def write(self, *args, **kwargs):
        return None

    def finish(self, *args, **kwargs):
        return None

    def close(self):
        return None
