"""Command line: python -m gan_jax.train --config experiments/configs/NAME.py --workdir DIR
(or the console script gan-jax-train after `pip install -e .`).

Overrides: --config.train.steps=2000 --config.loss.name=hinge ... (ml_collections
config_flags; a mistyped key fails with "Did you mean ...?"). `--config=NAME` is short for
experiments/configs/NAME.py. Running again on a workdir with a checkpoint resumes from it.

Exit codes: 0 done; 2 a GanJaxError (the message names the problem and the fix; nothing was
lost); 130 stopped by SIGINT (Ctrl-C) and 143 stopped by SIGTERM (a job scheduler's preemption),
both after saving a checkpoint of the last completed step: run the same command to resume.

Several processes (one per host; README "Scaling out"): add `--coordinator HOST:PORT
--num_processes N --process_id I` to each process's command (process 0 listens on PORT), or
`--distributed` where JAX finds the cluster itself (Cloud TPU, SLURM); the mapper must be
`--config.train.mapper=shard_map`. Only process 0 writes the run's files and prints.
"""
import sys

from absl import app, flags, logging

from gan_jax.config import check_override_keys, resolve_config_arg
from gan_jax.errors import EARLY_SIGNALS, GanJaxError

FLAGS = flags.FLAGS


def define_flags():
    """The command line's flags (defined only when run as a program, so importing this module
    never clashes with other modules' absl flags)."""
    from ml_collections import config_flags
    config_flags.DEFINE_config_file("config", None, "experiment config file", lock_config=True)
    flags.DEFINE_string("workdir", None, "run directory (created; resumed if it has a checkpoint)")
    flags.DEFINE_bool("overwrite", False, "accept a config that differs from the workdir's")
    flags.DEFINE_string("coordinator", "", "HOST:PORT of process 0, for a multi-process run")
    flags.DEFINE_integer("num_processes", 0, "number of processes of a multi-process run")
    flags.DEFINE_integer("process_id", -1, "this process's index, 0 .. num_processes - 1")
    flags.DEFINE_bool("distributed", False, "jax.distributed.initialize() from the cluster's "
                      "environment (Cloud TPU, SLURM, Open MPI)")
    flags.DEFINE_integer("heartbeat_timeout_s", 100, "a multi-process run stops with an error "
                         "when a peer process is silent this long (e.g. killed)")
    flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)  # orbax logs every save at INFO
    from gan_jax.errors import TrainingInterrupted
    from gan_jax.train import processes
    try:
        # before anything else touches JAX:
        processes.initialize(FLAGS.coordinator, FLAGS.num_processes, FLAGS.process_id,
                             auto=FLAGS.distributed, heartbeat_timeout_s=FLAGS.heartbeat_timeout_s)
        from gan_jax.train.loop import train
        _, results = train(FLAGS.config, FLAGS.workdir, overwrite=FLAGS.overwrite)
    except GanJaxError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    except TrainingInterrupted as e:
        print(f"stopped: {e}", file=sys.stderr)
        sys.exit(e.exit_code)
    if results is not None:         # None on the processes other than 0
        print({k: v for k, v in results.items() if not isinstance(v, list)})


def _catch_early_signals():
    """Record SIGINT/SIGTERM from the first line on (imports and config loading take seconds);
    the trainer's stop flag takes them over (`gan_jax.errors.EARLY_SIGNALS`)."""
    import signal

    def record(signum, frame):
        del frame
        EARLY_SIGNALS.append(signal.Signals(signum).name)

    record.records_early_signals = True     # the trainer restores Python's defaults after it
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, record)


def run():
    _catch_early_signals()
    try:
        sys.argv = resolve_config_arg(sys.argv)
        check_override_keys(sys.argv)
    except GanJaxError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    define_flags()
    app.run(main)


if __name__ == "__main__":
    run()
