"""End-of-run (and periodic) evaluation of a generator, written to eval.json.

- 1-D toy: Wasserstein-1 distance and Kolmogorov-Smirnov statistic between n generated and n
  data samples (n = eval.num_samples, 10,000 by default), and W1 in units of the data's std.
- 2-D mixtures: modes covered, high-quality fraction and KL to uniform (gan_jax.metrics.modes).
- Images: a digit classifier's view of the samples where the data are MNIST digits
  (gan_jax.metrics.digits).
"""
import jax
import numpy as np

from gan_jax.metrics.distances import ks_statistic, wasserstein_1d
from gan_jax.metrics.modes import mode_statistics

EVAL_KEY = 0xE7A1


def generate(spec, g_variables, seed: int, n: int, batch: int = 10_000):
    """n samples from G with a fixed evaluation key (independent of the training keys)."""
    key = jax.random.fold_in(jax.random.key(seed), EVAL_KEY)
    sample = jax.jit(spec.sample, static_argnums=2)
    out = [np.asarray(sample(g_variables, jax.random.fold_in(key, i), min(batch, n - i * batch)))
           for i in range(-(-n // batch))]
    return np.concatenate(out)


def evaluate(spec, g_variables, data, config) -> dict:
    n = int(config.eval.num_samples)
    fake = generate(spec, g_variables, config.seed, n)
    result = {"num_samples": n}
    if data.kind == "toy":
        dist = data.distribution
        real_key = jax.random.fold_in(jax.random.key(config.seed), EVAL_KEY + 1)
        real = np.asarray(dist.sample(real_key, np.arange(n)))
        if dist.dim == 1:
            w1 = wasserstein_1d(fake[:, 0], real[:, 0])
            result.update(wasserstein_1=w1, ks_statistic=ks_statistic(fake[:, 0], real[:, 0]),
                          data_std=dist.std, w1_over_std=w1 / dist.std,
                          generated_mean=float(fake.mean()), generated_std=float(fake.std()))
        else:
            stats = mode_statistics(fake, dist.centres, float(dist.stds[0]))
            result.update(stats)
    else:
        from gan_jax.metrics.digits import digit_metrics, is_digit_data
        if is_digit_data(config):
            result.update(digit_metrics(fake, data_dir=config.data.data_dir or None))
    return result
