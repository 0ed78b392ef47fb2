"""The input pipeline's speed and memory: streamed by random access (`data.streaming=True`)
against the split held in memory, beside the rate at which a training step consumes images.

    PYTHONPATH=. python experiments/bench_data.py [--images 200000] [--seconds 20]
        [--data_dir runs/bench_data/tfds] [--json runs/bench_data/result.json]

1. A synthetic set of `--images` 32x32x3 uint8 images with labels is prepared once, like every
   offline set: a tfds builder writes ArrayRecord files (uint8 Tensor features; 614 MB for
   200,000 images). Its preparation time is reported.
2. Each pipeline mode runs in its own child process, so each peak memory is its own: VmHWM
   (the peak resident set, reset by exec; ru_maxrss is not, and would carry the preparing
   parent's peak into the child), plus its read workers' peaks:
   - `memory`: the whole split loaded (`load_images`' way), then batches taken from it;
   - `stream`: `ImageStream.from_records`, each batch's records read and decoded on demand;
   - `stream_half`: the rows of process 0 of 2 (what each process of a 2-process run reads);
   - `stream_wN`: `stream` read ahead by N worker processes (`data.read_workers=N`).
   A mode reads consecutive calls of `host_batches` (batch 128, the DCGAN CIFAR-10 config's,
   k = 1) for `--seconds` after 5 s of warm-up (which includes the read workers' start, ~3 s),
   and reports images/s.
3. The consumption rate: the DCGAN CIFAR-10 training step (`experiments/configs/dcgan_cifar10.py`,
   widths 64, batch 128) on this machine's XLA devices, fed by the streamed set, in images/s
   (steps/s x 128), measured after compilation. The pipeline keeps up when its images/s exceed it.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

SIDE, CLASSES, BATCH = 32, 10, 128
NAME = "synthetic_images32"


def prepare(data_dir: str, count: int) -> str:
    """Writes the synthetic set once (tfds, ArrayRecord); returns its version directory."""
    import tensorflow_datasets as tfds
    from etils import epath
    from tensorflow_datasets.core import registered

    with registered.skip_registration():
        class SyntheticImages32(tfds.core.GeneratorBasedBuilder):
            """Seeded random 32x32x3 images (speed does not depend on pixel values)."""
            VERSION = tfds.core.Version(f"1.0.{count}")
            code_path = epath.Path(__file__)

            def _info(self):
                return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict({
                    "image": tfds.features.Tensor(shape=(SIDE, SIDE, 3), dtype=np.uint8),
                    "label": tfds.features.ClassLabel(num_classes=CLASSES)}),
                    disable_shuffling=True)

            def _split_generators(self, dl_manager):
                return {"train": self._generate_examples()}

            def _generate_examples(self):
                rng = np.random.default_rng(0)
                for start in range(0, count, 4096):
                    n = min(4096, count - start)
                    images = rng.integers(0, 256, (n, SIDE, SIDE, 3), np.uint8)
                    for i in range(n):
                        yield start + i, {"image": images[i], "label": (start + i) % CLASSES}

        SyntheticImages32.name = NAME
        builder = SyntheticImages32(data_dir=data_dir, file_format="array_record")
        if not os.path.exists(os.path.join(builder.data_dir, "dataset_info.json")):
            builder.download_and_prepare(
                file_format="array_record",
                download_config=tfds.download.DownloadConfig(try_download_gcs=False,
                                                             num_shards=8))
        return builder.data_dir


def _stream(version_dir: str, mode: str):
    import tensorflow_datasets as tfds
    from gan_jax.data.images import _read_all
    from gan_jax.data.records import RecordTable
    from gan_jax.data.stream import ImageStream
    source = tfds.builder_from_directory(version_dir).as_data_source(split="train")
    if mode == "memory":
        images, labels = _read_all(source)
        return ImageStream(images, labels, seed=0, num_classes=CLASSES)
    table = RecordTable(source, {"x": "image", "label": "label"}, name=NAME)
    stream = ImageStream.from_records(table, seed=0, num_classes=CLASSES)
    if "_w" in mode:
        from gan_jax.data.prefetch import Prefetched
        return Prefetched(stream, int(mode.rsplit("_w", 1)[1]))
    return stream


def pipeline(version_dir: str, mode: str, seconds: float, warmup: float = 5.0) -> dict:
    """One mode's images/s and this process's peak memory (run in a child process)."""
    import ml_collections
    from gan_jax.train.loop import host_batches
    t0 = time.perf_counter()
    data = _stream(version_dir, mode)
    open_s = time.perf_counter() - t0
    t = ml_collections.ConfigDict(dict(steps_per_call=1, d_steps=1, batch_size=BATCH))
    rows = np.arange(BATCH // 2) if mode == "stream_half" else None
    position, start = 0, time.perf_counter()
    while time.perf_counter() - start < warmup:     # warm-up (and the read workers' start)
        batch, position = host_batches(data, position, t, rows)
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        batch, position = host_batches(data, position, t, rows)
        calls += 1
    elapsed = time.perf_counter() - start
    per_call = len(rows) if rows is not None else BATCH
    peak = _peak_of(os.getpid())
    pool = getattr(data, "_pool", None)
    if pool is not None:        # the workers' peaks, read before they exit
        peak += sum(_peak_of(p) for p in pool._processes)
    return {"mode": mode, "images_per_s": calls * per_call / elapsed, "open_s": open_s,
            "calls": calls, "peak_rss_mb": peak, "size": data.size}


def _peak_of(pid: int) -> float:
    """A live process's peak resident memory in MB (Linux /proc; 0 where unreadable)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            return next(int(ln.split()[1]) for ln in f if ln.startswith("VmHWM")) / 1024
    except (OSError, StopIteration):
        return 0.0


