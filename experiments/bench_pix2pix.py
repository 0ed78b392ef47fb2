"""Speed of the full Pix2Pix training step: gan_jax against the same networks in PyTorch eager.

    PYTHONPATH=. python experiments/bench_pix2pix.py [--settings b1,b8] [--norm instance]
        [--rounds 10] [--round-seconds 5] [--iters N] [--width 64] [--json out.json]
    PYTHONPATH=. python experiments/bench_pix2pix.py --check [--width 8] [--norm batch]

Goal: gan_jax at >= 1.2x PyTorch eager's steps/s on this 2-core CPU; the table reports what it
measures.

Settings: 128x128 pairs (a: 3 channels, b: 1, as digit_scenes), batch 1 (`b1`, the paper's) or
8 (`b8`). The model is experiments/configs/pix2pix_digit_scenes.py at the paper's widths: U-Net
128 (depth 7, encoder C64-C128-C256-C512-C512-C512-C512), 70x70 PatchGAN (C64-C128-C256-C512),
`--norm` instance (the shipped config) or batch, L1 + cGAN with lambda 100, Adam(2e-4, 0.5)
with a constant rate (the config's linear decay is switched off, PyTorch has none). The data is
a stand-in `PairedStream` of random uint8 pairs (speed does not depend on pixel values).

gan_jax runs as its trainer does: `build_run(config, select_devices(1), data=stream)`, then per
step `host_batches(...)` and `mapper(state, batch)`, blocked on the result. PyTorch
(experiments/torch_pix2pix.py) runs the same layers, init, losses and optimizer in the official
pix2pix loop: ONE G forward per step, reused for D's update (detached) and G's update; gan_jax's
pix2pix update does the same (one forward, kept as a vjp for G's update).

FLOPs per step are counted from the layer shapes for the direct algorithm, 2 per multiply-add
(4x4 convolutions: 16 taps per output pixel; transposed ones: 16 per input pixel; norms,
activations, losses and Adam not counted). With F_G and F_D the forward FLOPs of G and D on one
batch, the official single-forward step is
    G forward                                 F_G
    D update: D on the real and the fake pair 2 F_D, backward of both (weights and
              activations, 2x forward each)   4 F_D
    G update: D on the fake pair              F_D, backward through D (activations only: D's
              weights are frozen)             F_D, backward of G (2x forward)   2 F_G
  = 3 F_G + 8 F_D.
Both frameworks compute and are credited this count, so FLOP rates compare as speeds do. The machine's GEMM peak is numpy's
float32 GEMM (OpenBLAS) on 2048^3, best of several runs, measured in this process.

Hygiene as bench_dcgan.py: one process, warm-up (compilation) first, interleaved rounds with
rotating order, medians over rounds; torch.set_num_threads(2), OMP_WAIT_POLICY=PASSIVE.
`--check` copies gan_jax's initial G and D parameters into the PyTorch modules and compares one
forward pass of each on the same input (dropout off, normalisation in training mode).
"""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch (and its OpenMP) loads

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from experiments.bench_dcgan import host_description, matmul_peak  # noqa: E402
from experiments.bench_train_step import run_rounds, timed_calls, warm_up  # noqa: E402
from experiments.torch_pix2pix import (TorchPatchGAN, TorchPix2Pix, TorchUNet,  # noqa: E402
                                       load_flax, unet_widths)
from gan_jax import registry  # noqa: E402
from gan_jax.config import load_experiment  # noqa: E402
from gan_jax.data.stream import PairedStream  # noqa: E402
from gan_jax.gans.vanilla import apply_net  # noqa: E402
from gan_jax.train.loop import build_run, host_batches  # noqa: E402
from gan_jax.train.parallel import select_devices  # noqa: E402

TORCH_THREADS = 2
SIZE, A_CHANNELS, B_CHANNELS = 128, 3, 1
SETTINGS = {"b1": 1, "b8": 8}


# ----------------------------------------------------------------------------------------------
# Data, config and FLOPs
# ----------------------------------------------------------------------------------------------

def stand_in_pairs(n: int = 256, seed: int = 0):
    """Random uint8 pairs a [n, 128, 128, 3], b [n, 128, 128, 1]."""
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, (n, SIZE, SIZE, A_CHANNELS), dtype=np.uint8),
            rng.integers(0, 256, (n, SIZE, SIZE, B_CHANNELS), dtype=np.uint8))


def pix2pix_config(batch: int, width: int, norm: str):
    c = load_experiment("pix2pix_digit_scenes")
    c.model.g_width = c.model.d_width = width
    c.model.patch, c.model.norm = 70, norm
    for player in (c.optim.g, c.optim.d):
        player.schedule = "constant"
    t = c.train
    t.batch_size, t.steps_per_call, t.num_devices, t.progress = batch, 1, 1, False
    t.log_every = t.sample_every = t.ckpt_every = 1
    return c


