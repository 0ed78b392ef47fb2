"""Speed of the full GAN training step: gan_jax against the same GAN in PyTorch eager, one process.

    PYTHONPATH=. python experiments/bench_train_step.py [--rounds 10] [--configs mlp_mnist,gan_1d]
        [--round-seconds 1.0] [--json bench.json] [--torch-compile] [--torch-reuse-fake]

A step is one discriminator update on a real and a fake minibatch and one generator update with
the config's generator loss (non-saturating by default), each with a fresh noise minibatch, as in
Algorithm 1 of Goodfellow et al. (2014) and as `gan_jax.train.step` does it.

gan_jax runs exactly as `gan_jax.train.loop.train` does: `build_run(config)`, then per call
`host_batches(...)` (host-side batch creation, included in the timing) and `mapper(state, batch)`,
which runs `train.steps_per_call` steps fused with `lax.scan`. It is timed at the config's own
steps_per_call and at 1, with mapper 'pmap' and 'shard_map', on one device.

PyTorch runs the same layer sizes, activations, losses (BCE-with-logits, i.e. log-sigmoid in logit
space) and Adam settings in eager mode: zero_grad, forward, backward, step for D (on detached
fakes), then for G. Real minibatches are drawn at random from a tensor held in memory: the same
uint8 images gan_jax trains on, or for a toy distribution a pool of pre-drawn samples.

Hygiene (docs/design.md, "Benchmark hygiene"): both frameworks are built in this one process and
warmed up (compiled) first; rounds of about `--round-seconds` each are then interleaved (the
contenders' order rotates every round), each round ends blocked on its results, and the table
reports the median steps/s over the rounds and the ratio of medians. PyTorch gets
`torch.set_num_threads(2)` and `OMP_WAIT_POLICY=PASSIVE` (set before torch is imported).
`--torch-compile` adds torch.compile'd G and D (the optimizer steps stay eager);
`--torch-reuse-fake` adds the common PyTorch loop that reuses D's fakes for the G update (one G
forward fewer than gan_jax's step).
"""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch (and its OpenMP) loads

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import jax  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from gan_jax.config import load_experiment  # noqa: E402
from gan_jax.train.loop import build_run, host_batches  # noqa: E402

TORCH_THREADS = 2
TOY_POOL = 1 << 16          # pre-drawn real examples for a toy distribution (PyTorch side)
MAPPERS = ("pmap", "shard_map")


# ----------------------------------------------------------------------------------------------
# gan_jax
# ----------------------------------------------------------------------------------------------

def load_config(name: str, mapper: str = "pmap", steps_per_call=None):
    """experiments/configs/NAME.py on one device, with the given mapper and steps_per_call."""
    config = load_experiment(name)      # the CLI's loader
    t = config.train
    t.num_devices = 1
    t.mapper = mapper
    t.progress = False
    if steps_per_call is not None:
        t.steps_per_call = steps_per_call
    return config


class GanJaxContender:
    """gan_jax's real training path: host_batches -> mapper(state, batch), steps_per_call steps."""

    framework = "gan_jax"

    def __init__(self, config):
        t = config.train
        self.name = f"gan_jax {t.mapper} spc={t.steps_per_call}"
        self.train_config = t
        self.steps_per_call = t.steps_per_call
        self.data, _, state, self.mapper = build_run(config)
        self.state = self.mapper.put_state(state)
        self.position = 0
        self.metrics = None

    def call(self):
        """One compiled call (steps_per_call steps), host batch creation included; no blocking."""
        batch, self.position = host_batches(self.data, self.position, self.train_config)
        self.state, self.metrics = self.mapper(self.state, batch)

    def block(self):
        jax.block_until_ready((self.state, self.metrics))


# ----------------------------------------------------------------------------------------------
# PyTorch eager
# ----------------------------------------------------------------------------------------------

TORCH_ACTIVATIONS = {
    "relu": torch.nn.ReLU,
    "leaky_relu": lambda: torch.nn.LeakyReLU(0.2),
    "tanh": torch.nn.Tanh,
    "elu": torch.nn.ELU,
    "softplus": torch.nn.Softplus,
}


