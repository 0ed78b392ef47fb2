"""Map the per-device step over all local devices: `jax.pmap` or `jax.jit(jax.shard_map)`.

Both see the same per-device function and the same per-device data layout
`[steps_per_call, d_steps, batch_per_device, ...]`; the state is replicated (unsharded) and
the step's `lax.pmean` keeps it identical on every device, except the family's per-device state
`TrainState.extra`, which has a leading device axis and is split across the devices. `pmap` is
the design card's word; `shard_map` is the current JAX API (pmap is implemented on it since JAX
0.8) and is what scales to multi-host meshes. A test checks that both give the same parameters.
"""
import dataclasses

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from gan_jax.errors import GanJaxError
from gan_jax.train import processes

MAPPERS = ("pmap", "shard_map")


def select_devices(num_devices: int = 0):
    """The first `num_devices` local devices (0: all). With several processes
    (`gan_jax.train.processes`): all global devices, in their global order."""
    if jax.process_count() > 1:
        devices = jax.devices()
        if num_devices not in (0, len(devices)):
            raise GanJaxError(f"train.num_devices={num_devices}: a run of {jax.process_count()} "
                              f"processes uses all {len(devices)} global devices; use 0")
        return devices
    devices = jax.local_devices()
    if num_devices < 0 or num_devices > len(devices):
        raise GanJaxError(f"train.num_devices={num_devices}, but {len(devices)} local devices "
                          "exist; use 0 for all of them")
    return devices[:num_devices] if num_devices else devices


def check_batch_size(batch_size: int, num_devices: int):
    if batch_size % num_devices:
        raise GanJaxError(
            f"train.batch_size={batch_size} is not divisible by the {num_devices} devices; "
            f"use a multiple of {num_devices} (e.g. {num_devices * max(1, batch_size // num_devices)})"
            " or set train.num_devices")


def _state_prefix(state, replicated, per_device):
    """A prefix tree of `state` (a TrainState) giving `per_device` to its `extra` field and
    `replicated` to every other field."""
    fields = {f.name: replicated for f in dataclasses.fields(state)}
    if state.extra is not None:
        fields["extra"] = per_device
    return type(state)(**fields)


