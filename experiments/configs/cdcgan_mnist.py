"""The conditional DCGAN on MNIST (the offline 4,500 real digits), 28x28x1, sized for a CPU.

    python -m gan_jax.train --config experiments/configs/cdcgan_mnist.py --workdir runs/cdcgan_mnist
    python -m gan_jax.sample --workdir runs/cdcgan_mnist --labels 0,1,2   # a row per label

dcgan_mnist's networks, optimiser and batch (widths 32, Adam 2e-4 / 0.5, batch 128; see
dcgan_mnist.py) with the class label y (gan.family='conditional', gan_jax.nets.dcgan): G joins
y's one-hot, scaled by sqrt(100) to weigh as much as z, to z before the projection; D sees a
learned per-class 28x28 map as a second input channel. 3,000 steps (dcgan_mnist: 2,000), samples
and evaluation from an EMA of G (decay 0.995, a ~200-step window).

Measured here (2 quiet CPU cores, ~11.8 steps/s): 4 min 38 s wall, the end-of-run evaluation
included (with another training on the cores, 4-7 steps/s: 9-14 min). On 10,000
samples for the test split's labels, judged by the shipped MNIST LeNet (held-out real digits in
brackets, `python -m gan_jax.evaluate --workdir DIR --baseline`): class accuracy 96.8 % (real
98.6 %), worst class 91.6 % (the 5s; per class 0-9: 99.3, 99.2, 94.8, 96.7, 97.5, 91.6, 99.3,
96.7, 96.7, 96.1), intra-class FID 33.1 (500 real digits, ~50 a class: 32.7), MNIST FID 10.2
(7.5), MNIST score 9.56 (9.15), precision 0.80 (0.97), recall 0.78 (0.95), all 10 classes
covered; Parzen log-likelihood 151.1 +- 9.1 (real digits under kernels on the training set:
211.0 +- 13.7; Mirza & Osindero's MLP cGAN: 132 +- 1.8 on the full MNIST test set). Each row of
the grid (docs/cdcgan_mnist_samples.png) is its class, clean digits.

On the way (1,000 samples per evaluation unless said): the family's first DCGAN design (a
learned per-class 7x7 map joined after G's projection, and D's per-class input map, both
initialised N(0, 0.02)): 60.0 % after 2,000 steps (10,000 samples; the rows were still alike at
step 500); those maps initialised N(0, 1): 11 % after 1,000 steps; G with the unscaled one-hot
joined to z: 65 % after 1,000 steps, 81 % after 2,000 with the EMA; scaled: 91 % after 2,000,
95.1 % after 2,500, 96.8 % after 3,000 (this config). --config.conditional.conditioning=
projection collapses here: one image per class, 45.2 % on 10,000 samples, four classes at 0 %;
so it does with Miyato & Koyama's setting (--config.model.spectral_norm=True
--config.model.d_norm=none --config.loss.name=hinge): 44.8 %, 7 classes covered.
"""
from experiments.configs import dcgan_mnist


def get_config():
    c = dcgan_mnist.cpu_base_config()
    c.gan.family = "conditional"
    c.conditional.conditioning = "concat"
    c.train.ema_decay = 0.995
    c.train.steps = 3000
    return c
