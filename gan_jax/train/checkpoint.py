"""Orbax checkpoints of a run: the TrainState and the data stream's position, every N steps.

One `CheckpointManager` keeps the last K checkpoints under `workdir/checkpoints/<step>/` with two
items: `state` (the TrainState pytree, PRNG key included) and `data` (JSON: the stream position).
Saves are asynchronous; `wait()` before exit. A checkpoint that cannot be read, or whose arrays do
not match the config's model, raises GanJaxError: it is never ignored, deleted or overwritten.

Integrity: each save records a digest (BLAKE2b) of every array of the state in the `data` item;
a restore recomputes them and calls a checkpoint whose bytes changed corrupt (orbax would
otherwise restore flipped bytes silently). Checkpoints written before digests existed restore
without the check. A save that was interrupted (SIGKILL in the middle of writing) leaves an
orbax temporary `<step>.orbax-checkpoint-tmp*`; it is not a checkpoint, and with no complete one
beside it the run has no checkpoint yet (orbax removes such temporaries itself once it saves).
"""
import dataclasses
import hashlib
import os

import jax
import numpy as np
import orbax.checkpoint as ocp

from gan_jax.errors import GanJaxError
from gan_jax.train import processes


class Checkpointer:

    def __init__(self, directory: str, keep: int = 3):
        self.directory = os.path.abspath(directory)
        options = ocp.CheckpointManagerOptions(
            preservation_policy=ocp.checkpoint_managers.LatestN(keep), create=True)
        registry = ocp.handlers.DefaultCheckpointHandlerRegistry()
        for item, handler, args in (("state", ocp.StandardCheckpointHandler(),
                                     (ocp.args.StandardSave, ocp.args.StandardRestore)),
                                    ("data", ocp.JsonCheckpointHandler(),
                                     (ocp.args.JsonSave, ocp.args.JsonRestore))):
            for arg in args:
                registry.add(item, arg, handler)
        self._mgr = ocp.CheckpointManager(self.directory, options=options,
                                          handler_registry=registry)

    def latest_step(self):
        """The newest complete checkpoint's step; None if there is none. Raises if the directory
        holds something that is not a readable checkpoint (never silently start from scratch)."""
        self._mgr.reload()
        step = self._mgr.latest_step()
        if step is None:
            leftovers = [n for n in os.listdir(self.directory)
                         if not n.startswith(".") and TMP_MARK not in n]
            if leftovers:
                raise GanJaxError(
                    f"{self.directory} holds {sorted(leftovers)[:5]} but no complete checkpoint: "
                    "it may be corrupt or not an orbax checkpoint directory. Move it away to "
                    "start from scratch, or point --workdir elsewhere; nothing was changed.")
        return step

    def save(self, step: int, state, data_position: int):
        self._mgr.save(int(step), args=ocp.args.Composite(
            state=ocp.args.StandardSave(state),
            data=ocp.args.JsonSave({"position": int(data_position), "step": int(step),
                                    "digests": digests(state)})))

    def restore(self, abstract_state, step=None):
        """Returns (state, data_position) of `step` (default: the latest). `abstract_state`:
        the template (shapes and dtypes) to restore into, or a function of the checkpoint's
        stored metadata tree that returns it."""
        step = self.latest_step() if step is None else step
        path = os.path.join(self.directory, str(step))
        try:
            stored = self._mgr.item_metadata(step)["state"].tree
        except Exception as e:  # orbax raises many types for unreadable files
            raise _corrupt(path, e) from e
        if callable(abstract_state):
            abstract_state = abstract_state(stored)
        target, rebuild = _as_stored(abstract_state, stored)
        _check_matches(stored, target, path)  # before reading any array
        target = on_this_host(target)
        try:
            restored = self._mgr.restore(step, args=ocp.args.Composite(
                state=ocp.args.StandardRestore(target), data=ocp.args.JsonRestore()))
        except Exception as e:
            raise _corrupt(path, e) from e
        saved = restored["data"].get("digests")
        if saved is not None:
            now = digests(restored["state"])
            changed = sorted(k for k in set(saved) | set(now) if saved.get(k) != now.get(k))
            if changed:
                raise _corrupt(path, ValueError(
                    f"the bytes of {len(changed)} array(s) differ from those saved, first "
                    f"{changed[0]!r} (digest mismatch)"))
        return rebuild(restored["state"]), int(restored["data"]["position"])

    def wait(self):
        self._mgr.wait_until_finished()

    def close(self):
        self._mgr.close()


