"""Multilayer-perceptron generator and discriminator (the original GAN's networks).

Goodfellow et al. (2014) used MLPs for both players: G maps noise z to a sample, D maps a sample
to one logit (D(x) = sigmoid(logit)). The same two modules serve the 1-D toy (out_shape=(1,)),
the 2-D mixtures (out_shape=(2,)) and MNIST (out_shape=(28, 28, 1), tanh output in [-1, 1]).

Class conditioning (`num_classes` > 0; Mirza & Osindero 2014): G sees [z, s_z one_hot(y)] and D
sees [x, s_x one_hot(y)] (`conditioning='concat'`, the paper's joint input), or D adds the
projection term <embed(y), h(x)> of Miyato & Koyama (2018) to its logit, h(x) being its last
hidden layer (`conditioning='projection'`). The one-hot is scaled to weigh as much as the input
it joins (`label_input`: s_z = sqrt(latent_dim) = 10, s_x = sqrt(784) = 28 for MNIST). Measured
on the offline digits (experiments/configs/cgan_mnist.py, 10,000 steps, 1,000 samples judged by
the MNIST LeNet): the unscaled one-hot gave 88.9 % class accuracy (G ignored the label for the
first ~4,000 steps), scaling G's 93.6 %, scaling both 96.3 %. `spectral_norm` normalises every
Dense layer of D.

`generator(config, info)` / `discriminator(config, info)` build them from a run's config
(model.*) and its data (`gan_jax.data.info.DataInfo`); the net registry calls these.
"""
import math
from typing import Optional, Sequence

import flax.linen as nn
import jax.numpy as jnp

from gan_jax.errors import GanJaxError
from gan_jax.nets.layers import CONDITIONINGS, check_label, label_input, spectral
from gan_jax.nets.progressive_layers import minibatch_stddev

ACTIVATIONS = {
    "relu": nn.relu,
    "leaky_relu": lambda x: nn.leaky_relu(x, negative_slope=0.2),
    "tanh": jnp.tanh,
    "elu": nn.elu,
    "softplus": nn.softplus,
}
OUTPUTS = {"tanh": jnp.tanh, "linear": lambda x: x}


def _maybe_batch_norm(h, enabled: bool, train: bool, axis_name):
    """BatchNorm whose training statistics span all devices (axis_name), as one big batch."""
    if not enabled:
        return h
    return nn.BatchNorm(use_running_average=not train, momentum=0.9,
                        axis_name=axis_name if train else None)(h)


def get_activation(name: str):
    if name not in ACTIVATIONS:
        raise GanJaxError(f"unknown activation {name!r}; valid: {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]


class MLPGenerator(nn.Module):
    """z [B, latent] (and labels [B] when conditional) -> x [B, *out_shape]: Dense layers of
    `hidden` widths, then the output."""
    out_shape: Sequence[int]
    hidden: Sequence[int] = (128,)
    activation: str = "relu"
    output: str = "tanh"
    batch_norm: bool = False       # BatchNorm after each hidden Dense
    axis_name: Optional[str] = "batch"  # BatchNorm statistics are averaged over this device axis
    num_classes: int = 0           # > 0: conditioned on a class label (one-hot joined to z)

    @nn.compact
    def __call__(self, z, train: bool = True, label=None):
        act = get_activation(self.activation)
        if self.output not in OUTPUTS:
            raise GanJaxError(f"unknown generator output {self.output!r}; valid: {sorted(OUTPUTS)}")
        label = check_label(label, self.num_classes, z.shape[0], "MLPGenerator")
        h = z
        if label is not None:
            h = jnp.concatenate([z, label_input(label, self.num_classes, z.shape[-1], z.dtype)],
                                -1)
        for width in self.hidden:
            h = nn.Dense(width, use_bias=not self.batch_norm)(h)
            h = act(_maybe_batch_norm(h, self.batch_norm, train, self.axis_name))
        x = OUTPUTS[self.output](nn.Dense(math.prod(self.out_shape))(h))
        return x.reshape((z.shape[0], *self.out_shape))


class MLPDiscriminator(nn.Module):
    """x [B, ...] (and labels [B] when conditional) -> one logit per example [B];
    D(x) = sigmoid(logit)."""
    hidden: Sequence[int] = (128,)
    activation: str = "leaky_relu"
    batch_norm: bool = False       # BatchNorm after each hidden Dense but the first
    axis_name: Optional[str] = "batch"
    spectral_norm: bool = False    # spectrally normalise every Dense layer
    num_classes: int = 0           # > 0: conditioned on a class label
    conditioning: str = "concat"   # concat (one-hot joined to x) | projection
    mbstd_group: int = 0           # > 0: minibatch standard deviation before the logit layer

    @nn.compact
    def __call__(self, x, train: bool = True, label=None):
        act = get_activation(self.activation)
        if self.conditioning not in CONDITIONINGS:
            raise GanJaxError(f"unknown conditioning {self.conditioning!r}; valid: "
                              f"{CONDITIONINGS}")
        label = check_label(label, self.num_classes, x.shape[0], "MLPDiscriminator")
        h = x.reshape((x.shape[0], -1))
        if label is not None and self.conditioning == "concat":
            h = jnp.concatenate([h, label_input(label, self.num_classes, h.shape[-1], h.dtype)],
                                -1)
        for i, width in enumerate(self.hidden):
            norm = self.batch_norm and i > 0
            h = spectral(nn.Dense(width, use_bias=not norm), self.spectral_norm, train)(h)
            h = act(_maybe_batch_norm(h, norm, train, self.axis_name))
        if self.mbstd_group:
            h = minibatch_stddev(h, self.mbstd_group)
        logit = spectral(nn.Dense(1), self.spectral_norm, train)(h)[:, 0]
        if label is not None and self.conditioning == "projection":
            embed = nn.Embed(self.num_classes, h.shape[-1], name="label_projection")(label)
            logit = logit + jnp.sum(embed * h, axis=-1)
        return logit


def generator(config, info, num_classes: int = 0):
    """G of model.* for data `info` (its example shape), conditioned on `num_classes` labels."""
    m = config.model
    _float32_only(m)
    return MLPGenerator(out_shape=tuple(info.example_shape), hidden=tuple(m.g_hidden),
                        activation=m.g_activation, output=m.g_output, batch_norm=m.g_batch_norm,
                        num_classes=num_classes)


def discriminator(config, info, num_classes: int = 0, conditioning: str = "concat"):
    """D of model.* (d_hidden, d_activation, d_batch_norm, spectral_norm)."""
    m = config.model
    _float32_only(m)
    return MLPDiscriminator(hidden=tuple(m.d_hidden), activation=m.d_activation,
                            batch_norm=m.d_batch_norm, spectral_norm=m.spectral_norm,
                            num_classes=num_classes, conditioning=conditioning,
                            mbstd_group=m.mbstd_group)


def _float32_only(m):
    if m.compute_dtype != "float32":
        raise GanJaxError(f"model.compute_dtype={m.compute_dtype!r} is a DCGAN option; the "
                          "MLP nets compute in float32 (set model.compute_dtype='float32')")


def has_batch_norm(config, player: str) -> bool:
    """Whether G ('g') or D ('d') of model.* normalises over the batch."""
    m = config.model
    if player == "g":
        return bool(m.g_batch_norm and len(m.g_hidden) > 0)
    return bool(m.d_batch_norm and len(m.d_hidden) > 1)   # D normalises from its 2nd layer on
