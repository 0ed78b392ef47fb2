"""DCGAN on MNIST (the offline 4,500 real digits) conditioned on k-means clusters of the pixels:
no class label is used, and it meets issue 16's goal (MNIST FID <= 30 in ~15 min on a CPU) where
the plain DCGAN (dcgan_mnist) does not.

    python -m gan_jax.train --config experiments/configs/dcgan_mnist_clusters.py \
        --workdir runs/dcgan_mnist_clusters

The training images are split into 20 clusters by k-means on their pixels (`data.pseudo_labels=20`,
gan_jax.data.clusters: k-means++ seeded by the run's seed; the test digits are assigned to the
nearest centre), and the conditional DCGAN (gan.family='conditional', cdcgan_mnist's networks:
G joins the cluster's one-hot to z, D sees a learned per-cluster map as a second channel) is
trained on the cluster ids as labels: a cluster-conditioned GAN (Sage et al. 2018, Liu et al.
2020). The clusters agree with the digit classes only in part (purity 0.70 for 20 clusters); they
give G the data's coarse structure, which the unconditional G must find by itself. Evaluation
samples follow the clusters' frequencies in the test split. Otherwise dcgan_mnist's old recipe
(widths 32, Adam 2e-4 / 0.5, batch 128), an EMA of G (0.995, ramp-up 0.05), 5,000 steps.

dcgan_mnist itself stays the plain, unconditional DCGAN: the latent-space pictures, Stacked
MNIST and the ablation start from it.

Measured: see README, "DCGAN on 4,500 digits".
"""
from experiments.configs import dcgan_mnist


def get_config():
    c = dcgan_mnist.cpu_base_config()
    c.gan.family = "conditional"
    c.conditional.conditioning = "concat"
    c.data.pseudo_labels = 20
    c.train.ema_decay = 0.995
    c.train.ema_rampup = 0.05
    c.train.steps = 5000
    c.train.ckpt_every = 500
    return c
