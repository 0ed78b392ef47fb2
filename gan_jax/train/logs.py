"""Where a run's numbers go: metrics.jsonl (one JSON object per logged step, every scalar the
family's losses return), TensorBoard event files beside it (tensorboardX: no TensorFlow), and
curves.png at the end of a run.

On resume from step S, rows past S written by the interrupted run are dropped from
metrics.jsonl, and the new event file is written with TensorBoard's purge step S + 1, so both
read as one uninterrupted run.
"""
import json
import os

from gan_jax import viz
from gan_jax.train.workdir import MetricsLog

SKIPPED_IN_CURVES = ("step", "steps_per_sec")


class RunLog:

    def __init__(self, workdir: str, resume_step: int, tensorboard: bool = True):
        self.workdir = workdir
        self.jsonl = MetricsLog(workdir, resume_step)
        self.tb = None
        if tensorboard:
            from tensorboardX import SummaryWriter
            self.tb = SummaryWriter(workdir, purge_step=resume_step + 1 if resume_step else None,
                                    flush_secs=30)

    def write(self, row: dict):
        self.jsonl.write(row)
        if self.tb is not None:
            step = int(row["step"])
            for name, value in row.items():
                if name != "step" and isinstance(value, (int, float)) and not isinstance(value, bool):
                    self.tb.add_scalar(name, value, step)

    def close(self):
        if self.tb is not None:
            self.tb.close()
            self.tb = None


def read_rows(workdir: str):
    path = os.path.join(workdir, "metrics.jsonl")
    if not os.path.isfile(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def write_curves(workdir: str) -> str:
    """curves.png: the run's losses, D's mean outputs and every other logged training scalar
    against the step (evaluation rows left out)."""
    rows = [r for r in read_rows(workdir) if not any(k.startswith("eval_") for k in r)]
    keys = sorted({k for r in rows for k, v in r.items()
                   if k not in SKIPPED_IN_CURVES and isinstance(v, (int, float))})
    if not keys:
        return ""
    losses = [k for k in keys if k.endswith("loss")]
    outputs = [k for k in keys if k.startswith("mean_d")]
    other = [k for k in keys if k not in losses and k not in outputs]
    panels = [(title, group) for title, group in (("losses", losses), ("D's mean output", outputs),
                                                  ("other", other)) if group]
    return viz.save_curve_panels(rows, os.path.join(workdir, "curves.png"), panels)
