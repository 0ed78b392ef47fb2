"""The toys' numbers: 1-D (Wasserstein-1 and Kolmogorov-Smirnov distance to n data samples,
W1 in units of the data's std, the samples' mean and std) and 2-D mixtures (modes covered,
high-quality fraction and KL to uniform, `gan_jax.metrics.modes`)."""
import jax
import numpy as np

from gan_jax.metrics.distances import ks_statistic, wasserstein_1d
from gan_jax.metrics.modes import mode_statistics

REAL_KEY = 0xE7A1 + 1     # the data samples' key: fold_in(key(seed), REAL_KEY)


class ToyMetrics:
    known = ()

    def __init__(self, context, distribution):
        self.context, self.distribution = context, distribution

    def __call__(self, fake, cond=None):
        dist = self.distribution
        n = len(fake)
        real_key = jax.random.fold_in(jax.random.key(self.context.seed), REAL_KEY)
        real = np.asarray(dist.sample(real_key, np.arange(n)))
        if dist.dim == 1:
            w1 = wasserstein_1d(fake[:, 0], real[:, 0])
            return dict(wasserstein_1=w1, ks_statistic=ks_statistic(fake[:, 0], real[:, 0]),
                        data_std=dist.std, w1_over_std=w1 / dist.std,
                        generated_mean=float(fake.mean()), generated_std=float(fake.std())).items()
        return mode_statistics(fake, dist.centres, float(dist.stds[0])).items()