def torch_mlp(sizes, activation: str, output: str = "linear"):
    """Linear layers of `sizes` (PyTorch's default init), `activation` between, then `output`."""
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(TORCH_ACTIVATIONS[activation]())
    if output == "tanh":
        layers.append(torch.nn.Tanh())
    elif output != "linear":
        raise ValueError(f"unsupported generator output {output!r}")
    return torch.nn.Sequential(*layers)


def torch_optimizer(params, cfg):
    if cfg.name == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, betas=(cfg.b1, cfg.b2))
    if cfg.name == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov)
    raise ValueError(f"unsupported optimizer {cfg.name!r}")


def torch_real_pool(data) -> torch.Tensor:
    """Real examples held in memory: the stream's uint8 images [N, prod(shape)] (as gan_jax
    reads them), or a float pool of pre-drawn samples of a toy distribution."""
    if data.kind == "image":
        return torch.from_numpy(data.images.reshape(len(data.images), -1).copy())
    dist = data.distribution
    rng = np.random.default_rng(0)
    mode = rng.choice(len(dist.weights), size=TOY_POOL, p=dist.weights)
    x = dist.centres[mode] + dist.stds[mode, None] * rng.standard_normal((TOY_POOL, dist.dim))
    return torch.from_numpy(x.astype(np.float32))


class TorchContender:
    """The same GAN in PyTorch eager: a normal zero_grad/forward/backward/step training loop."""

    framework = "torch"
    steps_per_call = 1

    def __init__(self, config, data, compile_nets: bool = False, reuse_fake: bool = False):
        m, t = config.model, config.train
        if m.g_batch_norm or m.d_batch_norm:
            raise ValueError("the PyTorch twin has no BatchNorm; use a config without it")
        torch.manual_seed(config.seed)
        example_dim = math.prod(data.example_shape)
        self.g = torch_mlp((m.latent_dim, *m.g_hidden, example_dim), m.g_activation, m.g_output)
        self.d = torch_mlp((example_dim, *m.d_hidden, 1), m.d_activation)
        self.opt_g = torch_optimizer(self.g.parameters(), config.optim.g)
        self.opt_d = torch_optimizer(self.d.parameters(), config.optim.d)
        self.g_net = torch.compile(self.g) if compile_nets else self.g
        self.d_net = torch.compile(self.d) if compile_nets else self.d
        self.real = torch_real_pool(data)
        self.images = data.kind == "image"
        self.batch_size, self.latent_dim = t.batch_size, m.latent_dim
        self.uniform = m.latent_distribution == "uniform"
        self.saturating = config.loss.name == "minimax"
        self.reuse_fake = reuse_fake
        self.ones = torch.ones(t.batch_size)
        self.zeros = torch.zeros(t.batch_size)
        mode = (" compiled" if compile_nets else " eager") + (" reuse-fake" if reuse_fake else "")
        self.name = "torch" + mode

    def real_batch(self):
        x = self.real[torch.randint(len(self.real), (self.batch_size,))]
        return x.float() / 127.5 - 1.0 if self.images else x

    def latent(self):
        if self.uniform:
            return torch.rand(self.batch_size, self.latent_dim) * 2.0 - 1.0
        return torch.randn(self.batch_size, self.latent_dim)

    def g_objective(self, fake_logits):
        if self.saturating:  # E[log(1 - D(G(z)))] = -BCE(logits, 0)
            return -F.binary_cross_entropy_with_logits(fake_logits, self.zeros)
        return F.binary_cross_entropy_with_logits(fake_logits, self.ones)  # -E[log D(G(z))]

    def call(self):
        """One training step: a D update on real + detached fakes, then a G update."""
        fake = self.g_net(self.latent())
        self.opt_d.zero_grad(set_to_none=True)
        real_logits = self.d_net(self.real_batch()).view(-1)
        fake_logits = self.d_net(fake.detach()).view(-1)
        d_loss = (F.binary_cross_entropy_with_logits(real_logits, self.ones)
                  + F.binary_cross_entropy_with_logits(fake_logits, self.zeros))
        d_loss.backward()
        self.opt_d.step()
        if not self.reuse_fake:  # fresh noise for G, as gan_jax (and Algorithm 1) do
            fake = self.g_net(self.latent())
        self.opt_g.zero_grad(set_to_none=True)
        g_loss = self.g_objective(self.d_net(fake).view(-1))
        g_loss.backward()
        self.opt_g.step()

    def block(self):
        pass  # CPU eager: every op has finished when call() returns


