"""Command line: python -m gan_jax.train --config experiments/configs/NAME.py --workdir DIR
(or the console script gan-jax-train after `pip install -e .`).

Overrides: --config.train.steps=2000 --config.loss.name=hinge ... (ml_collections
config_flags; a mistyped key fails with "Did you mean ...?"). `--config=NAME` is short for
experiments/configs/NAME.py. Running again on a workdir with a checkpoint resumes from it.

Exit codes: 0 done; 2 a GanJaxError (the message names the problem and the fix; nothing was
lost); 130 stopped by SIGINT (Ctrl-C) and 143 stopped by SIGTERM (a job scheduler's preemption),
both after saving a checkpoint of the last completed step: run the same command to resume.
"""
import sys

from absl import app, flags, logging

from gan_jax.config import check_override_keys, resolve_config_arg
from gan_jax.errors import GanJaxError

FLAGS = flags.FLAGS


def define_flags():
    """The command line's flags (defined only when run as a program, so importing this module
    never clashes with other modules' absl flags)."""
    from ml_collections import config_flags
    config_flags.DEFINE_config_file("config", None, "experiment config file", lock_config=True)
    flags.DEFINE_string("workdir", None, "run directory (created; resumed if it has a checkpoint)")
    flags.DEFINE_bool("overwrite", False, "accept a config that differs from the workdir's")
    flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)  # orbax logs every save at INFO
    from gan_jax.errors import TrainingInterrupted
    from gan_jax.train.loop import train
    try:
        _, results = train(FLAGS.config, FLAGS.workdir, overwrite=FLAGS.overwrite)
    except GanJaxError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    except TrainingInterrupted as e:
        print(f"stopped: {e}", file=sys.stderr)
        sys.exit(e.exit_code)
    print({k: v for k, v in results.items() if not isinstance(v, list)})


def run():
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
