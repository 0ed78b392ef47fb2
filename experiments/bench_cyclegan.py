"""Speed of the full CycleGAN training step: gan_jax against the same networks in PyTorch eager.

    PYTHONPATH=. python experiments/bench_cyclegan.py [--settings b1,b4] [--rounds 8]
        [--round-seconds 10] [--iters N] [--width 64] [--torch-official] [--json out.json]
    PYTHONPATH=. python experiments/bench_cyclegan.py --check [--width 8]

Goal: gan_jax at >= 1.2x PyTorch eager's steps/s on this 2-core CPU; the table reports what it
measures.

Settings: unpaired 128x128 RGB images in both domains (as grass_gravel), batch 1 (`b1`, the
paper's) or 4 (`b4`). The model is the paper's (Zhu et al. 2017; the official code's
`--netG resnet_6blocks --netD basic --norm instance --gan_mode lsgan`) at its widths: two
ResNet-6 generators (c7s1-64, d128, d256, 6 x R256, u128, u64, c7s1-3), two 70x70 PatchGANs
(C64-C128-C256-C512), InstanceNorm, least-squares GAN, cycle lambda 10, identity 0.5, image pools
of 50, Adam(2e-4, 0.5) with a constant rate (the linear decay is switched off; PyTorch has none).
The config is experiments/configs/cyclegan_digits_mnist.py with those settings
(`cyclegan_config`). The data is a stand-in `UnpairedStream` of random uint8 images (speed does
not depend on pixel values).

gan_jax runs as its trainer does: `build_run(config, select_devices(1), data=stream)`, then per
step `host_batches(...)` and `mapper(state, batch)`, blocked on the result. PyTorch
(experiments/torch_cyclegan.py) runs the official code's optimize_parameters on networks that
mirror gan_jax's parameter for parameter (no bias on a convolution followed by a norm, affine
InstanceNorm: `style='gan_jax'`; `--torch-official` adds the official code's own networks, bias
and non-affine norm, as a third contender). Before timing, the bench checks that gan_jax's and
PyTorch's networks have the same parameter counts and the same kernel shape under every layer
name, and the same G and D output shapes (`structure_check`); `--check` also copies gan_jax's
initial parameters into the PyTorch modules and compares G's and D's outputs on one input.

FLOPs per step are counted from the layer shapes for the direct algorithm, 2 per multiply-add
(a 3x3 transposed convolution: 9 taps per input pixel; norms, activations, padding, losses, the
pool and Adam not counted). With F_G and F_D the forward FLOPs of one G and one D on one batch:
    G forwards   fake_B, rec_A, fake_A, rec_B, idt_A, idt_B          6 F_G
    G backward   through all six (activations and weights, 2x)        12 F_G
    G step's D   D_A(fake_B), D_B(fake_A) forward, backward to the
                 activations only (D's weights frozen)                 4 F_D
    D step       D_A and D_B on a real and a pooled fake each, forward
                 and backward (weights and activations)                12 F_D
  = 18 F_G + 16 F_D (G's first layer's input gradient, not needed, is counted: an upper bound
of ~1 % on G). Both frameworks are credited this count. The machine's GEMM peak is numpy's
float32 GEMM (2048^3), best of several runs, measured in this process.

Hygiene as bench_pix2pix.py: one process, warm-up (compilation) first, interleaved rounds with
rotating order, medians over rounds; torch.set_num_threads(2), OMP_WAIT_POLICY=PASSIVE. The
load average before and after is printed: other processes on the machine skew both contenders
(not necessarily equally), so compare rounds' spread and repeat at a quiet moment.
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
from experiments.bench_pix2pix import warm  # noqa: E402
from experiments.bench_train_step import run_rounds  # noqa: E402
from experiments.torch_cyclegan import (NLayerDiscriminator, ResnetGenerator,  # noqa: E402
                                        TorchCycleGAN, count_params, init_weights, load_flax)
from gan_jax import registry  # noqa: E402
from gan_jax.config import load_experiment  # noqa: E402
from gan_jax.data.stream import UnpairedStream  # noqa: E402
from gan_jax.gans.vanilla import apply_net  # noqa: E402
from gan_jax.train.loop import build_run, host_batches  # noqa: E402
from gan_jax.train.parallel import select_devices  # noqa: E402

TORCH_THREADS = 2
SIZE, CHANNELS, RES_BLOCKS = 128, 3, 6
SETTINGS = {"b1": 1, "b4": 4}


# ----------------------------------------------------------------------------------------------
# Data, config and FLOPs
# ----------------------------------------------------------------------------------------------

def stand_in_domains(n: int = 64, seed: int = 0):
    """Random uint8 images a, b [n, 128, 128, 3] (two unrelated sets)."""
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, (n, SIZE, SIZE, CHANNELS), dtype=np.uint8),
            rng.integers(0, 256, (n, SIZE, SIZE, CHANNELS), dtype=np.uint8))


def cyclegan_config(batch: int, width: int):
    """The paper's model and step at 128x128 (see the module docstring), constant rate."""
    c = load_experiment("cyclegan_digits_mnist")
    c.data.name = "grass_gravel"                  # 128x128 RGB unpaired (the stream replaces it)
    c.model.arch, c.model.res_blocks, c.model.norm = "resnet", RES_BLOCKS, "instance"
    c.model.g_width = c.model.d_width = width
    c.model.patch = 70
    c.loss.name = "least_squares"
    c.cyclegan.loss = "full"
    c.cyclegan.lambda_cycle, c.cyclegan.lambda_identity, c.cyclegan.pool_size = 10.0, 0.5, 50
    for player in (c.optim.g, c.optim.d):
        player.lr, player.b1, player.schedule = 2e-4, 0.5, "constant"
    t = c.train
    t.batch_size, t.steps_per_call, t.num_devices, t.progress = batch, 1, 1, False
    t.log_every = t.sample_every = t.ckpt_every = 1
    return c


