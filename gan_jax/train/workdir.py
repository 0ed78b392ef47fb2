"""The run directory: resolved config.json, metrics.jsonl, samples/, checkpoints/, eval.json.

A workdir belongs to one config. Running again with the same config resumes; a config that differs
(other than the keys in RESUMABLE_KEYS, which only say how long to train and how often to write)
is refused unless `overwrite=True`, which keeps the old file as config.<time>.json.
"""
import json
import os
import time

from gan_jax.config import complete, to_json_dict
from gan_jax.errors import GanJaxError

# Keys that may change between a run and its resumption.
RESUMABLE_KEYS = ("train.steps", "train.log_every", "train.sample_every", "train.ckpt_every",
                  "train.keep_checkpoints", "train.progress", "train.tensorboard")
RESUMABLE_PREFIXES = ("eval.",)


def flatten(tree: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in tree.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, name + "."))
        else:
            out[name] = v
    return out


config_to_json_dict = to_json_dict


def prepare_workdir(workdir: str, config, overwrite: bool = False) -> dict:
    """Create the workdir and write config.json; refuse a different config there."""
    os.makedirs(os.path.join(workdir, "samples"), exist_ok=True)
    path = os.path.join(workdir, "config.json")
    new = config_to_json_dict(config)
    if os.path.exists(path):
        try:
            with open(path) as f:
                old = json.load(f)
        except json.JSONDecodeError as e:
            raise GanJaxError(f"{path} is not valid JSON ({e}); fix or move it away") from e
        diff = _differences(old, new)
        if diff and not overwrite:
            shown = "; ".join(f"{k}: {a!r} -> {b!r}" for k, a, b in diff[:10])
            raise GanJaxError(
                f"{workdir} holds a run with a different config ({shown}). Use a new --workdir, "
                "or pass --overwrite to continue this run with the new config (its checkpoints "
                "are kept and resumed; the old config is saved as config.<time>.json).")
        if diff:
            os.replace(path, os.path.join(workdir, f"config.{time.strftime('%Y%m%d-%H%M%S')}.json"))
    with open(path, "w") as f:
        json.dump(new, f, indent=2, sort_keys=True)
    return new


def _differences(old: dict, new: dict):
    """Keys whose values differ, reading keys that the old config.json lacks (written before
    they existed) as their defaults."""
    a, b = flatten(complete(old)), flatten(new)
    keys = sorted(set(a) | set(b))
    return [(k, a.get(k), b.get(k)) for k in keys
            if a.get(k) != b.get(k) and k not in RESUMABLE_KEYS
            and not k.startswith(RESUMABLE_PREFIXES)]


class MetricsLog:
    """metrics.jsonl: one JSON object per logged step. On resume, rows written after the restored
    step (by the interrupted run) are dropped so the file reads as one uninterrupted run."""

    def __init__(self, workdir: str, resume_step: int):
        self.path = os.path.join(workdir, "metrics.jsonl")
        if os.path.exists(self.path):
            with open(self.path) as f:
                rows = [line for line in f if line.strip()]
            keep = [r for r in rows if json.loads(r).get("step", 0) <= resume_step]
            if len(keep) != len(rows):
                with open(self.path, "w") as f:
                    f.writelines(keep)

    def write(self, row: dict):
        with open(self.path, "a") as f:
            f.write(json.dumps(row) + "\n")


def write_json(path: str, obj: dict):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
    os.replace(tmp, path)
