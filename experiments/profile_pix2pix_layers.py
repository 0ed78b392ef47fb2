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

from experiments.bench_pix2pix import pix2pix_layers  # noqa: E402
from gan_jax.ops.choice import conv_transpose4x4, resolve_impl, strided_conv4x4  # noqa: E402


def layers(width):
    """(name, kind, side_in, c_in, c_out) of the bench's step (`bench_pix2pix.pix2pix_layers`):
    kind 'down' (4x4/2), 'up' (transposed 4x4/2) or 'same' (4x4/1, padding 1: the PatchGAN's
    last two), side_in the input's side (the bench lists the side of the small end)."""
    g, d = pix2pix_layers(width)
    depth = len(g) // 2
    out = [(f"G down{i}", "down", 2 * side, ci, co) for i, (ci, co, side) in enumerate(g[:depth])]
    out += [(f"G up{depth - 1 - i}", "up", side, ci, co)
            for i, (ci, co, side) in enumerate(g[depth:])]
    out += [(f"D conv{i}", "down", 2 * side, ci, co) for i, (ci, co, side) in enumerate(d[:3])]
    out += [(name, "same", side + 1, ci, co)
            for name, (ci, co, side) in zip(("D conv3", "D out"), d[3:])]
    return out


def jax_fn(kind, impl):
    if kind == "down":
        return lambda x, k: strided_conv4x4(x, k, impl)
    if kind == "up":
        return lambda x, k: conv_transpose4x4(x, k, impl)
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
    args = p.parse_args()
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
        pixels = args.batch * (side // 2 if kind == "down" else side) ** 2    # the small end
        pick = resolve_impl("fast", c_in, c_out, pixels) if kind != "same" else "xla"
        torch_ms = time_torch(kind, x, k, args.reps)
        for key, v in list(cells.items()) + [("fast", cells[pick]), ("torch", torch_ms)]:
            totals[key] = totals.get(key, 0.0) + v
        best = min(cells, key=cells.get)
        row = [f"{cells[i]:.2f}" + ("*" if i == best else "") if i in cells else "–"
               for i in ("xla", "subpixel", "winograd", "gemm")]
        print(f"| {name} | {side}x{side} | {c_in}->{c_out} | " + " | ".join(row)
              + f" | {pick} | {torch_ms:.2f} |",
              flush=True)
    print("totals (ms, all layers; a form missing for a layer counts 0):",
          {k: round(v, 1) for k, v in totals.items()})


if __name__ == "__main__":
    main()
