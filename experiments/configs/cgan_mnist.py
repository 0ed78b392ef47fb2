"""The conditional GAN of Mirza & Osindero (2014) on MNIST (the offline 4,500 real digits): MLPs
that see the class label, G(z, y) and D(x, y).

    python -m gan_jax.train --config experiments/configs/cgan_mnist.py --workdir runs/cgan_mnist
    python -m gan_jax.sample --workdir runs/cgan_mnist --label 7      # 64 sevens

G 100+10 -> 256 -> 512 -> 784 (LeakyReLU 0.2, tanh output), z ~ N(0, I); D 784+10 -> 512 -> 256
-> 1 (LeakyReLU 0.2): the label's one-hot joined to z and to the image (the paper's joint input),
scaled to weigh as much as each (x sqrt(100) in G, x sqrt(784) in D; gan_jax.nets.layers). Adam lr
2e-4, beta1 0.5, batch 64 (G conditioned on the real minibatch's labels), 10,000 steps, samples
and evaluation from an EMA of G (decay 0.999). Departures from the paper, for a short CPU run:
one joint input layer instead of separate z (200) and y (1000) layers, LeakyReLU instead of
maxout units and dropout in D, Adam instead of SGD with momentum and a decaying rate.

Measured here (2 quiet CPU cores; ~150 steps/s): 1 min 20 s wall for the training and the end-of-run
evaluation (10,000 samples for the test split's labels, judged by the shipped MNIST LeNet;
held-out real digits in brackets, `python -m gan_jax.evaluate --workdir DIR --baseline`):
class accuracy 96.3 % (real 98.6 %), worst class 89.6 % (the 9s; per class 0-9: 98.6, 99.5,
95.2, 98.1, 98.1, 95.6, 98.2, 98.2, 91.4, 89.6), intra-class FID 47.4 (500 real digits, ~50 a
class: 32.7), MNIST FID 24.9 (7.5), MNIST score 9.47 (9.15), precision 0.94 (0.97), recall 0.49
(0.95), all 10 classes covered; Parzen log-likelihood 193.6 +- 13.5 (real digits under kernels
on the training set: 211.0 +- 13.7; Mirza & Osindero report 132 +- 1.8 on the full MNIST test
set, and Parzen estimates are unreliable in 784 dimensions, Theis et al. 2016). Each row of the
grid (docs/cgan_mnist_samples.png) is its class. With the unscaled one-hot the same run reached
88.6 % (G ignored the label for its first ~4,000 steps). --config.conditional.conditioning=
projection (Miyato & Koyama's projection D): 98.0 %, worst class 94.9 %, FID 26.7, intra-class
FID 44.3, 1 min 29 s.
"""
from experiments.configs import mlp_mnist_large


def get_config():
    c = mlp_mnist_large.get_config()   # its nets, optimiser, batch, EMA and write intervals
    c.gan.family = "conditional"
    c.conditional.conditioning = "concat"
    c.train.steps = 10_000
    return c
