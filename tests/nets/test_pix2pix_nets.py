"""The Pix2Pix networks: the U-Net (depth from the image side, skips that matter, keyed dropout),
the encoder-decoder without skips, and the PatchGAN whose receptive field is *measured*: the
input pixels that one output logit's gradient reaches are exactly the computed field."""
import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.errors import GanJaxError
from gan_jax.nets.patchgan import PATCH_SIZES, PatchGAN, layers_for_patch, receptive_field
from gan_jax.nets.unet import UNet, depth_for, widths


def _init(module, x, **kw):
    return module.init(jax.random.key(0), x, train=False, **kw)


@pytest.mark.parametrize("side,depth", [(8, 3), (32, 5), (128, 7), (256, 8)])
def test_unet_depth_and_shapes(side, depth):
    assert depth_for(side) == depth
    net = UNet(out_channels=1, width=4, norm="instance")
    x = jnp.zeros((2, side, side, 3))
    variables = jax.eval_shape(lambda: _init(net, x))
    out = jax.eval_shape(lambda v: net.apply(v, x), variables)
    chex.assert_shape(out, (2, side, side, 1))
    assert out.dtype == jnp.float32
    params = variables["params"]
    assert sorted((k for k in params if k.startswith("down") and k[4:].isdigit()),
                  key=lambda k: int(k[4:])) == [f"down{i}" for i in range(depth)]
    # the innermost layer is 1x1 and the decoder's input doubles with the skip
    assert params[f"down{depth - 1}"]["kernel"].shape[-1] == widths(depth, 4)[-1]
    if depth > 1:
        assert params[f"up{depth - 2}"]["kernel"].shape[2] == 2 * widths(depth, 4)[depth - 2]


def test_unet_paper_widths():
    assert widths(8, 64) == [64, 128, 256, 512, 512, 512, 512, 512]     # C64-...-C512 x 5


@pytest.mark.parametrize("side", [3, 12, 100])
def test_unet_refuses_sides_that_are_not_powers_of_two(side):
    with pytest.raises(GanJaxError, match="power of two"):
        depth_for(side)


def _first_layer_gradient(skips):
    """|d output / d kernel of the encoder's first layer| through everything but the bottleneck:
    the innermost 1x1 layer's kernel is zeroed, so only a skip can carry the first layer on."""
    net = UNet(out_channels=1, width=4, norm="none", skips=skips, conv_impl="xla")
    x = jax.random.normal(jax.random.key(1), (1, 16, 16, 3))
    variables = _init(net, x)
    params = jax.tree.map(lambda v: v, variables["params"])
    params["down3"]["kernel"] = jnp.zeros_like(params["down3"]["kernel"])

    def out(k0):
        p = {**params, "down0": {**params["down0"], "kernel": k0}}
        return jnp.sum(net.apply({"params": p}, x))
    return float(jnp.abs(jax.jit(jax.grad(out))(params["down0"]["kernel"])).sum())


def test_skip_connections_carry_the_first_layer_to_the_output():
    assert _first_layer_gradient(skips=True) > 1e-3
    assert _first_layer_gradient(skips=False) == 0.0       # encoder-decoder: only the bottleneck


