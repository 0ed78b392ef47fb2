"""The one exception type for errors a user can cause.

Every message names the problem and the fix (wrong shape, missing data set, corrupt checkpoint,
NaN loss, unknown config key...). Code that catches user errors catches `GanJaxError`.
"""


class GanJaxError(Exception):
    """A problem with the user's input, data, config or workdir, with the fix in its message."""


class NonFiniteLossError(GanJaxError):
    """A loss became NaN or inf; training stopped and the last good checkpoint is untouched."""

    def __init__(self, step: int, metrics: dict):
        self.step = step
        self.metrics = metrics
        bad = ", ".join(f"{k}={v}" for k, v in sorted(metrics.items()))
        super().__init__(
            f"non-finite loss at step {step} ({bad}). Training stopped; the last checkpoint "
            "saved before this step is untouched. Lower the learning rate or check the data "
            "range, then resume (same workdir) or start again in a new workdir.")