def pix2pix_layers(width: int):
    """[(c_in, c_out, side)] of G's and D's 4x4 layers, `side` the side of the pixels that meet
    all 16 taps: a convolution's output, a transposed convolution's input."""
    depth = SIZE.bit_length() - 1
    w = unet_widths(depth, width)
    g = [(A_CHANNELS if i == 0 else w[i - 1], w[i], SIZE >> (i + 1)) for i in range(depth)]
    g += [(w[i] if i == depth - 1 else 2 * w[i], B_CHANNELS if i == 0 else w[i - 1],
           SIZE >> (i + 1)) for i in reversed(range(depth))]
    s = SIZE // 8                                          # after three stride-2 convolutions
    d = [(A_CHANNELS + B_CHANNELS, width, SIZE // 2), (width, 2 * width, SIZE // 4),
         (2 * width, 4 * width, s), (4 * width, 8 * width, s - 1), (8 * width, 1, s - 2)]
    return g, d


def step_flops(batch: int, width: int) -> float:
    """3 F_G + 8 F_D (the official single-forward step; see the module docstring)."""
    f_g, f_d = (2.0 * batch * sum(side * side * ci * co * 16 for ci, co, side in layers)
                for layers in pix2pix_layers(width))
    return 3 * f_g + 8 * f_d


# ----------------------------------------------------------------------------------------------
# gan_jax contender and the correctness check
# ----------------------------------------------------------------------------------------------

class GanJaxPix2Pix:
    framework = "gan_jax"
    steps_per_call = 1
    name = "gan_jax"

    def __init__(self, a, b, batch: int, width: int, norm: str):
        config = pix2pix_config(batch, width, norm)
        self.train_config = config.train
        stream = PairedStream(a, b, seed=0)
        self.data, _, state, self.mapper = build_run(config, select_devices(1), data=stream)
        self.state = self.mapper.put_state(state)
        self.position, self.metrics = 0, None

    def call(self):
        batch, self.position = host_batches(self.data, self.position, self.train_config)
        self.state, self.metrics = self.mapper(self.state, batch)

    def block(self):
        jax.block_until_ready((self.state, self.metrics))


def check(width: int, norm: str, batch: int = 2) -> dict:
    """Max |gan_jax - PyTorch| of G's and D's outputs on one input, with gan_jax's initial
    parameters copied into the PyTorch modules; dropout off (noise_keys=None, nn.Dropout.eval()),
    normalisation in training mode (as in the step; BatchNorm uses the batch's statistics)."""
    config = pix2pix_config(batch, width, norm)
    a8, b8 = stand_in_pairs(batch, seed=1)
    stream = PairedStream(a8, b8)
    g_net = registry.generator(config.model.arch, config, stream).clone(axis_name=None)
    d_net = registry.discriminator("patchgan", config, stream).clone(axis_name=None)
    a, b = a8.astype(np.float32) / 127.5 - 1.0, b8.astype(np.float32) / 127.5 - 1.0
    ab = np.concatenate([a, b], axis=-1)
    k_g, k_d = jax.random.split(jax.random.key(0))
    g_vars, d_vars = g_net.init(k_g, a, train=False), d_net.init(k_d, ab, train=False)
    g_jax, _ = apply_net(g_net, g_vars, jnp.asarray(a), True, noise_keys=None)
    d_jax, _ = apply_net(d_net, d_vars, jnp.asarray(ab), True)

    depth = SIZE.bit_length() - 1
    g_t, d_t = TorchUNet(A_CHANNELS, B_CHANNELS, depth, width, norm), \
        TorchPatchGAN(A_CHANNELS + B_CHANNELS, width, norm)
    load_flax(g_t, g_vars["params"]), load_flax(d_t, d_vars["params"])
    g_t.train(), d_t.train()
    for m in g_t.modules():
        if isinstance(m, torch.nn.Dropout):
            m.eval()                                       # dropout only; norms stay in training
    nchw = lambda x: torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))  # noqa: E731
    with torch.no_grad():
        g_torch = g_t(nchw(a)).numpy().transpose(0, 2, 3, 1)
        d_torch = d_t(nchw(ab)).numpy().transpose(0, 2, 3, 1)
    out = {"width": width, "norm": norm, "batch": batch, "side": SIZE}
    for name, x, y in (("g", g_jax, g_torch), ("d", d_jax, d_torch)):
        x = np.asarray(x)
        assert x.shape == y.shape, (name, x.shape, y.shape)
        out[f"{name}_shape"] = list(x.shape)
        out[f"{name}_max_abs"] = float(np.max(np.abs(x)))
        out[f"{name}_max_abs_diff"] = float(np.max(np.abs(x - y)))
    return out


# ----------------------------------------------------------------------------------------------
# Run and report
# ----------------------------------------------------------------------------------------------

def warm(c, args) -> dict:
    """Compile and warm up; rounds of `--iters` steps, or sized to about --round-seconds."""
    if not args.iters:
        return warm_up(c, args.round_seconds)
    t0 = time.perf_counter()
    for _ in range(2):                 # two calls: neither compilation may land in a round
        timed_calls(c, 1)
    c.calls_per_round = args.iters
    return {"warmup_s": time.perf_counter() - t0, "per_call_s": timed_calls(c, 1),
            "calls_per_round": args.iters}


