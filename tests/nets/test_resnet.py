"""The CycleGAN ResNet generator's convolution forms: conv_impl='fast' (Winograd F(2x2, 3x3) in
the residual blocks, the 4x4 / stride-2 forms with zero-padded kernels for the down and up
layers, one GEMM for the thin 7x7 layers) computes the network that conv_impl='xla' does."""
import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.nets.resnet import ResnetGenerator


def test_fast_convolutions_compute_the_resnet_exactly():
    """In float32 the output and the parameter gradients equal a float64 computation with XLA's
    convolutions to 1e-5 of each leaf's scale (the output, in (-1, 1): 2e-6), at batch 3,
    28x28, width 8, one residual block, InstanceNorm. 'fast' picks the Winograd forms for res0
    (7x7 maps: odd sides), down0 and up1, and the GEMM forms for down1, up0 (few pixels) and
    the 7x7 layers (3 channels). (XLA:CPU's float32 convolutions are not exact either: at batch
    2, worst errors 0.9e-6 on the output and 0.12 of the gradients' tolerance, against 0.7e-6
    and 0.10 for 'fast': the reference is float64.)"""
    from gan_jax.ops.choice import resolve_impl, resolve_valid_impl
    assert resolve_valid_impl("fast", (3, 3, 32, 32)) == "winograd"             # res0
    assert resolve_valid_impl("fast", (7, 7, 3, 8)) == "gemm"                   # c7_in
    assert resolve_impl("fast", 8, 16, pixels=3 * 14 * 14) == "winograd"         # down0
    assert resolve_impl("fast", 16, 32, pixels=3 * 7 * 7) == "gemm"              # down1
    assert resolve_impl("fast", 16, 8, pixels=3 * 14 * 14) == "winograd"         # up1
    x = jax.random.uniform(jax.random.key(1), (3, 28, 28, 3), minval=-1, maxval=1)
    net = ResnetGenerator(out_channels=3, width=8, n_blocks=1, norm="instance", conv_impl="xla")
    params = jax.jit(net.init, compiler_options={"xla_backend_optimization_level": 0})(
        jax.random.key(0), x)["params"]
    x, params = np.asarray(x), jax.device_get(params)
    assert params["res0_a"]["kernel"].shape == (3, 3, 32, 32)          # parameters stay 3x3
    assert params["down0"]["kernel"].shape == params["up1"]["kernel"].shape[:2] + (8, 16)

    def value_and_grad(impl, dtype):
        net = ResnetGenerator(out_channels=3, width=8, n_blocks=1, norm="instance",
                              conv_impl=impl)
        xx = jnp.asarray(x, dtype)

        def loss(p):
            y = net.apply({"params": p}, xx)
            return jnp.mean(y * jnp.cos(3 * xx)), y
        p = jax.tree.map(lambda v: jnp.asarray(v, dtype), params)
        (_, y), g = jax.jit(jax.value_and_grad(loss, has_aux=True),
                            compiler_options={"xla_backend_optimization_level": 0})(p)
        return jax.device_get((y, g))
    y_fast, g_fast = value_and_grad("fast", jnp.float32)
    with jax.enable_x64(True):
        y_ref, g_ref = value_and_grad("xla", jnp.float64)
    assert y_fast.dtype == np.float32 and y_ref.dtype == np.float64
    np.testing.assert_allclose(y_fast, y_ref, atol=2e-6)
    assert jax.tree.structure(g_fast) == jax.tree.structure(g_ref)
    for (path, a), b in zip(jax.tree_util.tree_leaves_with_path(g_fast), jax.tree.leaves(g_ref)):
        scale = float(np.max(np.abs(b)))
        assert float(np.max(np.abs(a - b))) <= 1e-5 * scale, (path, scale)
