"""The run directory: resolved config.json, metrics.jsonl, samples/, checkpoints/, eval.json,
and the lock that keeps a second trainer out.

A workdir belongs to one config. Running again with the same config resumes; a config that differs
(other than the keys in RESUMABLE_KEYS, which say how long to train, how often to write, and the
learning rates) is refused unless `overwrite=True`, which keeps the old file as
config.<time>.json. `check_config` only reads; `write_config` writes, and the trainer calls it
only after everything that can fail without writing (config, data, model, checkpoint) has been
checked, so a refused run leaves the workdir as it was.
"""
import json
import os
import socket
import sys
import time

from gan_jax.config import complete, to_json_dict
from gan_jax.errors import GanJaxError

# Keys that may change between a run and its resumption.
RESUMABLE_KEYS = ("train.steps", "train.log_every", "train.sample_every", "train.ckpt_every",
                  "train.keep_checkpoints", "train.progress", "train.tensorboard",
                  "optim.g.lr", "optim.d.lr",
                  "data.streaming", "data.read_workers")  # the same batches, read otherwise
RESUMABLE_PREFIXES = ("eval.",)
LOCK_NAME = ".lock"
SAME_EVALUATION = ("step", "ema", "num_samples", "max_real")


def flatten(tree: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in tree.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, name + "."))
        else:
            out[name] = v
    return out


def unwritable(path: str, error: OSError) -> GanJaxError:
    """The error for a file or directory gan_jax cannot create or write."""
    return GanJaxError(f"cannot write {path} ({error.strerror or error}): the directory is "
                       "read-only or not yours; point --workdir (or --out) at a writable "
                       "directory. Nothing was changed.")


def check_config(workdir: str, config, overwrite: bool = False):
    """Refuse a config that differs from the workdir's config.json unless `overwrite`; reads
    only."""
    path = os.path.join(workdir, "config.json")
    if not os.path.exists(path):
        return
    try:
        with open(path) as f:
            old = json.load(f)
    except json.JSONDecodeError as e:
        raise GanJaxError(f"{path} is not valid JSON ({e}); fix or move it away") from e
    diff = _differences(old, to_json_dict(config))
    if diff and not overwrite:
        shown = "; ".join(f"{k}: {a!r} -> {b!r}" for k, a, b in diff[:10])
        raise GanJaxError(
            f"{workdir} holds a run with a different config ({shown}). Use a new --workdir, "
            "or pass --overwrite to continue this run with the new config (its checkpoints "
            "are kept and resumed; the old config is saved as config.<time>.json). Nothing "
            "was changed.")