def bench_setting(name: str, args, log, peak: float) -> dict:
    batch = SETTINGS[name]
    a, b = stand_in_pairs()
    t0 = time.perf_counter()
    contenders = [GanJaxPix2Pix(a, b, batch, args.width, args.norm)]
    log(f"  built gan_jax in {time.perf_counter() - t0:.1f} s")
    contenders.append(TorchPix2Pix(a, b, batch, args.width, args.norm))
    for c in contenders:
        w = warm(c, args)
        log(f"  warmed {c.name}: {w['warmup_s']:.1f} s, {w['per_call_s'] * 1e3:.0f} ms/step, "
            f"{c.calls_per_round} steps/round")
    rates = run_rounds(contenders, args.rounds, log)
    flops = step_flops(batch, args.width)
    base = float(np.median(rates["torch eager"]))
    out = {"batch": batch, "side": SIZE, "width": args.width, "norm": args.norm,
           "step_gflop": flops / 1e9, "contenders": {}}
    for c in contenders:
        med = float(np.median(rates[c.name]))
        out["contenders"][c.name] = {
            "median_steps_per_s": med, "images_per_s": med * batch,
            "ratio_vs_torch_eager": med / base, "gflop_per_s": med * flops / 1e9,
            "fraction_of_matmul_peak": med * flops / peak, "rounds_steps_per_s": rates[c.name]}
    return out


def format_table(results: dict, peak: float) -> str:
    head = (f"{'setting':<8} {'contender':<12} {'steps/s':>8} {'images/s':>9} {'x torch':>8} "
            f"{'GFLOP/s':>8} {'of peak':>8}")
    lines = [f"host: {host_description()}; jax backend: {jax.default_backend()}",
             f"matmul peak (numpy sgemm 2048^3): {peak / 1e9:.1f} GFLOP/s", head, "-" * len(head)]
    for name, res in results.items():
        for cname, r in res["contenders"].items():
            lines.append(f"{name:<8} {cname:<12} {r['median_steps_per_s']:>8.2f} "
                         f"{r['images_per_s']:>9.2f} {r['ratio_vs_torch_eager']:>7.2f}x "
                         f"{r['gflop_per_s']:>8.1f} {100 * r['fraction_of_matmul_peak']:>7.0f}%")
        lines.append(f"{name}: {res['step_gflop']:.1f} GFLOP per step (3 F_G + 8 F_D, direct)")
    return "\n".join(lines)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--settings", default="b1,b8", help="comma-separated: b1, b8")
    p.add_argument("--norm", default="instance", choices=("instance", "batch"))
    p.add_argument("--width", type=int, default=None,
                   help="G's and D's base width (default: the paper's 64; 8 with --check)")
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--round-seconds", type=float, default=5.0)
    p.add_argument("--iters", type=int, default=0,
                   help="> 0: this many steps per round (and no round sizing)")
    p.add_argument("--check", action="store_true",
                   help="compare G's and D's forward passes with PyTorch instead of timing")
    p.add_argument("--json", default="")
    args = p.parse_args(argv)
    args.width = args.width or (8 if args.check else 64)
    return args


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(TORCH_THREADS)
    start = time.perf_counter()

    def log(msg):
        print(f"[{time.perf_counter() - start:6.1f} s] {msg}", flush=True)

    if args.check:
        result = check(args.width, args.norm)
        print(json.dumps(result))
        ok = max(result["g_max_abs_diff"], result["d_max_abs_diff"]) < 1e-4
        print("check", "passed" if ok else "FAILED", "(max abs diff < 1e-4)")
        if args.json:
            with open(args.json, "w") as f:
                json.dump(result, f, indent=2)
        raise SystemExit(0 if ok else 1)

    log(f"load average before: {os.getloadavg()}")
    log(f"host: {host_description()}; jax backend {jax.default_backend()}")
    peak = matmul_peak()
    log(f"matmul peak {peak / 1e9:.1f} GFLOP/s")
    results = {}
    for name in args.settings.split(","):
        log(f"[{name}] batch {SETTINGS[name]}, {SIZE}x{SIZE}, width {args.width}, {args.norm}")
        results[name] = bench_setting(name, args, log, peak)
    print()
    print(format_table(results, peak))
    meta = {"jax": jax.__version__, "torch": torch.__version__,
            "python": platform.python_version(), "cpu_count": os.cpu_count(),
            "host": host_description(), "backend": jax.default_backend(),
            "torch_threads": TORCH_THREADS, "matmul_peak_flops": peak,
            "load_average_after": os.getloadavg(), "total_s": time.perf_counter() - start}
    print(f"total {meta['total_s']:.0f} s; load average after: {meta['load_average_after']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "results": results}, f, indent=2)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
