"""Small configs and runners shared by the trainer tests."""
import hashlib
import os

import jax
import numpy as np

from gan_jax.config import base_config, optimizer
from gan_jax.train.loop import build_run, host_batches
from gan_jax.train.parallel import select_devices


def toy_config(steps=20, batch_size=32, steps_per_call=1, d_steps=1, batch_norm=False,
               mapper="pmap", num_devices=1, seed=0, name="toy_1d"):
    c = base_config()
    c.seed = seed
    c.data.name = name
    c.data.mean, c.data.std = 0.0, 1.0
    c.model.latent_dim = 4
    c.model.g_hidden = (16, 16)
    c.model.d_hidden = (16, 16)
    c.model.g_output = "linear"
    c.model.g_batch_norm = batch_norm
    c.model.d_batch_norm = batch_norm
    c.optim.g = optimizer("adam", lr=1e-3)
    c.optim.d = optimizer("sgd", lr=1e-2, momentum=0.9)
    t = c.train
    t.steps, t.batch_size, t.steps_per_call, t.d_steps = steps, batch_size, steps_per_call, d_steps
    t.mapper, t.num_devices, t.progress = mapper, num_devices, False
    t.log_every = t.sample_every = t.ckpt_every = steps_per_call
    c.eval.num_samples = 1000
    return c


def run_steps(config, calls):
    """Build a run and make `calls` mapped calls; returns (state, list of metrics, run parts)."""
    data, spec, state, mapper = build_run(config, select_devices(config.train.num_devices))
    state = mapper.put_state(state)
    position, history = 0, []
    for i in range(calls):
        batch, position = host_batches(data, position, config.train)
        state, metrics = mapper(state, batch, step=i * config.train.steps_per_call)
        history.append(jax.device_get(metrics))
    return jax.device_get(state), history, (data, spec, mapper)


def params_of(state):
    return {"g": state.g, "d": state.d}


def _raw(x):
    if jax.dtypes.issubdtype(getattr(x, "dtype", None), jax.dtypes.prng_key):
        return jax.random.key_data(x)
    return x


def tree_bytes_equal(a, b):
    """Every leaf bit-identical (typed PRNG keys compared by their key data)."""
    la, lb = jax.tree.leaves(jax.tree.map(_raw, a)), jax.tree.leaves(jax.tree.map(_raw, b))
    return len(la) == len(lb) and all(np.array_equal(np.asarray(x), np.asarray(y))
                                      for x, y in zip(la, lb))


def file_digests(directory):
    """{relative path: sha256} of every file under `directory` (to show nothing was changed)."""
    out = {}
    for root, _, files in os.walk(directory):
        for f in files:
            p = os.path.join(root, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, directory)] = hashlib.sha256(fh.read()).hexdigest()
    return out
