"""Same config, seed and device count -> bit-identical parameters on CPU."""
import jax
import numpy as np

from tests.train.helpers import params_of, run_steps, toy_config, tree_bytes_equal


def test_same_seed_bit_identical():
    a, ma, _ = run_steps(toy_config(steps_per_call=10), calls=2)
    b, mb, _ = run_steps(toy_config(steps_per_call=10), calls=2)
    assert tree_bytes_equal(params_of(a), params_of(b))
    assert tree_bytes_equal((a.g_opt, a.d_opt), (b.g_opt, b.d_opt))
    assert tree_bytes_equal(ma, mb)


def test_same_seed_bit_identical_on_4_devices():
    a, _, _ = run_steps(toy_config(steps_per_call=10, num_devices=4, batch_norm=True), calls=1)
    b, _, _ = run_steps(toy_config(steps_per_call=10, num_devices=4, batch_norm=True), calls=1)
    assert tree_bytes_equal(params_of(a), params_of(b))


def test_other_seed_differs():
    a, _, _ = run_steps(toy_config(steps_per_call=10), calls=1)
    b, _, _ = run_steps(toy_config(steps_per_call=10, seed=1), calls=1)
    diffs = jax.tree.map(lambda x, y: float(np.abs(x - y).max()), params_of(a), params_of(b))
    assert max(jax.tree.leaves(diffs)) > 1e-3
