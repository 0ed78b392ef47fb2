"""The one exception type for errors a user can cause.

Every message names the problem and the fix (wrong shape, missing data set, corrupt checkpoint,
NaN loss, unknown config key...). Code that catches user errors catches `GanJaxError`.
"""


class GanJaxError(Exception):
    """A problem with the user's input, data, config or workdir, with the fix in its message."""


class NonFiniteLossError(GanJaxError):
    """A loss (or, at a checkpoint, a parameter) became NaN or inf: training stopped, and the
    last checkpoint, which holds finite parameters, is untouched."""

    def __init__(self, step: int, metrics: dict, last_checkpoint=None, what: str = "loss"):
        self.step = step
        self.metrics = metrics
        self.last_checkpoint = last_checkpoint
        bad = ", ".join(f"{k}={v}" for k, v in sorted(metrics.items()))
        if last_checkpoint:
            kept = (f"the last checkpoint (step {last_checkpoint}) holds finite parameters and "
                    "is untouched; nothing after it was saved. To continue from it with a lower "
                    "learning rate, run the same command in the same workdir adding e.g. "
                    "--config.optim.d.lr=... --config.optim.g.lr=... (a learning-rate change is "
                    "accepted on resume)")
        else:
            kept = ("no checkpoint was saved before it. Start again with a lower learning rate "
                    "(e.g. --config.optim.d.lr=... --config.optim.g.lr=...), in the same workdir "
                    "or a new one")
        super().__init__(
            f"non-finite {what} at step {step} ({bad}). Training stopped; {kept}. Also check "
            "the data range.")


class TrainingInterrupted(Exception):
    """Training stopped on a signal (Ctrl-C: SIGINT; a job scheduler's preemption: SIGTERM)
    after saving a checkpoint of the last completed step; the same command resumes it."""

    EXIT_CODES = {"SIGINT": 130, "SIGTERM": 143}   # 128 + the signal's number, as shells do

    def __init__(self, signal_name: str, step, workdir: str):
        self.signal_name, self.step, self.workdir = signal_name, step, workdir
        self.exit_code = self.EXIT_CODES.get(signal_name, 130)
        where = (f"at step {step} with a checkpoint in {workdir}; run the same command again to "
                 "resume from it") if step else \
            "before its first checkpoint; run the same command again to start it"
        super().__init__(f"{signal_name}: training stopped {where}")


# SIGINT/SIGTERM names caught by the command line (`gan_jax.train.__main__`) before training
# began; the trainer's stop flag starts from them, so a stop during start-up exits 130/143
# like any other stop instead of killing the process half-started.
EARLY_SIGNALS = []
