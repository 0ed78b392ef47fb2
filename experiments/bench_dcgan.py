"""Speed of the full DCGAN training step: gan_jax against the identical GAN in PyTorch eager.

    PYTHONPATH=. python experiments/bench_dcgan.py [--settings mnist32,rgb64] [--rounds 10]
        [--impls subpixel,winograd,xla] [--devices 1] [--dtype float32] [--json out.json]

Settings (the issue's): `mnist32` is 32x32x1 images (the offline MNIST digits resized to 32),
z 100, widths 64/128/256, BatchNorm, batch 64; `rgb64` is 64x64x3 (stand-in random images:
speed does not depend on pixel values), widths 64..512, batch 128.

A step is Algorithm 1 with k = 1 as gan_jax trains it (gan_jax.train.step): a D update on a real
and a fake minibatch (BatchNorm in training mode), then a G update through D with fresh noise,
Adam(2e-4, 0.5) on both, BCE-with-logits losses, non-saturating G loss. PyTorch runs the same
layers (Linear project-and-reshape, ConvTranspose2d/Conv2d 4x4 stride 2 padding 1, BatchNorm2d,
ReLU/LeakyReLU(0.2)/tanh, the final 4x4 conv to a logit), the same init N(0, 0.02), the same losses
and optimiser, in a normal eager loop (fresh noise for G too, as Algorithm 1 and gan_jax).

On a GPU (jax's default backend and torch.cuda both present) both frameworks run there: the
bench is the same, PyTorch eager runs on "cuda" and is synchronised before each clock read, and
the peak is jax's own GEMM (8192^3, the compute dtype, default precision) on that device.
`--dtype bfloat16` times the mixed-precision mode: gan_jax's model.compute_dtype='bfloat16',
PyTorch under torch.autocast(bfloat16); both keep float32 parameters and optimizer state.

FLOPs per step are counted from the layer shapes for the direct algorithm, 2 per multiply-add:
with F_G and F_D the forward FLOPs of G and D on one batch, a step is
    D update: F_G (fakes) + 2 F_D (real, fake) + 4 F_D (backward: weights and activations)
    G update: F_G + F_D + F_D (backward through D, activations only) + 2 F_G (backward of G)
  = 4 F_G + 8 F_D.
The same count is used for both frameworks, so the FLOP rates compare as the speeds do. The
machine's matmul peak is measured in this process: numpy's float32 GEMM (OpenBLAS) on 2048^3,
best of several runs. `--impls` picks gan_jax's DCGAN conv implementations to time
(model.conv_impl); `--devices N` runs gan_jax data-parallel over N XLA CPU devices (set before
jax is imported, with Eigen single-threaded per device, so each device is one core).

Hygiene as bench_train_step.py: one process, warm-up first, interleaved rounds with rotating
order, medians over rounds; torch.set_num_threads(2) and OMP_WAIT_POLICY=PASSIVE.
"""
import os
import sys


def _early_flags(argv):
    """XLA flags must be set before jax is imported: --devices N > 1 -> N CPU devices."""
    for i, arg in enumerate(argv):
        value = arg.split("=", 1)[1] if arg.startswith("--devices=") else (
            argv[i + 1] if arg == "--devices" and i + 1 < len(argv) else None)
        if value and int(value) > 1:
            os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                                       f" --xla_force_host_platform_device_count={int(value)}"
                                       " --xla_cpu_multi_thread_eigen=false")


_early_flags(sys.argv)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch (and its OpenMP) loads

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import jax  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from experiments.bench_train_step import run_rounds, warm_up  # noqa: E402
from experiments.torch_dcgan import TorchContender, torch_on_gpu  # noqa: E402
from gan_jax.config import base_config, optimizer  # noqa: E402
from gan_jax.data.stream import ImageStream  # noqa: E402
from gan_jax.nets.dcgan import stages  # noqa: E402
from gan_jax.train.loop import build_run, host_batches  # noqa: E402
from gan_jax.train.parallel import select_devices  # noqa: E402

TORCH_THREADS = 2
SETTINGS = {
    "mnist32": dict(size=32, channels=1, width=64, batch=64, latent=100),
    "rgb64": dict(size=64, channels=3, width=64, batch=128, latent=100),
}


# ----------------------------------------------------------------------------------------------
# Data and FLOPs
# ----------------------------------------------------------------------------------------------

def bench_images(setting: dict, n: int = 2048) -> np.ndarray:
    """uint8 training images of the setting's shape: MNIST digits resized, or random RGB."""
    size, channels = setting["size"], setting["channels"]
    if channels == 1:
        from gan_jax.data.images import load_images
        from gan_jax.data.resize import crop_and_resize
        images, _ = load_images("mnist_offline", "train")
        return crop_and_resize(images[:n], size)
    return np.random.default_rng(0).integers(0, 256, (n, size, size, channels), dtype=np.uint8)