# ----------------------------------------------------------------------------------------------
# Timing
# ----------------------------------------------------------------------------------------------

def timed_calls(contender, n_calls: int) -> float:
    """Seconds for n_calls calls, blocked on the last result."""
    t0 = time.perf_counter()
    for _ in range(n_calls):
        contender.call()
    contender.block()
    return time.perf_counter() - t0


def warm_up(contender, round_seconds: float) -> dict:
    """Compile/warm up, then size a round to about round_seconds; returns timings of warm-up."""
    # Two calls: pmap compiles twice (its output state's sharding differs from put_state's),
    # and neither compile may land in a timed round.
    t0 = time.perf_counter()
    for _ in range(2):
        timed_calls(contender, 1)
    first = time.perf_counter() - t0
    n = 1
    while (seconds := timed_calls(contender, n)) < 0.25:  # settle, and estimate a call
        n *= 2
    per_call = seconds / n
    contender.calls_per_round = max(1, round(round_seconds / max(per_call, 1e-6)))
    return {"warmup_s": first, "per_call_s": per_call, "calls_per_round": contender.calls_per_round}


def run_rounds(contenders, rounds: int, log) -> dict:
    """Interleave rounds of all contenders (order rotated each round); steps/s of each round."""
    rates = {c.name: [] for c in contenders}
    for r in range(rounds):
        shift = r % len(contenders)
        for c in contenders[shift:] + contenders[:shift]:
            seconds = timed_calls(c, c.calls_per_round)
            rates[c.name].append(c.calls_per_round * c.steps_per_call / seconds)
        log(f"  round {r + 1}/{rounds}: " + ", ".join(
            f"{name} {v[-1]:.0f}" for name, v in rates.items()))
    return rates


def build_contenders(name: str, args, log):
    """All contenders of one config: gan_jax at (own spc, 1) x (pmap, shard_map), then PyTorch."""
    own_spc = load_config(name).train.steps_per_call
    contenders = []
    for spc in dict.fromkeys((own_spc, 1)):
        for mapper in MAPPERS:
            t0 = time.perf_counter()
            contenders.append(GanJaxContender(load_config(name, mapper, spc)))
            log(f"  built {contenders[-1].name} in {time.perf_counter() - t0:.1f} s")
    data = contenders[0].data
    config = load_config(name)
    contenders.append(TorchContender(config, data, compile_nets=False))
    if args.torch_reuse_fake:
        contenders.append(TorchContender(config, data, reuse_fake=True))
    if args.torch_compile:
        contenders.append(TorchContender(config, data, compile_nets=True))
    return contenders, data


def bench_config(name: str, args, log) -> dict:
    log(f"[{name}] building and warming up")
    contenders, data = build_contenders(name, args, log)
    warm = {}
    for c in contenders:
        warm[c.name] = warm_up(c, args.round_seconds)
        log(f"  warmed {c.name}: {warm[c.name]['warmup_s']:.1f} s, "
            f"{warm[c.name]['per_call_s'] * 1e3:.2f} ms/call, "
            f"{warm[c.name]['calls_per_round']} calls/round")
    log(f"[{name}] {args.rounds} interleaved rounds")
    rates = run_rounds(contenders, args.rounds, log)
    baseline = float(np.median(rates["torch eager"]))
    config = load_config(name)
    results = {}
    for c in contenders:
        med = float(np.median(rates[c.name]))
        results[c.name] = {
            "framework": c.framework, "steps_per_call": c.steps_per_call,
            "median_steps_per_s": med,
            "q25_steps_per_s": float(np.percentile(rates[c.name], 25)),
            "q75_steps_per_s": float(np.percentile(rates[c.name], 75)),
            "ratio_vs_torch_eager": med / baseline,
            "rounds_steps_per_s": rates[c.name], **warm[c.name]}
    return {"batch_size": config.train.batch_size,
            "real_data": describe_data(data),
            "contenders": results}