def generator_layers(width: int):
    """[(taps, pixels, c_in, c_out)] of one ResNet-6 G's convolutions at 128x128, batch 1;
    `pixels` meet all taps: a convolution's output, a transposed convolution's input."""
    w, s = width, SIZE
    out = [(49, s * s, CHANNELS, w), (9, (s // 2) ** 2, w, 2 * w), (9, (s // 4) ** 2, 2 * w, 4 * w)]
    out += [(9, (s // 4) ** 2, 4 * w, 4 * w)] * (2 * RES_BLOCKS)
    out += [(9, (s // 4) ** 2, 4 * w, 2 * w), (9, (s // 2) ** 2, 2 * w, w),
            (49, s * s, w, CHANNELS)]
    return out


def discriminator_layers(width: int):
    w, s = width, SIZE
    return [(16, (s // 2) ** 2, CHANNELS, w), (16, (s // 4) ** 2, w, 2 * w),
            (16, (s // 8) ** 2, 2 * w, 4 * w), (16, (s // 8 - 1) ** 2, 4 * w, 8 * w),
            (16, (s // 8 - 2) ** 2, 8 * w, 1)]


def step_flops(batch: int, width: int) -> float:
    """18 F_G + 16 F_D (see the module docstring)."""
    f_g, f_d = (2.0 * batch * sum(t * p * ci * co for t, p, ci, co in layers)
                for layers in (generator_layers(width), discriminator_layers(width)))
    return 18 * f_g + 16 * f_d


# ----------------------------------------------------------------------------------------------
# gan_jax contender and the checks
# ----------------------------------------------------------------------------------------------

class GanJaxCycleGAN:
    framework = "gan_jax"
    steps_per_call = 1
    name = "gan_jax"

    def __init__(self, a, b, batch: int, width: int):
        config = cyclegan_config(batch, width)
        self.train_config = config.train
        stream = UnpairedStream(a, b, seed=0)
        self.data, self.spec, state, self.mapper = build_run(config, select_devices(1),
                                                             data=stream)
        self.initial_state = state
        self.state = self.mapper.put_state(state)
        self.position, self.metrics = 0, None

    def call(self):
        batch, self.position = host_batches(self.data, self.position, self.train_config)
        self.state, self.metrics = self.mapper(self.state, batch)

    def block(self):
        jax.block_until_ready((self.state, self.metrics))


def generator_net(width: int, batch: int = 1):
    """gan_jax's G (A -> B) of the bench's config, from the registry, for the profile script."""
    config = cyclegan_config(batch, width)
    stream = UnpairedStream(*stand_in_domains(2))
    return registry.generator("resnet", config, stream.info, direction="ab").clone(
        axis_name=None)


def flat_shapes(tree) -> dict:
    """{layer: {leaf: shape}} of a flax parameter tree."""
    return {layer: {k: tuple(v.shape) for k, v in leaves.items()} for layer, leaves in tree.items()}


def torch_shapes(module) -> dict:
    """{layer: {leaf: shape}} of a torch module in flax's layout (HWIO kernels; transposed:
    [k, k, C_in, C_out]; norms: scale, bias)."""
    out = {}
    for name, m in module.layers.items():
        leaves = {}
        if isinstance(m, torch.nn.ConvTranspose2d):
            leaves["kernel"] = tuple(m.weight.permute(2, 3, 0, 1).shape)
        elif isinstance(m, torch.nn.Conv2d):
            leaves["kernel"] = tuple(m.weight.permute(2, 3, 1, 0).shape)
        elif m.weight is not None:
            leaves["scale"] = tuple(m.weight.shape)
        if getattr(m, "bias", None) is not None:
            leaves["bias"] = tuple(m.bias.shape)
        if leaves:
            out[name] = leaves
    return out


def structure_check(gan_jax: GanJaxCycleGAN, torch_c: TorchCycleGAN, batch: int) -> dict:
    """Same parameter counts, the same kernel / scale / bias shapes under every layer name (the
    FLOP-relevant shapes), and the same G and D output shapes; raises on any difference."""
    state = gan_jax.initial_state
    g, d = state.g["params"], state.d["params"]
    count = lambda tree: int(sum(x.size for x in jax.tree.leaves(tree)))  # noqa: E731
    out = {"gan_jax": {"g_ab": count(g["ab"]), "g_ba": count(g["ba"]), "d_a": count(d["a"]),
                       "d_b": count(d["b"])},
           "torch": {"g_ab": count_params(torch_c.g_a), "g_ba": count_params(torch_c.g_b),
                     "d_a": count_params(torch_c.d_b), "d_b": count_params(torch_c.d_a)}}
    # gan_jax's D_B judges domain B: the official code's (and torch_cyclegan's) D_A
    assert out["gan_jax"] == out["torch"], out
    for name, tree, module in (("g_ab", g["ab"], torch_c.g_a), ("g_ba", g["ba"], torch_c.g_b),
                               ("d_a", d["a"], torch_c.d_b), ("d_b", d["b"], torch_c.d_a)):
        ours, theirs = flat_shapes(tree), torch_shapes(module)
        assert ours == theirs, (name, {k: (ours.get(k), theirs.get(k))
                                       for k in set(ours) | set(theirs)
                                       if ours.get(k) != theirs.get(k)})
    # output shapes (strides, paddings): jax by eval_shape, torch on a zero batch
    x = jnp.zeros((batch, SIZE, SIZE, CHANNELS), jnp.float32)
    config = cyclegan_config(batch, torch_c.width)
    g_net = registry.generator("resnet", config, gan_jax.data.info, direction="ab")
    d_net = registry.discriminator("patchgan", config, gan_jax.data.info)
    # train=False: the nets' shapes do not depend on it (instance norm has no running stats)
    g_shape = jax.eval_shape(lambda v, x: g_net.apply(v, x, train=False),
                             {"params": g["ab"]}, x).shape
    d_shape = jax.eval_shape(lambda v, x: d_net.apply(v, x, train=False),
                             {"params": d["b"]}, x).shape
    with torch.no_grad():
        xt = torch.zeros(batch, CHANNELS, SIZE, SIZE)
        tg, td = tuple(torch_c.g_a(xt).shape), tuple(torch_c.d_a(xt).shape)
    assert g_shape == (tg[0], tg[2], tg[3], tg[1]), (g_shape, tg)
    assert d_shape == (td[0], td[2], td[3], td[1]), (d_shape, td)
    out["g_output"], out["d_output"] = list(g_shape), list(d_shape)
    out["layers"] = sum(len(flat_shapes(t)) for t in (g["ab"], d["a"]))
    return out


def check(width: int, batch: int = 2) -> dict:
    """Max |gan_jax - PyTorch| of G's and D's outputs on one input, with gan_jax's initial
    parameters copied into the PyTorch modules (norms in training mode, as in the step)."""
    config = cyclegan_config(batch, width)
    a8, b8 = stand_in_domains(batch, seed=1)
    info = UnpairedStream(a8, b8).info
    g_net = registry.generator("resnet", config, info, direction="ab").clone(axis_name=None)
    d_net = registry.discriminator("patchgan", config, info).clone(axis_name=None)
    a = a8.astype(np.float32) / 127.5 - 1.0
    k_g, k_d = jax.random.split(jax.random.key(0))
    g_vars, d_vars = g_net.init(k_g, a, train=False), d_net.init(k_d, a, train=False)
    g_jax, _ = apply_net(g_net, g_vars, jnp.asarray(a), True)
    d_jax, _ = apply_net(d_net, d_vars, jnp.asarray(a), True)
    g_t = ResnetGenerator(CHANNELS, CHANNELS, width, RES_BLOCKS, "gan_jax")
    d_t = NLayerDiscriminator(CHANNELS, width, style="gan_jax")
    init_weights(g_t), init_weights(d_t)
    load_flax(g_t, g_vars["params"]), load_flax(d_t, d_vars["params"])
    g_t.train(), d_t.train()
    nchw = lambda x: torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))  # noqa: E731
    with torch.no_grad():
        g_torch = g_t(nchw(a)).numpy().transpose(0, 2, 3, 1)
        d_torch = d_t(nchw(a)).numpy().transpose(0, 2, 3, 1)
    out = {"width": width, "batch": batch, "side": SIZE,
           "g_params": count_params(g_t), "d_params": count_params(d_t)}
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

def bench_setting(name: str, args, log, peak: float) -> dict:
    batch = SETTINGS[name]
    a, b = stand_in_domains()
    t0 = time.perf_counter()
    ours = GanJaxCycleGAN(a, b, batch, args.width)
    log(f"  built gan_jax in {time.perf_counter() - t0:.1f} s")
    contenders = [ours, TorchCycleGAN(a, b, batch, args.width, args.width)]
    structure = structure_check(ours, contenders[1], batch)
    log(f"  structure check passed: parameters {structure['gan_jax']}, G output "
        f"{structure['g_output']}, D output {structure['d_output']}")
    if args.torch_official:
        contenders.append(TorchCycleGAN(a, b, batch, args.width, args.width, style="official"))
    for c in contenders:
        w = warm(c, args)
        log(f"  warmed {c.name}: {w['warmup_s']:.1f} s, {w['per_call_s'] * 1e3:.0f} ms/step, "
            f"{c.calls_per_round} steps/round")
    load_before = os.getloadavg()
    rates = run_rounds(contenders, args.rounds, log)
    flops = step_flops(batch, args.width)
    base = float(np.median(rates["torch eager"]))
    out = {"batch": batch, "side": SIZE, "width": args.width, "step_gflop": flops / 1e9,
           "structure": structure, "load_average": [load_before, os.getloadavg()],
           "contenders": {}}
    for c in contenders:
        r = np.asarray(rates[c.name])
        med = float(np.median(r))
        out["contenders"][c.name] = {
            "median_steps_per_s": med, "images_per_s": med * batch,
            "ratio_vs_torch_eager": med / base, "gflop_per_s": med * flops / 1e9,
            "fraction_of_matmul_peak": med * flops / peak, "rounds_steps_per_s": rates[c.name],
            "min_max_steps_per_s": [float(r.min()), float(r.max())]}
    # per-round ratios (each round's two rates were taken back to back)
    ratios = np.asarray(rates["gan_jax"]) / np.asarray(rates["torch eager"])
    out["round_ratios"] = ratios.tolist()
    return out


def format_table(results: dict, peak: float) -> str:
    head = (f"{'setting':<8} {'contender':<14} {'steps/s':>8} {'s/step':>7} {'images/s':>9} "
            f"{'x torch':>8} {'GFLOP/s':>8} {'of peak':>8}")
    lines = [f"host: {host_description()}; jax backend: {jax.default_backend()}",
             f"matmul peak (numpy sgemm 2048^3): {peak / 1e9:.1f} GFLOP/s", head, "-" * len(head)]
    for name, res in results.items():
        for cname, r in res["contenders"].items():
            lines.append(f"{name:<8} {cname:<14} {r['median_steps_per_s']:>8.3f} "
                         f"{1 / r['median_steps_per_s']:>7.2f} "
                         f"{r['images_per_s']:>9.3f} {r['ratio_vs_torch_eager']:>7.2f}x "
                         f"{r['gflop_per_s']:>8.1f} {100 * r['fraction_of_matmul_peak']:>7.0f}%")
        q = np.quantile(res["round_ratios"], [0, 0.5, 1])
        lines.append(f"{name}: {res['step_gflop']:.0f} GFLOP per step (18 F_G + 16 F_D, direct); "
                     f"per-round gan_jax/torch ratio min {q[0]:.2f} median {q[1]:.2f} max "
                     f"{q[2]:.2f}; load average {res['load_average'][0][0]:.1f} -> "
                     f"{res['load_average'][1][0]:.1f}")
    return "\n".join(lines)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--settings", default="b1,b4", help="comma-separated: b1, b4")
    p.add_argument("--width", type=int, default=None,
                   help="G's and D's base width (default: the paper's 64; 8 with --check)")
    p.add_argument("--rounds", type=int, default=8)
    p.add_argument("--round-seconds", type=float, default=10.0)
    p.add_argument("--iters", type=int, default=0,
                   help="> 0: this many steps per round (and no round sizing)")
    p.add_argument("--torch-official", action="store_true",
                   help="also time the official code's networks (conv bias, non-affine norm)")
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
        result = check(args.width)
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
        log(f"[{name}] batch {SETTINGS[name]}, {SIZE}x{SIZE}, width {args.width}")
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
