"""Orbax checkpoints of a run: the TrainState and the data stream's position, every N steps.

One `CheckpointManager` keeps the last K checkpoints under `workdir/checkpoints/<step>/` with two
items: `state` (the TrainState pytree, PRNG key included) and `data` (JSON: the stream position).
Saves are asynchronous; `wait()` before exit. A checkpoint that cannot be read, or whose arrays do
not match the config's model, raises GanJaxError: it is never ignored, deleted or overwritten.
"""
import os

import jax
import numpy as np
import orbax.checkpoint as ocp

from gan_jax.errors import GanJaxError


class Checkpointer:

    def __init__(self, directory: str, keep: int = 3):
        self.directory = os.path.abspath(directory)
        options = ocp.CheckpointManagerOptions(
            preservation_policy=ocp.checkpoint_managers.LatestN(keep), create=True)
        self._mgr = ocp.CheckpointManager(self.directory, options=options)

    def latest_step(self):
        """The newest complete checkpoint's step; None if there is none. Raises if the directory
        holds something that is not a readable checkpoint (never silently start from scratch)."""
        self._mgr.reload()
        step = self._mgr.latest_step()
        if step is None:
            leftovers = [n for n in os.listdir(self.directory) if not n.startswith(".")]
            if leftovers:
                raise GanJaxError(
                    f"{self.directory} holds {sorted(leftovers)[:5]} but no complete checkpoint: "
                    "it may be corrupt or not an orbax checkpoint directory. Move it away to "
                    "start from scratch, or point --workdir elsewhere; nothing was changed.")
        return step

    def save(self, step: int, state, data_position: int):
        self._mgr.save(int(step), args=ocp.args.Composite(
            state=ocp.args.StandardSave(state),
            data=ocp.args.JsonSave({"position": int(data_position), "step": int(step)})))

    def restore(self, abstract_state, step=None):
        """Returns (state, data_position) of `step` (default: the latest)."""
        step = self.latest_step() if step is None else step
        path = os.path.join(self.directory, str(step))
        try:
            restored = self._mgr.restore(step, args=ocp.args.Composite(
                state=ocp.args.StandardRestore(abstract_state), data=ocp.args.JsonRestore()))
        except Exception as e:  # orbax raises many types for unreadable files
            raise GanJaxError(
                f"cannot restore the checkpoint {path}: it is corrupt or was written by a "
                f"different model/config ({type(e).__name__}: {str(e)[:300]}). Nothing was "
                "changed: fix the config, move the checkpoint away, or use a new --workdir."
            ) from e
        _check_matches(restored["state"], abstract_state, path)
        return restored["state"], int(restored["data"]["position"])

    def wait(self):
        self._mgr.wait_until_finished()

    def close(self):
        self._mgr.close()


def _check_matches(state, abstract_state, path):
    got = jax.tree.map(lambda x: (tuple(np.shape(x)), str(x.dtype)), state)
    want = jax.tree.map(lambda x: (tuple(x.shape), str(x.dtype)), abstract_state)
    if jax.tree.structure(got) != jax.tree.structure(want) or got != want:
        raise GanJaxError(
            f"the checkpoint {path} does not match this config's model (array shapes or "
            "dtypes differ). Nothing was changed: use the config it was trained with, or a new "
            "--workdir.")