def describe_data(data) -> str:
    if data.kind == "image":
        return (f"offline MNIST digits, {len(data.images)} uint8 images "
                f"{tuple(data.images.shape[1:])} (gan_jax ImageStream; PyTorch indexes the same "
                "array held as a tensor)")
    return (f"toy {data.distribution.name} (gan_jax samples it on device from example indices; "
            f"PyTorch indexes a pool of {TOY_POOL} pre-drawn samples)")


# ----------------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------------

def format_table(results: dict) -> str:
    head = (f"{'config':<10} {'contender':<28} {'steps/call':>10} {'median steps/s':>15} "
            f"{'IQR':>17} {'x torch eager':>14}")
    lines = [head, "-" * len(head)]
    for config, res in results.items():
        for name, r in res["contenders"].items():
            iqr = f"{r['q25_steps_per_s']:.0f}-{r['q75_steps_per_s']:.0f}"
            lines.append(f"{config:<10} {name:<28} {r['steps_per_call']:>10} "
                         f"{r['median_steps_per_s']:>15.1f} {iqr:>17} "
                         f"{r['ratio_vs_torch_eager']:>13.2f}x")
    return "\n".join(lines)


def metadata(args) -> dict:
    return {
        "jax": jax.__version__, "torch": torch.__version__, "python": platform.python_version(),
        "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY"),
        "jax_devices": [str(d) for d in jax.devices()],
        "rounds": args.rounds, "round_seconds": args.round_seconds,
        "torch_compile": bool(args.torch_compile),
        "timing_includes": "gan_jax: host_batches (host batch creation) + put_batch + compiled "
                           "call, blocked at the end of each round; PyTorch: the whole eager "
                           "step including real-batch indexing and noise sampling",
    }


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=10, help="interleaved timed rounds (>= 10)")
    p.add_argument("--configs", default="mlp_mnist,gan_1d",
                   help="comma-separated names in experiments/configs")
    p.add_argument("--round-seconds", type=float, default=1.0, help="target length of a round")
    p.add_argument("--json", default="", help="write the figures to this path")
    p.add_argument("--torch-compile", action="store_true",
                   help="also time torch.compile'd G and D (~15 s of compiling per config)")
    p.add_argument("--torch-reuse-fake", action="store_true",
                   help="also time the PyTorch loop that reuses D's fakes for the G update")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(TORCH_THREADS)
    start = time.perf_counter()

    def log(msg):
        print(f"[{time.perf_counter() - start:6.1f} s] {msg}", flush=True)

    log(f"load average before: {os.getloadavg()}")
    results = {name: bench_config(name, args, log) for name in args.configs.split(",") if name}
    meta = {**metadata(args), "load_average_after": os.getloadavg(),
            "total_s": time.perf_counter() - start}
    print()
    print(format_table(results))
    for name, res in results.items():
        print(f"{name}: batch {res['batch_size']}; real data: {res['real_data']}")
    print("gan_jax timings include host batch creation (host_batches) and the batch's transfer; "
          "every round ends in jax.block_until_ready.")
    if not args.torch_compile:
        print("torch.compile: not used (opt in with --torch-compile; on gan_1d here it compiled "
              "in ~13 s and ran slower than eager, 90 vs 143 steps/s).")
    print(f"total {meta['total_s']:.0f} s; load average after: {meta['load_average_after']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "results": results}, f, indent=2)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