def test_fast_convolutions_compute_the_unet_exactly():
    """conv_impl='fast' picks per layer (64x64, batch 4: Winograd in the outer wide layers, one
    GEMM in the thin ones and in the inner ones with few pixels). In float32 its output and
    parameter gradient equal a float64 computation with XLA's convolutions to 1e-5 of each
    leaf's scale (measured: 1e-6, as XLA's own float32 convolutions). Without normalisation:
    InstanceNorm over the U-Net's 2x2 and 4x4 inner maps divides by standard deviations near 0,
    which amplifies any float32 rounding (whichever convolution form computes it) to ~2 % of a
    gradient leaf, and which form lands nearer the float64 result then depends on the CPU and
    XLA's fusion choices (measured on two machines, with opposite outcomes)."""
    from gan_jax.ops.choice import resolve_impl
    assert resolve_impl("fast", 8, 16, pixels=4 * 32 * 32) == "winograd"     # down1
    assert resolve_impl("fast", 16, 32, pixels=4 * 8 * 8) == "gemm"          # down3
    x = jax.random.uniform(jax.random.key(1), (4, 64, 64, 3), minval=-1, maxval=1)
    params = _init(UNet(out_channels=1, width=8, norm="none"), x)["params"]
    x, params = np.asarray(x), jax.device_get(params)

    def value_and_grad(impl, dtype):
        net = UNet(out_channels=1, width=8, norm="none", conv_impl=impl)
        xx = jnp.asarray(x, dtype)

        def loss(p):
            y = net.apply({"params": p}, xx)
            return jnp.mean(y * jnp.cos(3 * xx[..., :1])), y
        p = jax.tree.map(lambda v: jnp.asarray(v, dtype), params)
        (_, y), g = jax.jit(jax.value_and_grad(loss, has_aux=True),
                            compiler_options={"xla_backend_optimization_level": 0})(p)
        return jax.device_get((y, g))
    y_fast, g_fast = value_and_grad("fast", jnp.float32)
    with jax.enable_x64(True):
        y_ref, g_ref = value_and_grad("xla", jnp.float64)
    assert y_fast.dtype == np.float32 and y_ref.dtype == np.float64
    np.testing.assert_allclose(y_fast, y_ref, atol=1e-6)
    for (path, a), b in zip(jax.tree_util.tree_leaves_with_path(g_fast), jax.tree.leaves(g_ref)):
        scale = float(np.max(np.abs(b)))
        assert float(np.max(np.abs(a - b))) <= 1e-5 * scale, (path, scale)


def test_dropout_is_keyed_per_example_and_deterministic():
    net = UNet(out_channels=1, width=4, norm="none", dropout=0.5, conv_impl="xla")
    x = jnp.tile(jax.random.normal(jax.random.key(1), (1, 16, 16, 2)), (3, 1, 1, 1))
    variables = _init(net, x)
    apply = jax.jit(lambda x, keys: net.apply(variables, x, train=True, noise_keys=keys))
    keys = jax.vmap(lambda i: jax.random.fold_in(jax.random.key(7), i))(jnp.arange(3))
    a = apply(x, keys)
    b = apply(x, keys)
    chex.assert_trees_all_equal(a, b)
    assert not np.allclose(a[0], a[1])                 # the same input, different masks
    # example 2's output depends on its own key only (as on another device)
    c = apply(x[2:], keys[2:])
    chex.assert_trees_all_close(a[2:], c, atol=1e-6)
    off = net.apply(variables, x, train=True, noise_keys=None)
    chex.assert_trees_all_close(off[0], off[1], atol=1e-6)


def test_receptive_fields_of_the_paper():
    assert [receptive_field(n) for n in range(6)] == [1, 16, 34, 70, 142, 286]
    assert layers_for_patch(70) == 3 and sorted(PATCH_SIZES) == [1, 16, 34, 70, 142, 286]
    with pytest.raises(GanJaxError, match="receptive field"):
        layers_for_patch(64)


@pytest.mark.parametrize("n_layers", [0, 1, 2, 3, 4, 5])
def test_receptive_field_is_measured_by_the_gradient(n_layers):
    """The input pixels with a non-zero gradient of one central logit form a square of side
    receptive_field(n_layers) (BatchNorm in inference mode: a per-channel affine map)."""
    field = receptive_field(n_layers)
    side = max(32, 2 ** (int(np.ceil(np.log2(field))) + 1))
    net = PatchGAN(n_layers=n_layers, width=2, norm="batch")
    x = jax.random.normal(jax.random.key(2), (1, side, side, 2))
    variables = _init(net, x)
    h, w = jax.eval_shape(lambda: net.apply(variables, x)).shape[1:3]
    i, j = h // 2, w // 2
    grad = jax.jit(jax.grad(lambda x: net.apply(variables, x)[0, i, j, 0]))(x)
    rows, cols = np.nonzero(np.abs(np.asarray(grad[0])).sum(-1))
    assert rows.max() - rows.min() + 1 == field and cols.max() - cols.min() + 1 == field
    assert rows.min() > 0 and rows.max() < side - 1         # the field lies inside the image


def test_patchgan_output_map_and_size_check():
    net = PatchGAN(n_layers=3, width=4, norm="none")
    x = jnp.zeros((2, 128, 128, 4))
    out = jax.eval_shape(lambda: net.apply(_init(net, x), x))
    chex.assert_shape(out, (2, 14, 14, 1))            # 128 / 8 - 2
    with pytest.raises(GanJaxError, match="needs images of side"):
        PatchGAN(n_layers=5, width=2).init(jax.random.key(0), jnp.zeros((1, 64, 64, 1)))