def consumption(version_dir: str, calls: int = 6) -> dict:
    """The DCGAN CIFAR-10 step's images/s on this machine, fed by the streamed set."""
    import jax
    from experiments.configs import dcgan_cifar10
    from gan_jax.train.loop import build_run, host_batches
    from gan_jax.train.parallel import select_devices
    config = dcgan_cifar10.get_config()
    config.train.progress = False
    data = _stream(version_dir, "stream")
    _, _, state, mapper = build_run(config, select_devices(config.train.num_devices), data=data)
    state = mapper.put_state(state)
    position, times = 0, []
    for i in range(calls + 1):
        batch, position = host_batches(data, position, config.train)
        start = time.perf_counter()
        state, metrics = mapper(state, batch, step=i)
        jax.block_until_ready(metrics)
        times.append(time.perf_counter() - start)
    step_s = float(np.median(times[1:]))             # the first call compiles
    return {"step_s": step_s, "images_per_s": BATCH / step_s, "devices": len(jax.devices()),
            "backend": jax.default_backend()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--data_dir", default="runs/bench_data/tfds")
    parser.add_argument("--json", default="runs/bench_data/result.json")
    parser.add_argument("--modes", default="stream,stream_half,stream_w2,memory")
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.makedirs(args.data_dir, exist_ok=True)
    if args.child:                        # one measurement in this (fresh) process
        version_dir = prepare(args.data_dir, args.images)
        out = consumption(version_dir) if args.child == "step" else \
            pipeline(version_dir, args.child, args.seconds)
        print("RESULT " + json.dumps(out), flush=True)
        return
    start = time.perf_counter()
    prepare(args.data_dir, args.images)
    result = {"images": args.images, "prepare_s": time.perf_counter() - start, "modes": []}
    print(f"prepared {args.images} images in {result['prepare_s']:.0f} s", flush=True)
    for child in args.modes.split(",") + ["step"]:
        done = subprocess.run([sys.executable, __file__, f"--child={child}",
                               f"--images={args.images}", f"--seconds={args.seconds}",
                               f"--data_dir={args.data_dir}"], capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": os.getcwd()})
        lines = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
        if done.returncode or not lines:
            raise SystemExit(f"{child} failed:\n{done.stderr[-3000:]}")
        out = json.loads(lines[-1][len("RESULT "):])
        print(json.dumps(out), flush=True)
        if child == "step":
            result["step"] = out
        else:
            result["modes"].append(out)
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(result, f, indent=1)
    step = result["step"]["images_per_s"]
    print(f"\n| pipeline | images/s | x the step's use ({step:.0f}/s) | peak memory |")
    print("|---|---|---|---|")
    for m in result["modes"]:
        print(f"| {m['mode']} | {m['images_per_s']:,.0f} | {m['images_per_s'] / step:,.0f}x | "
              f"{m['peak_rss_mb']:,.0f} MB |")


if __name__ == "__main__":
    main()