def write_config(workdir: str, config) -> dict:
    """Write config.json (an existing different one is kept as config.<time>.json)."""
    path = os.path.join(workdir, "config.json")
    new = to_json_dict(config)
    try:
        os.makedirs(os.path.join(workdir, "samples"), exist_ok=True)
        if os.path.exists(path):
            with open(path) as f:
                try:
                    old = json.load(f)
                except json.JSONDecodeError:
                    old = None
            if old == new:
                return new
            if old is not None and _differences(old, new):
                os.replace(path, os.path.join(
                    workdir, f"config.{time.strftime('%Y%m%d-%H%M%S')}.json"))
        write_json(path, new)
    except PermissionError as e:
        raise unwritable(workdir, e) from e
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
    step (by the interrupted run) are dropped so the file reads as one uninterrupted run; a torn
    last line (a kill or a full disk in the middle of an append) is dropped and reported."""

    def __init__(self, workdir: str, resume_step: int):
        self.path = os.path.join(workdir, "metrics.jsonl")
        if os.path.exists(self.path):
            with open(self.path) as f:
                lines = [line for line in f if line.strip()]
            keep = []
            for i, line in enumerate(lines):
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    if i == len(lines) - 1:
                        print(f"warning: {self.path} ended in a torn line ({len(line)} bytes: "
                              f"{line[:60]!r}...), from a run killed while writing it; dropped",
                              file=sys.stderr)
                        continue
                    raise GanJaxError(f"{self.path} line {i + 1} is not JSON ({line[:80]!r}); "
                                      "fix or remove that line, or move the file away") from None
                if row.get("step", 0) <= resume_step:
                    keep.append(line if line.endswith("\n") else line + "\n")
            if len(keep) != len(lines):
                try:
                    with open(self.path + ".tmp", "w") as f:
                        f.writelines(keep)
                    os.replace(self.path + ".tmp", self.path)
                except PermissionError as e:
                    raise unwritable(self.path, e) from e

    def write(self, row: dict):
        with open(self.path, "a") as f:
            f.write(json.dumps(row) + "\n")


def write_json(path: str, obj: dict):
    """Write `obj` as JSON atomically (a temporary file renamed over `path`)."""
    tmp = path + ".tmp"
    try:
        with open(tmp, "w") as f:
            json.dump(obj, f, indent=2, sort_keys=True)
        os.replace(tmp, path)
    except PermissionError as e:
        raise unwritable(path, e) from e


def evaluation_path(workdir: str, results: dict) -> str:
    """DIR/eval.json, after moving an evaluation of another checkpoint, G or sample count there
    to eval.step<S>[.<i>].json, so no earlier result is lost (a different `max_real` subset is
    another evaluation too)."""
    path = os.path.join(workdir, "eval.json")
    if os.path.isfile(path):
        try:
            with open(path) as f:
                old = json.load(f)
            same = all(old.get(k) == results.get(k) for k in SAME_EVALUATION)
        except (json.JSONDecodeError, AttributeError):
            old, same = {}, False
        if not same:
            base = os.path.join(workdir, f"eval.step{old.get('step', 'unknown')}")
            keep, i = base + ".json", 1
            while os.path.exists(keep):
                keep, i = f"{base}.{i}.json", i + 1
            try:
                os.replace(path, keep)
            except PermissionError as e:
                raise unwritable(workdir, e) from e
    return path


def write_evaluation(workdir: str, results: dict, out=None) -> dict:
    """The one writer of evaluation results (the trainer's and `python -m gan_jax.evaluate`'s):
    into DIR/eval.json, merged with an earlier evaluation of the same checkpoint, G and sample
    count, any other kept as eval.step<S>.json; or into `out`. Returns what was written."""
    path = out or evaluation_path(workdir, results)
    merged = {}
    if out is None and os.path.isfile(path):
        with open(path) as f:
            merged = json.load(f)
    merged.update(results)
    write_json(path, merged)
    return merged


class WorkdirLock:
    """One trainer per workdir: `workdir/.lock` holds the owner's pid, host and start time, and
    an exclusive flock while it trains (emptied, not removed, at the end). The kernel drops the
    flock when the owner dies (even by SIGKILL), so a lock left behind is recognised as stale
    and taken over. Readers (evaluate, sample) do not lock."""

    def __init__(self, workdir: str):
        self.workdir = workdir
        self.path = os.path.join(workdir, LOCK_NAME)
        self.handle = None
        self.created_dir = False

    def __enter__(self):
        import fcntl
        try:
            if not os.path.isdir(self.workdir):
                os.makedirs(self.workdir)
                self.created_dir = True
            handle = open(self.path, "a+")
        except PermissionError as e:
            raise unwritable(self.workdir, e) from e
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "{}"
            handle.close()
            try:
                info = json.loads(holder)
            except json.JSONDecodeError:
                info = {}
            raise GanJaxError(
                f"another trainer is running in {self.workdir} (pid {info.get('pid', '?')} on "
                f"{info.get('host', '?')}, since {info.get('since', '?')}): wait for it to "
                "finish or stop it (Ctrl-C saves a checkpoint), then run this again. "
                "python -m gan_jax.evaluate and python -m gan_jax.sample may read the workdir "
                "meanwhile. Nothing was changed.") from None
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                 "since": time.strftime("%Y-%m-%d %H:%M:%S")}))
        handle.flush()
        self.handle = handle
        return self

    def __exit__(self, exc_type, exc, tb):
        import fcntl
        if self.handle is not None:
            # The file stays (empty): removing it before unlocking would let a waiting process
            # lock the removed file while a third one creates a new one.
            self.handle.seek(0)
            self.handle.truncate()
            self.handle.flush()
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None
        if exc_type is not None and self.created_dir and os.listdir(self.workdir) == [LOCK_NAME]:
            os.remove(self.path)            # a run that failed before writing anything
            os.rmdir(self.workdir)
        return False
