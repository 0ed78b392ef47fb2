"""Speed of evaluation: the metrics of 10,000 generated MNIST-sized samples, and Inception features.

    PYTHONPATH=. python experiments/bench_metrics.py [--num_samples 10000] [--rounds 3]
        [--inception_images 100] [--json out.json]

What is timed (medians over rounds, after a warm-up call that holds the compiles):
- `mnist_features`: the shipped MNIST LeNet's features and logits of N images (jitted, batched);
- `frechet`: Gaussian statistics of N features plus the Fréchet distance to the reference's;
- `kid`: KID between the N features and the reference's (100 subsets of 1,000);
- `pr_dc`: precision, recall, density and coverage (k = 5);
- `inception_score`: the MNIST score of the N logits (10 splits);
- `parzen`: Parzen log-likelihood in pixel space (sigma grid of 10 on 250 validation images,
  then 250 test images, kernels on the N samples);
- `total_fid_kid`: mnist_features + frechet + kid, the figure the issue asks for;
- `inception_images_per_s`: InceptionV3 (FID variant, 299x299 after the resize) on
  `--inception_images` 28x28 grey images, with randomly initialised weights (speed does not
  depend on the weights' values), batch 50.
The N "generated" images are real offline digits drawn with replacement (speed does not depend
on pixel values); the reference is the 4,500-digit training split, as in the trainer's
evaluation. Results are printed as a table and optionally written as JSON.
"""
import argparse
import json
import os
import platform
import statistics
import time

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from gan_jax.data.images import load_images, to_model_range  # noqa: E402
from gan_jax.metrics import compare  # noqa: E402
from gan_jax.metrics.features.inception import InceptionV3  # noqa: E402
from gan_jax.metrics.features.inception_extractor import InceptionExtractor  # noqa: E402
from gan_jax.metrics.features.lenet import MnistExtractor  # noqa: E402
from gan_jax.metrics.frechet import frechet_distance, gaussian_statistics  # noqa: E402


def timed(fn, rounds: int):
    """(median seconds, result) of `rounds` calls after one warm-up call."""
    result = fn()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--num_samples", type=int, default=10_000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--inception_images", type=int, default=100)
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)

    train = to_model_range(load_images("mnist_offline", "train")[0])
    held_out = to_model_range(load_images("mnist_offline", "test")[0])
    rng = np.random.default_rng(0)
    fake = np.concatenate([train, held_out])[rng.integers(0, 5000, args.num_samples)]
    extractor = MnistExtractor()
    real = extractor(train)
    mu, sigma = gaussian_statistics(real.features)

    results = {}
    results["mnist_features"], feats = timed(lambda: extractor(fake), args.rounds)
    results["frechet"], fid = timed(lambda: frechet_distance(
        mu, sigma, *gaussian_statistics(feats.features)), args.rounds)
    results["kid"], _ = timed(lambda: compare.feature_metrics(real, feats, ("kid",)), args.rounds)
    results["pr_dc"], _ = timed(lambda: compare.feature_metrics(real, feats, ("pr", "dc")),
                                args.rounds)
    results["inception_score"], _ = timed(lambda: compare.feature_metrics(real, feats, ("is",)),
                                          args.rounds)
    results["parzen"], _ = timed(lambda: compare.parzen_metrics(
        fake, held_out[:250], held_out[250:]), max(1, args.rounds // 2))
    results["total_fid_kid"] = results["mnist_features"] + results["frechet"] + results["kid"]

    module = InceptionV3()
    variables = jax.jit(module.init)(jax.random.key(0), jnp.zeros((1, 299, 299, 3)))
    inception = InceptionExtractor(variables=variables, batch_size=50)
    images = fake[:args.inception_images]
    seconds, _ = timed(lambda: inception(images), 1)
    results["inception_images_per_s"] = len(images) / seconds

    width = max(map(len, results))
    print(f"{args.num_samples} samples, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, jax {jax.__version__} ({jax.default_backend()})")
    for name, value in results.items():
        unit = "images/s" if name.endswith("per_s") else "s"
        print(f"  {name:<{width}}  {value:8.2f} {unit}")
    print(f"  (FID of the resampled real digits: {fid:.3f})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"num_samples": args.num_samples, "results": results,
                       "backend": jax.default_backend(), "cores": os.cpu_count()}, f, indent=2)


if __name__ == "__main__":
    main()