TMP_MARK = ".orbax-checkpoint-tmp"


def _leaf_bytes(leaf) -> bytes:
    if jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key):
        leaf = jax.random.key_data(leaf)
    return np.ascontiguousarray(np.asarray(leaf)).tobytes()


def digests(tree) -> dict:
    """{'g/params/Dense_0/kernel': BLAKE2b hex digest of its bytes} for every array of `tree`
    (dict or dataclass fields alike; typed PRNG keys by their key data)."""
    flat = jax.tree_util.tree_flatten_with_path(jax.device_get(processes.to_local(tree)))[0]
    return {_path_name(path): hashlib.blake2b(_leaf_bytes(leaf), digest_size=16).hexdigest()
            for path, leaf in flat}


def _path_name(path) -> str:
    return "/".join(str(getattr(k, "key", getattr(k, "name", getattr(k, "idx", k))))
                    for k in path)


def _as_stored(abstract_state, stored):
    """(restore target, function from the restored tree to the state). A state dataclass is
    restored field by field as a dict, leaving out fields that are None in the template and
    absent from the checkpoint: checkpoints written before a field existed (TrainState.extra)
    restore as they are."""
    if not dataclasses.is_dataclass(abstract_state) or not isinstance(stored, dict):
        return abstract_state, lambda tree: tree
    fields = {f.name: getattr(abstract_state, f.name) for f in dataclasses.fields(abstract_state)}
    absent = [k for k, v in fields.items() if v is None and k not in stored]
    target = {k: v for k, v in fields.items() if k not in absent}
    return target, lambda tree: type(abstract_state)(**tree, **{k: None for k in absent})


def on_this_host(target):
    """The restore target with every array placed on this process's first device (unless the
    template already names a sharding). The sharding is part of the restore target, not of the
    checkpoint: a template without one makes orbax fall back to the saved one, which names the
    saving run's devices ("Topology mismatch" for a checkpoint saved on 4 devices and read on
    1). The trainer then places the restored state on the devices it maps."""
    device = jax.local_devices()[0]

    def place(leaf):
        if isinstance(leaf, jax.ShapeDtypeStruct) and leaf.sharding is None:
            return jax.ShapeDtypeStruct(leaf.shape, leaf.dtype,
                                        sharding=jax.sharding.SingleDeviceSharding(device))
        return leaf

    return jax.tree.map(place, target)


def _corrupt(path, error):
    return GanJaxError(
        f"cannot restore the checkpoint {path}: it is corrupt or unreadable "
        f"({type(error).__name__}: {str(error)[:300]}). Nothing was changed: move the checkpoint "
        "away to resume from an earlier one, or use a new --workdir.")


def _flat_shapes(tree):
    """{'g/params/Dense_0/kernel': (shape, dtype)} for arrays, typed PRNG keys as their key data
    (which is what orbax stores)."""
    out = {}
    for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
        name = _path_name(path)
        shape, dtype = tuple(leaf.shape), np.dtype(leaf.dtype) if not jax.dtypes.issubdtype(
            leaf.dtype, jax.dtypes.prng_key) else None
        if dtype is None:  # a typed key is stored as its uint32 key data
            shape, dtype = shape + jax.random.key_data(jax.random.key(0)).shape, np.dtype("uint32")
        out[name] = (shape, dtype)
    return out


def _check_matches(stored_tree, abstract_state, path):
    """Compare the stored arrays' names, shapes and dtypes with the config's model."""
    got, want = _flat_shapes(stored_tree), _flat_shapes(abstract_state)
    diff = sorted(set(got) ^ set(want)) or [k for k in sorted(want) if got[k] != want[k]]
    if diff:
        k = diff[0]
        if k.startswith("extra/") and k in got and k in want and got[k][0][1:] == want[k][0][1:]:
            raise GanJaxError(
                f"the checkpoint {path} holds the family's per-device state for "
                f"{got[k][0][0]} devices, but this run maps {want[k][0][0]}: resume it with "
                f"train.num_devices={got[k][0][0]} (that state cannot be split or merged). "
                "Nothing was changed.")
        raise GanJaxError(
            f"the checkpoint {path} does not match this config's model: first difference at "
            f"{k!r} (checkpoint {got.get(k, 'absent')}, config {want.get(k, 'absent')}). Nothing "
            "was changed: use the config it was trained with, or a new --workdir.")