class DeviceMapper:
    """Compiles `fn(state, batch) -> (state, metrics)` over `devices` and places its inputs.

    Global batches from the data pipeline have shape [S, k, B, ...]; the batch axis (2) is split
    across devices. `state.extra` (if any) has a leading axis of size len(devices), split too.

    With `phase_of` (a family with phases, `GANSpec.phase_of`), `fn` is `phase -> per-device
    step`: each phase's step is compiled on its first call and kept, and a call names the step
    it starts at (`mapper(state, batch, step=s)`).
    """

    def __init__(self, fn, devices, mapper: str = "pmap", axis_name: str = "batch",
                 donate: bool = True, phase_of=None):
        if mapper not in MAPPERS:
            raise GanJaxError(f"unknown train.mapper {mapper!r}; valid: {MAPPERS}")
        self.processes = len({d.process_index for d in devices})
        if self.processes > 1 and mapper == "pmap":
            raise GanJaxError(
                f"train.mapper='pmap' over the devices of {self.processes} processes: "
                "pmap(devices=...) averages over one process's devices only (each process's "
                "copy of the model would drift apart, silently); use "
                "--config.train.mapper=shard_map, which maps over the global mesh")
        self.fn_per_device = fn
        self.phase_of = phase_of
        self.devices = list(devices)
        self.mapper = mapper
        self.axis_name = axis_name
        self.num_devices = len(self.devices)
        self.donate_argnums = (0,) if donate else ()
        self.mesh = Mesh(np.array(self.devices), (axis_name,))
        # The state lives replicated on the mesh; both mappers return it with this sharding, so
        # placing it so from the start avoids a second compilation on the second call.
        self._replicated = NamedSharding(self.mesh, P())
        self._split = NamedSharding(self.mesh, P(axis_name))
        self._compiled = {}   # by (phase, whether the state has per-device state)

    def _build(self, state, phase=None):
        has_extra = state.extra is not None
        if (phase, has_extra) in self._compiled:
            return self._compiled[phase, has_extra]
        fn, axis = self.fn_per_device, self.axis_name
        if self.phase_of is not None:
            fn = fn(phase)
        if self.mapper == "pmap":
            state_axes = _state_prefix(state, None, 0)
            mapped = jax.pmap(fn, axis_name=axis, in_axes=(state_axes, 0),
                              out_axes=(state_axes, None), devices=self.devices,
                              donate_argnums=self.donate_argnums)
        else:
            def local(state, batch):    # shard_map keeps the split axis (size 1 per device)
                if has_extra:
                    state = state.replace(extra=jax.tree.map(lambda x: x[0], state.extra))
                state, metrics = fn(state, batch)
                if has_extra:
                    state = state.replace(extra=jax.tree.map(lambda x: x[None], state.extra))
                return state, metrics

            specs = _state_prefix(state, P(), P(axis))
            # check_vma=False gives pmap's semantics: the gradient of a replicated parameter is
            # the per-device gradient, averaged by the step's own lax.pmean. (With check_vma=True
            # JAX inserts a psum when differentiating w.r.t. a replicated input, and the pmean
            # on top would turn the mean into a sum: measured 4x SGD steps on 4 devices.)
            shard = jax.shard_map(local, mesh=self.mesh, in_specs=(specs, P(None, None, axis)),
                                  out_specs=(specs, P()), check_vma=False)
            shardings = _state_prefix(state, self._replicated, self._split)
            # numpy batches go straight in: jit places them with the batch sharding itself
            # (a separate device_put measured 0.2-0.4 ms per call).
            mapped = jax.jit(shard, donate_argnums=self.donate_argnums,
                             in_shardings=(shardings,
                                           NamedSharding(self.mesh, P(None, None, axis))))
        self._compiled[phase, has_extra] = mapped
        return mapped

    def rows(self, batch_size: int):
        """The rows of a global batch of `batch_size` that this process feeds (its devices'
        blocks, in order), or None when it feeds them all (one process)."""
        if self.processes == 1:
            return None
        return processes.local_rows(np.arange(batch_size), 0, self.num_devices, self.devices)

    def put_batch(self, batch, batch_size=None):
        """Host arrays [S, k, B, ...] -> the layout the mapped function takes. With several
        processes: a global array of which this process gives its own devices' rows; with
        `batch_size` (the global B) the host arrays hold only those rows (`rows(batch_size)`),
        else the whole global batch."""
        n = self.num_devices
        if self.processes > 1:
            sharding = NamedSharding(self.mesh, P(None, None, self.axis_name))

            def global_array(x):
                if batch_size is None:
                    shape, x = x.shape, processes.local_rows(x, 2, n, self.devices)
                else:
                    shape = x.shape[:2] + (batch_size,) + x.shape[3:]
                return jax.make_array_from_process_local_data(sharding, x, shape)
            return jax.tree.map(global_array, batch)
        if self.mapper == "pmap":
            def split(x):
                s, k, b = x.shape[:3]
                x = x.reshape((s, k, n, b // n) + x.shape[3:])
                return np.moveaxis(x, 2, 0)
            return jax.tree.map(split, batch)
        return batch

    def put_state(self, state):
        if state.extra is not None:
            sizes = {x.shape[0] for x in jax.tree.leaves(state.extra)}
            if sizes != {self.num_devices}:
                raise GanJaxError(
                    f"the run's per-device state (TrainState.extra) is held for {sorted(sizes)} "
                    f"devices, but this run maps {self.num_devices}; resume it with "
                    f"train.num_devices={min(sizes)}")
        shardings = _state_prefix(state, self._replicated, self._split)
        if self.processes > 1:     # every process holds the same host state: replicate it
            return jax.jit(lambda s: s, out_shardings=shardings)(state)
        return jax.device_put(state, shardings)

    def __call__(self, state, batch, step=None, batch_size=None):
        """One call: `batch` is the global batch, or with `batch_size` this process's rows of
        it (`put_batch`)."""
        phase = None
        if self.phase_of is not None:
            if step is None:
                raise GanJaxError("this family's step depends on its phase: call the mapper "
                                  "with the step the call starts at (step=...)")
            phase = self.phase_of(int(step))
        return self._build(state, phase)(state, self.put_batch(batch, batch_size))
