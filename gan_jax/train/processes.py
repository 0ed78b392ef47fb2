"""Several JAX processes (`jax.distributed`): one per host of a TPU pod slice or GPU cluster, or
several on one machine for tests.

Every process runs the same trainer on the same global data position (SPMD). The state is
replicated over the global mesh of all processes' devices; each process feeds the rows of the
global batch that belong to its own devices (`DeviceMapper.put_batch`); every process saves and
restores the checkpoints (orbax writes each array once); only the primary process (index 0)
writes config.json, metrics.jsonl, TensorBoard events, pictures, the progress bar and
eval.json. With one process every function here is the identity or a no-op, so single-process
runs are unchanged.

Facts measured on jax 0.10.2 (docs/design.md, "Several processes"): CPU collectives across
processes use gloo; `jax.make_array_from_process_local_data` builds the global batch (numpy
passed to a jit with a global sharding raises); a killed peer makes the survivors abort within
~15 s; 2 processes x 2 devices agree with 1 x 4 to 2e-7 relative.
"""
import jax
import numpy as np

from gan_jax.errors import GanJaxError


def initialize(coordinator: str = "", num_processes: int = 0, process_id: int = -1,
               auto: bool = False, heartbeat_timeout_s: int = 100):
    """Join the multi-process runtime before anything else touches JAX: explicitly
    (`coordinator` 'HOST:PORT', `num_processes`, `process_id`) or, with `auto`, from what the
    cluster provides (Cloud TPU, SLURM, Open MPI: `jax.distributed.initialize()` without
    arguments). Nothing to do for a single process. A process whose peer stops answering for
    `heartbeat_timeout_s` (JAX's default: 100) exits with an error instead of waiting."""
    if auto:
        jax.distributed.initialize(heartbeat_timeout_seconds=heartbeat_timeout_s)
        return
    if not coordinator:
        if num_processes > 1 or process_id >= 0:
            raise GanJaxError("--num_processes/--process_id need --coordinator HOST:PORT (the "
                              "address of process 0), or --distributed on a cluster that "
                              "JAX detects")
        return
    if num_processes < 1 or not 0 <= process_id < num_processes:
        raise GanJaxError(f"--coordinator needs --num_processes >= 1 and 0 <= --process_id < "
                          f"num_processes; got {num_processes} and {process_id}")
    host, _, port = coordinator.rpartition(":")
    if not host or not port.isdigit():
        raise GanJaxError(f"--coordinator={coordinator!r} must be HOST:PORT, e.g. "
                          "127.0.0.1:12345")
    bind = {"coordinator_bind_address": coordinator} if process_id == 0 else {}
    jax.distributed.initialize(coordinator_address=coordinator, num_processes=num_processes,
                               process_id=process_id, heartbeat_timeout_seconds=heartbeat_timeout_s,
                               **bind)


def count() -> int:
    return jax.process_count()


def index() -> int:
    return jax.process_index()


def is_primary() -> bool:
    """Whether this process writes the run's files (process 0)."""
    return jax.process_index() == 0


def barrier(name: str):
    """Wait until every process reaches the barrier `name` (no-op for one process)."""
    if count() > 1:
        from jax.experimental import multihost_utils
        multihost_utils.sync_global_devices(name)


def any_process(flag: bool) -> bool:
    """True on every process when `flag` is true on any (e.g. one process got SIGTERM); a
    collective, so every process must call it at the same point."""
    if count() == 1:
        return bool(flag)
    from jax.experimental import multihost_utils
    flags = multihost_utils.process_allgather(np.asarray([int(bool(flag))], np.int32))
    return bool(np.max(flags))


def to_local(tree):
    """The tree with every global array made addressable here: a replicated array becomes this
    process's copy (no communication); an array split across processes (per-device state) is
    gathered (a collective: every process must call it). Arrays of a single process pass
    through."""
    if count() == 1:
        return tree

    def local(x):
        if not isinstance(x, jax.Array) or x.is_fully_addressable:
            return x
        if x.is_fully_replicated:
            return x.addressable_data(0)
        from jax.experimental import multihost_utils
        return multihost_utils.process_allgather(x, tiled=True)

    return jax.tree.map(local, tree)


def local_rows(x: np.ndarray, axis: int, num_devices: int, devices) -> np.ndarray:
    """This process's rows of a global host array split over `devices` along `axis`: the
    blocks of the devices that belong to this process, in the devices' order."""
    per = x.shape[axis] // num_devices
    mine = [i for i, d in enumerate(devices) if d.process_index == index()]
    blocks = [np.take(x, np.arange(i * per, (i + 1) * per), axis=axis) for i in mine]
    return np.concatenate(blocks, axis=axis)