def dcgan_layers(setting: dict):
    """[(kind, c_in, c_out, side_in, side_out)] of G and D for the setting (as nets/dcgan.py)."""
    size, c, w = setting["size"], setting["channels"], setting["width"]
    start, n = stages(size)
    g, width, side = [("dense", setting["latent"], start * start * w * 2 ** (n - 1), 1, 1)], \
        w * 2 ** (n - 1), start
    for _ in range(n - 1):
        g.append(("deconv", width, width // 2, side, side * 2))
        width, side = width // 2, side * 2
    g.append(("deconv", width, c, side, side * 2))
    d, ch, side = [], c, size
    for i in range(n):
        d.append(("conv", ch, w * 2 ** i, side, side // 2))
        ch, side = w * 2 ** i, side // 2
    d.append(("logit", ch, 1, side, 1))
    return g, d


def forward_flops(layers, batch: int) -> float:
    """2 x multiply-adds of a direct evaluation of the layers on one batch."""
    total = 0
    for kind, ci, co, side_in, side_out in layers:
        if kind == "dense":
            total += ci * co
        elif kind == "deconv":                  # every input pixel meets all 16 taps
            total += side_in * side_in * ci * co * 16
        elif kind == "conv":                    # every output pixel reads 16 taps
            total += side_out * side_out * ci * co * 16
        else:                                   # logit: one side x side window
            total += side_in * side_in * ci * co
    return 2.0 * total * batch


def step_flops(setting: dict) -> float:
    g, d = dcgan_layers(setting)
    f_g, f_d = forward_flops(g, setting["batch"]), forward_flops(d, setting["batch"])
    return 4 * f_g + 8 * f_d


def matmul_peak(dtype: str = "float32", runs: int = 7) -> float:
    """The machine's GEMM peak in FLOP/s: on CPU numpy's float32 GEMM (OpenBLAS, 2048^3), on an
    accelerator jax's GEMM of the compute dtype (8192^3); best of several runs after one warm-up."""
    if jax.default_backend() == "cpu":
        n = 2048
        a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
        b = a.T.copy()
        gemm = lambda: a @ b  # noqa: E731
    else:
        import jax.numpy as jnp
        n = 8192
        a = b = jax.random.normal(jax.random.key(0), (n, n), jnp.dtype(dtype))
        dot = jax.jit(jnp.dot)
        gemm = lambda: dot(a, b).block_until_ready()  # noqa: E731
    gemm()
    rates = []
    for _ in range(runs):
        t0 = time.perf_counter()
        gemm()
        rates.append(2 * n ** 3 / (time.perf_counter() - t0))
    return float(np.max(rates))


def host_description() -> str:
    """The CPU's model name and count (speed ratios against PyTorch differ between CPU models)."""
    name = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            name = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{name} x {os.cpu_count()}"


# ----------------------------------------------------------------------------------------------
# gan_jax
# ----------------------------------------------------------------------------------------------

def dcgan_config(setting: dict, impl: str, devices: int, dtype: str = "float32"):
    c = base_config()
    c.model.arch = "dcgan"
    c.model.compute_dtype = dtype
    c.model.latent_dim = setting["latent"]
    c.model.g_width = c.model.d_width = setting["width"]
    c.model.conv_impl = impl
    c.optim.g = optimizer("adam", lr=2e-4, b1=0.5)
    c.optim.d = optimizer("adam", lr=2e-4, b1=0.5)
    t = c.train
    t.batch_size, t.steps_per_call, t.num_devices, t.progress = setting["batch"], 1, devices, False
    t.log_every = t.sample_every = t.ckpt_every = 1
    return c


class GanJaxContender:
    framework = "gan_jax"
    steps_per_call = 1

    def __init__(self, setting, images, impl: str, devices: int, dtype: str = "float32"):
        config = dcgan_config(setting, impl, devices, dtype)
        self.name = f"gan_jax {impl}" + (f" {devices} dev" if devices > 1 else "")
        self.train_config = config.train
        data = ImageStream(images, seed=0)
        self.data, _, state, self.mapper = build_run(config, select_devices(devices), data=data)
        self.state = self.mapper.put_state(state)
        self.position, self.metrics = 0, None

    def call(self):
        batch, self.position = host_batches(self.data, self.position, self.train_config)
        self.state, self.metrics = self.mapper(self.state, batch)

    def block(self):
        jax.block_until_ready((self.state, self.metrics))


# ----------------------------------------------------------------------------------------------
# Run and report
# ----------------------------------------------------------------------------------------------

def bench_setting(name: str, args, log, peak: float) -> dict:
    setting = SETTINGS[name]
    images = bench_images(setting)
    contenders = []
    for impl in args.impls.split(","):
        t0 = time.perf_counter()
        contenders.append(GanJaxContender(setting, images, impl, args.devices, args.dtype))
        log(f"  built {contenders[-1].name} in {time.perf_counter() - t0:.1f} s")
    contenders.append(TorchContender(setting, dcgan_layers(setting), images, dtype=args.dtype))
    if args.torch_channels_last:
        contenders.append(TorchContender(setting, dcgan_layers(setting), images,
                                          channels_last=True, dtype=args.dtype))
    for c in contenders:
        w = warm_up(c, args.round_seconds)
        log(f"  warmed {c.name}: {w['warmup_s']:.1f} s, {w['per_call_s'] * 1e3:.0f} ms/step")
    rates = run_rounds(contenders, args.rounds, log)
    flops = step_flops(setting)
    base = float(np.median(rates["torch eager"]))
    out = {"setting": setting, "step_gflop": flops / 1e9, "contenders": {}}
    for c in contenders:
        med = float(np.median(rates[c.name]))
        out["contenders"][c.name] = {
            "median_steps_per_s": med, "images_per_s": med * setting["batch"],
            "ratio_vs_torch_eager": med / base, "gflop_per_s": med * flops / 1e9,
            "fraction_of_matmul_peak": med * flops / peak, "rounds_steps_per_s": rates[c.name]}
    return out


def format_table(results: dict, peak: float) -> str:
    head = (f"{'setting':<8} {'contender':<26} {'images/s':>9} {'x torch':>8} {'GFLOP/s':>8} "
            f"{'of peak':>8}")
    what = "numpy sgemm 2048^3" if jax.default_backend() == "cpu" else "jax GEMM 8192^3"
    lines = [f"host: {host_description()}; jax backend: {jax.default_backend()}",
             f"matmul peak ({what}): {peak / 1e9:.1f} GFLOP/s", head, "-" * len(head)]
    for name, res in results.items():
        for cname, r in res["contenders"].items():
            lines.append(f"{name:<8} {cname:<26} {r['images_per_s']:>9.1f} "
                         f"{r['ratio_vs_torch_eager']:>7.2f}x {r['gflop_per_s']:>8.1f} "
                         f"{100 * r['fraction_of_matmul_peak']:>7.0f}%")
        lines.append(f"{name}: {res['step_gflop']:.2f} GFLOP per step (direct algorithm)")
    return "\n".join(lines)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--settings", default="mnist32", help="comma-separated: mnist32, rgb64")
    p.add_argument("--impls", default="fast",
                   help="gan_jax model.conv_impl values to time (default: the model's default, fast)")
    p.add_argument("--devices", type=int, default=1,
                   help="gan_jax data-parallel over this many XLA CPU devices (one core each)")
    p.add_argument("--dtype", default="float32", choices=("float32", "bfloat16"),
                   help="compute dtype of both frameworks (bfloat16: mixed precision)")
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--round-seconds", type=float, default=3.0)
    p.add_argument("--torch-channels-last", action="store_true",
                   help="also time PyTorch with channels_last tensors")
    p.add_argument("--json", default="")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(TORCH_THREADS)
    start = time.perf_counter()

    def log(msg):
        print(f"[{time.perf_counter() - start:6.1f} s] {msg}", flush=True)

    log(f"load average before: {os.getloadavg()}; jax devices: {jax.local_device_count()}")
    log(f"host: {host_description()}; jax backend {jax.default_backend()}; "
        f"torch on {'cuda' if torch_on_gpu() else 'cpu'}; compute dtype {args.dtype}")
    peak = matmul_peak(args.dtype)
    log(f"matmul peak {peak / 1e9:.1f} GFLOP/s")
    results = {}
    for name in args.settings.split(","):
        log(f"[{name}]")
        results[name] = bench_setting(name, args, log, peak)
    print()
    print(format_table(results, peak))
    meta = {"jax": jax.__version__, "torch": torch.__version__,
            "python": platform.python_version(), "cpu_count": os.cpu_count(),
            "host": host_description(), "backend": jax.default_backend(),
            "torch_device": "cuda" if torch_on_gpu() else "cpu", "dtype": args.dtype,
            "xla_flags": os.environ.get("XLA_FLAGS", ""), "devices": args.devices,
            "matmul_peak_flops": peak, "load_average_after": os.getloadavg(),
            "total_s": time.perf_counter() - start}
    print(f"total {meta['total_s']:.0f} s; load average after: {meta['load_average_after']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "results": results}, f, indent=2)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
