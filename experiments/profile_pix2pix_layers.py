"""Where the Pix2Pix step's time goes: every convolution of U-Net 128 + the 70x70 PatchGAN timed
alone (forward + backward to input and kernel), per implementation, against PyTorch eager.

    PYTHONPATH=. python experiments/profile_pix2pix_layers.py [--batch 1] [--width 64] [--reps 20]

For each layer: ms per forward+backward for each gan_jax form (`xla`, `winograd`, `gemm`;
transposed: `xla`, `subpixel`, `winograd`, `gemm`), what `fast` picks, and PyTorch's
F.conv2d / F.conv_transpose2d with autograd (2 threads). Medians of `--reps` calls after a
warm-up. The table says which form each layer should use on this CPU.
"""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import time  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from gan_jax.ops.choice import resolve_impl  # noqa: E402
from gan_jax.ops.conv_transpose import conv_transpose  # noqa: E402
from gan_jax.ops.gemm_conv import strided_conv4x4_gemm  # noqa: E402
from gan_jax.ops.winograd import strided_conv4x4 as strided_conv4x4_winograd  # noqa: E402


def layers(width, side=128, c_a=3, c_b=1):
    """(name, kind, side_in, c_in, c_out): kind 'down' (4x4/2), 'up' (transposed 4x4/2),
    'same' (4x4/1, padding 1: the PatchGAN's last two)."""
    depth = int(np.log2(side))
    w = [width * min(2 ** i, 8) for i in range(depth)]
    out = []
    s, c = side, c_a
    for i in range(depth):
        out.append((f"G down{i}", "down", s, c, w[i]))
        s, c = s // 2, w[i]
    for i in reversed(range(depth)):
        c_in = w[i] * (1 if i == depth - 1 else 2)
        out.append((f"G up{i}", "up", s, c_in, c_b if i == 0 else w[i - 1]))
        s *= 2
    s, c = side, c_a + c_b
    for i, f in enumerate([width, 2 * width, 4 * width]):
        out.append((f"D conv{i}", "down", s, c, f))
        s, c = s // 2, f
    out.append(("D conv3", "same", s, c, 8 * width))
    out.append(("D out", "same", s - 1, 8 * width, 1))
    return out


def jax_fn(kind, impl):
    if kind == "down":
        if impl == "winograd":
            return strided_conv4x4_winograd
        if impl == "gemm":
            return strided_conv4x4_gemm
        return lambda x, k: jax.lax.conv_general_dilated(
            x, k, (2, 2), ((1, 1), (1, 1)), dimension_numbers=("NHWC", "HWIO", "NHWC"))
    if kind == "up":
        return lambda x, k: conv_transpose(x, k, stride=2, padding=1, impl=impl)
    return lambda x, k: jax.lax.conv_general_dilated(
        x, k, (1, 1), ((1, 1), (1, 1)), dimension_numbers=("NHWC", "HWIO", "NHWC"))


def time_jax(kind, impl, x, k, reps):
    f = jax_fn(kind, impl)

    def loss(x, k):
        y = f(x, k)
        return jnp.sum(y * y)
    step = jax.jit(jax.grad(loss, argnums=(0, 1)))
    jax.block_until_ready(step(x, k))
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        jax.block_until_ready(step(x, k))
        times.append(time.perf_counter() - t)
    return 1e3 * float(np.median(times))


def time_torch(kind, x, k, reps):
    import torch
    import torch.nn.functional as F
    xt = torch.tensor(np.asarray(x).transpose(0, 3, 1, 2), requires_grad=True)
    if kind == "up":     # torch's ConvTranspose2d weight: [C_in, C_out, kh, kw]
        kt = torch.tensor(np.asarray(k).transpose(2, 3, 0, 1), requires_grad=True)
        f = lambda: F.conv_transpose2d(xt, kt, stride=2, padding=1)  # noqa: E731
    else:
        kt = torch.tensor(np.asarray(k).transpose(3, 2, 0, 1), requires_grad=True)
        stride = 2 if kind == "down" else 1
        f = lambda: F.conv2d(xt, kt, stride=stride, padding=1)  # noqa: E731

    def call():
        xt.grad = kt.grad = None
        y = f()
        (y * y).sum().backward()
    call()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        call()
        times.append(time.perf_counter() - t)
    return 1e3 * float(np.median(times))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--width", type=int, default=64)
    p.add_argument("--reps", type=int, default=20)
    p.add_argument("--no-torch", action="store_true")
    args = p.parse_args()
    if not args.no_torch:
        import torch
        torch.set_num_threads(2)
    impls = {"down": ("xla", "winograd", "gemm"), "up": ("xla", "subpixel", "winograd", "gemm"),
             "same": ("xla",)}
    rng = np.random.default_rng(0)
    print(f"batch {args.batch}, width {args.width}; ms per forward+backward (median of "
          f"{args.reps})")
    print("| layer | in | c_in->c_out | " + " | ".join(["xla", "subpixel", "winograd", "gemm"])
          + " | fast picks | PyTorch |")
    print("|---|---|---|---|---|---|---|---|---|")
    totals = {}
    for name, kind, side, c_in, c_out in layers(args.width):
        x = jnp.asarray(rng.standard_normal((args.batch, side, side, c_in)), jnp.float32)
        k = jnp.asarray(0.02 * rng.standard_normal((4, 4, c_in, c_out)), jnp.float32)
        cells = {}
        for impl in impls[kind]:
            cells[impl] = time_jax(kind, impl, x, k, args.reps)
        pixels = args.batch * (side // 2 if kind == "down" else side) ** 2
        pick = resolve_impl("fast", c_in, c_out, pixels) if kind != "same" else "xla"
        torch_ms = None if args.no_torch else time_torch(kind, x, k, args.reps)
        for key, v in list(cells.items()) + [("fast", cells[pick]), ("torch", torch_ms or 0)]:
            totals[key] = totals.get(key, 0.0) + v
        best = min(cells, key=cells.get)
        row = [f"{cells[i]:.2f}" + ("*" if i == best else "") if i in cells else "–"
               for i in ("xla", "subpixel", "winograd", "gemm")]
        print(f"| {name} | {side}x{side} | {c_in}->{c_out} | " + " | ".join(row)
              + f" | {pick} | " + ("–" if torch_ms is None else f"{torch_ms:.2f}") + " |",
              flush=True)
    print("totals (ms, all layers; a form missing for a layer counts 0):",
          {k: round(v, 1) for k, v in totals.items()})


if __name__ == "__main__":
    main()
